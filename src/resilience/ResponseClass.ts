/**
 * A `ResponseClassifier` says what an outcome means: `Success`, or `Failed` with a verdict on whether
 * the request may be sent again. Retries, failure accrual, backup requests and stats all read the
 * same classifier, so "is this a failure?" is answered in one place. This is Finagle's
 * `ResponseClass`/`ResponseClassifier` over Effect's `Exit`.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Exit from "effect/Exit"
import * as Failure from "../Failure.js"

/**
 * The outcome was a success.
 *
 * @since 0.1.0
 * @category model
 */
export interface Success {
  readonly _tag: "Success"
}

/**
 * The outcome was a failure; `retryable` says whether retries may send the request again.
 *
 * @since 0.1.0
 * @category model
 */
export interface Failed {
  readonly _tag: "Failed"
  readonly retryable: boolean
}

/**
 * What an outcome means.
 *
 * @since 0.1.0
 * @category model
 */
export type ResponseClass = Success | Failed

/**
 * Maps a request and the exit of its call to a `ResponseClass`. Must be pure and cheap: it runs on
 * every response.
 *
 * @since 0.1.0
 * @category model
 */
export type ResponseClassifier<in Req, in Rep, in E> = (request: Req, exit: Exit.Exit<Rep, E>) => ResponseClass

/**
 * The `Success` class.
 *
 * @since 0.1.0
 * @category constructors
 */
export const Success: ResponseClass = { _tag: "Success" }

/**
 * A failure that may be retried.
 *
 * @since 0.1.0
 * @category constructors
 */
export const RetryableFailure: ResponseClass = { _tag: "Failed", retryable: true }

/**
 * A failure that must not be retried.
 *
 * @since 0.1.0
 * @category constructors
 */
export const NonRetryableFailure: ResponseClass = { _tag: "Failed", retryable: false }

/**
 * A `Failed` class with the given verdict.
 *
 * @since 0.1.0
 * @category constructors
 */
export const failed = (retryable: boolean): ResponseClass => retryable ? RetryableFailure : NonRetryableFailure

/**
 * Whether a class is `Success`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isSuccess = (self: ResponseClass): self is Success => self._tag === "Success"

/**
 * Whether a class is `Failed`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isFailed = (self: ResponseClass): self is Failed => self._tag === "Failed"

/**
 * Whether a class is a retryable failure.
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryable = (self: ResponseClass): boolean => self._tag === "Failed" && self.retryable

/**
 * Whether an exit ended only because its fiber was interrupted (a request superseded by its backup,
 * a caller that gave up). Failure accrual ignores such outcomes.
 *
 * @since 0.1.0
 * @category guards
 */
export const isInterruptedOnly = <A, E>(exit: Exit.Exit<A, E>): boolean =>
  exit._tag === "Failure" && Cause.hasInterruptsOnly(exit.cause)

/**
 * The default classifier: a success is `Success`; a typed failure is `Failed`, retryable iff
 * `Failure.isRetryable` (weir's own failures carry the flag); a defect or an interruption is a
 * non-retryable failure.
 *
 * @since 0.1.0
 * @category classifiers
 */
export const defaultClassifier: ResponseClassifier<unknown, unknown, unknown> = (_request, exit) => {
  if (exit._tag === "Success") return Success
  const error = Cause.findErrorOption(exit.cause)
  return error._tag === "Some" ? failed(Failure.isRetryable(error.value)) : NonRetryableFailure
}

/**
 * Like the default classifier, but a `RequestTimeout` of one attempt is retryable too (Finagle's
 * `RetryOnTimeout`). Use it only for idempotent requests.
 *
 * @since 0.1.0
 * @category classifiers
 */
export const retryOnTimeouts: ResponseClassifier<unknown, unknown, unknown> = (request, exit) => {
  if (exit._tag === "Failure") {
    const error = Cause.findErrorOption(exit.cause)
    if (
      error._tag === "Some" && typeof error.value === "object" && error.value !== null &&
      (error.value as { _tag?: unknown })._tag === "RequestTimeout" &&
      (error.value as { scope?: unknown }).scope === "attempt"
    ) return RetryableFailure
  }
  return defaultClassifier(request, exit)
}

/**
 * A classifier that consults `first`, and `second` only where `first` says `Success` on a success
 * exit; for failures the first verdict wins. Useful to mark some successful responses (a 503, say)
 * as failures while keeping the default treatment of errors.
 *
 * @since 0.1.0
 * @category combinators
 */
export const orElse = <Req, Rep, E>(
  first: ResponseClassifier<Req, Rep, E>,
  second: ResponseClassifier<Req, Rep, E>
): ResponseClassifier<Req, Rep, E> =>
(request, exit) => {
  const c = first(request, exit)
  return c._tag === "Success" && exit._tag === "Success" ? second(request, exit) : c
}

/**
 * The classifier modules use when none is given to them. Defaults to `defaultClassifier`.
 *
 * @since 0.1.0
 * @category params
 */
export const Classifier = Context.Reference<ResponseClassifier<any, any, any>>(
  "weir/resilience/ResponseClass/Classifier",
  { defaultValue: () => defaultClassifier }
)
