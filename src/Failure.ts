/**
 * The closed set of failures weir itself produces. Each is a tagged error that says, as data,
 * whether it is `retryable`: safe to send again because the request certainly did not reach (or was
 * not processed by) the server. Requeue filters and response classifiers read that flag and never
 * guess from messages.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"

/**
 * No endpoint can take the request: the destination resolved to an empty set (or a negative name).
 * Not retryable: sending again would find the same empty set.
 *
 * @since 0.1.0
 * @category errors
 */
export class NoBrokersAvailable extends Data.TaggedError("NoBrokersAvailable")<{
  readonly name: string
  readonly dtab?: string | undefined
}> {
  readonly retryable = false
  override get message(): string {
    return `No hosts are available for ${this.name}` + (this.dtab === undefined ? "" : `, Dtab.local=[${this.dtab}]`)
  }
}

/**
 * A timeout fired. `scope` tells which: one attempt (`attempt`), the whole request including its
 * retries (`total`), or an inherited deadline that had already passed before sending (`deadline`).
 * Not retryable by requeues: the server may have seen the request. A `"deadline"` or `"total"` one
 * (`isDeadlineExceeded`) is never retried at all, whatever a classifier says.
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestTimeout extends Data.TaggedError("RequestTimeout")<{
  readonly scope: "attempt" | "total" | "deadline" | "binding"
  readonly timeout: Duration.Duration
}> {
  readonly retryable = false
  override get message(): string {
    return `${this.scope} timeout of ${Duration.toMillis(this.timeout)} ms exceeded`
  }
}

/**
 * Admission control refused the request before it was sent: too many in flight and the queue full,
 * or the node is marked dead. Retryable: the request never left this process.
 *
 * @since 0.1.0
 * @category errors
 */
export class Overloaded extends Data.TaggedError("Overloaded")<{
  readonly reason: "queueFull" | "markedDead" | "serviceClosed"
  readonly detail?: string | undefined
}> {
  readonly retryable = true
  override get message(): string {
    const what = this.reason === "queueFull"
      ? "admission queue full"
      : this.reason === "markedDead"
      ? "endpoint marked dead"
      : "service closed"
    return this.detail === undefined ? what : `${what}: ${this.detail}`
  }
}

/**
 * A retry or requeue was wanted but the budget had no balance left; `cause` is the last failure.
 * Not retryable: filters further up must not multiply the retries this one refused.
 *
 * @since 0.1.0
 * @category errors
 */
export class RetryBudgetExhausted extends Data.TaggedError("RetryBudgetExhausted")<{
  readonly cause: unknown
  readonly attempts: number
}> {
  readonly retryable = false
  override get message(): string {
    return `retry budget exhausted after ${this.attempts} attempt(s): ${describe(this.cause)}`
  }
}

/**
 * The connection to an endpoint could not be made or broke before the request was written.
 * `written` false makes it retryable (a Finagle `WriteException`); once bytes were written it is not.
 * Reason `tls`: the TLS handshake failed (a certificate that does not verify, a backend that does
 * not speak TLS); nothing was written, so another endpoint may be tried.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectionFailed extends Data.TaggedError("ConnectionFailed")<{
  readonly address: string
  readonly reason: "refused" | "reset" | "timeout" | "closed" | "unreachable" | "protocol" | "tls"
  readonly written: boolean
  readonly detail?: string | undefined
}> {
  get retryable(): boolean {
    return !this.written
  }
  override get message(): string {
    return `connection to ${this.address} failed (${this.reason})` +
      (this.detail === undefined ? "" : `: ${this.detail}`)
  }
}

/**
 * The upstream answered, and the response classifier called the answer a failure (a 5XX, say).
 * `retryable` is the classifier's verdict.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseFailure<Rep = unknown> extends Data.TaggedError("ResponseFailure")<{
  readonly response: Rep
  readonly retryable: boolean
  readonly detail?: string | undefined
}> {
  override get message(): string {
    return this.detail ?? "response classified as a failure"
  }
}

/**
 * Every failure weir produces.
 *
 * @since 0.1.0
 * @category model
 */
export type Failure =
  | NoBrokersAvailable
  | RequestTimeout
  | Overloaded
  | RetryBudgetExhausted
  | ConnectionFailed
  | ResponseFailure

const tags: ReadonlySet<string> = new Set([
  "NoBrokersAvailable",
  "RequestTimeout",
  "Overloaded",
  "RetryBudgetExhausted",
  "ConnectionFailed",
  "ResponseFailure"
])

/**
 * Whether a value is one of weir's failures.
 *
 * @since 0.1.0
 * @category guards
 */
export const isFailure = (u: unknown): u is Failure =>
  typeof u === "object" && u !== null && "_tag" in u && tags.has((u as { _tag: string })._tag)

/**
 * Whether an error is safe to send again: a weir failure flagged retryable, or any object carrying
 * `retryable: true`. Everything else is not.
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryable = (u: unknown): boolean =>
  typeof u === "object" && u !== null && "retryable" in u && (u as { retryable: unknown }).retryable === true

/**
 * Whether an error says the request's time has run out: a `RequestTimeout` of scope `"deadline"` (the
 * deadline had passed, or passed first) or `"total"` (the whole request's clock). Sending such a request
 * again cannot help, so retries and requeues never do, whatever a classifier says; an `"attempt"`
 * timeout is not one (a retry gets a fresh attempt).
 *
 * @since 0.1.0
 * @category guards
 */
export const isDeadlineExceeded = (u: unknown): u is RequestTimeout =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "RequestTimeout" &&
  ((u as RequestTimeout).scope === "deadline" || (u as RequestTimeout).scope === "total")

/**
 * A short human description of any error.
 *
 * @since 0.1.0
 * @category utils
 */
export const describe = (u: unknown): string => {
  if (u instanceof Error) return u.message === "" ? u.name : u.message
  if (typeof u === "object" && u !== null && "_tag" in u) return String((u as { _tag: unknown })._tag)
  return String(u)
}
