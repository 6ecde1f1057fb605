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
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Failure from "../Failure.js"
import * as Stack from "../Stack.js"

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

/**
 * When a response's outcome is final, for responses whose verdict depends on what follows their
 * head (an h2 response's trailers carry its `grpc-status`): a promise that settles then, or
 * `undefined` when the response is final as it is. Stats (`StatsFilter`) and failure accrual
 * classify a successful call once its response settles, so they see the final status; retries
 * cannot wait (the response has started) and judge it as it is. Defaults to none: every response
 * is final.
 *
 * @since 0.1.0
 * @category params
 */
export const Settle = Context.Reference<(response: unknown) => PromiseLike<unknown> | undefined>(
  "weir/resilience/ResponseClass/Settle",
  { defaultValue: () => () => undefined }
)

// ---------------------------------------------------------------------------------------------
// classification by status and method (HTTP-like responses, real or simulated)
// ---------------------------------------------------------------------------------------------

/**
 * What a status classifier reads of a request: its method, and whether its body is streamed (a
 * streamed request cannot be sent again).
 *
 * @since 0.1.0
 * @category model
 */
export interface StatusRequest {
  readonly method: string
  /** Whether the body is streamed (chunked); such requests are never retried. Defaults to `false`. */
  readonly chunked?: boolean | undefined
}

/**
 * What a status classifier reads of a response: its status, and the `l5d-retryable` header (lower-case
 * names), by which a server may mark its own failure retryable.
 *
 * @since 0.1.0
 * @category model
 */
export interface StatusResponse {
  readonly status: number
  readonly headers?: Readonly<Record<string, string | undefined>> | undefined
}

/**
 * Which requests a failure may be sent again for: `none`; `read` (GET, HEAD, OPTIONS, TRACE);
 * `idempotent` (the read methods, PUT, DELETE); `all`.
 *
 * @since 0.1.0
 * @category model
 */
export type RetryableMethods = "none" | "read" | "idempotent" | "all"

/**
 * A status classification policy: which requests are retryable, and whether a 5XX response is a
 * failure (`false` calls every response a success).
 *
 * @since 0.1.0
 * @category model
 */
export interface StatusPolicy {
  readonly retryable: RetryableMethods
  readonly serverErrorsFail: boolean
}

const readMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE"])
const idempotentMethods: ReadonlySet<string> = new Set([...readMethods, "PUT", "DELETE"])

/**
 * Whether the policy allows sending this request again at all (method in its set, body not streamed).
 *
 * @since 0.1.0
 * @category classifiers
 */
export const retryableRequest = (retryable: RetryableMethods, request: StatusRequest): boolean => {
  if (request.chunked === true) return false
  switch (retryable) {
    case "none":
      return false
    case "all":
      return true
    case "read":
      return readMethods.has(request.method.toUpperCase())
    case "idempotent":
      return idempotentMethods.has(request.method.toUpperCase())
  }
}

/**
 * Classifies a response: a 5XX is a failure (retryable when the request is, or when the response
 * says `l5d-retryable: true`), anything else a success; with `serverErrorsFail: false` every response
 * is a success.
 *
 * @since 0.1.0
 * @category classifiers
 */
export const classifyStatus = (
  policy: StatusPolicy,
  request: StatusRequest,
  response: StatusResponse
): ResponseClass => {
  if (!policy.serverErrorsFail || response.status < 500 || response.status > 599) return Success
  return failed(
    retryableRequest(policy.retryable, request) || response.headers?.["l5d-retryable"]?.toLowerCase() === "true"
  )
}

/**
 * Whether an error is one a retrying status classifier retries: a timeout, a failure weir flags
 * retryable (the request was not written), or a broken connection.
 *
 * @since 0.1.0
 * @category classifiers
 */
export const isRetryableError = (error: unknown): boolean => {
  if (Failure.isRetryable(error)) return true
  if (typeof error !== "object" || error === null || !("_tag" in error)) return false
  const tag = (error as { _tag: unknown })._tag
  return tag === "RequestTimeout" || tag === "TimeoutError" || tag === "ConnectionFailed"
}

/**
 * Classifies an error in place of a response: always a failure, retryable when the policy retries
 * the request, its 5XX are failures, and the error is retryable (`isRetryableError`).
 *
 * @since 0.1.0
 * @category classifiers
 */
export const classifyStatusError = (policy: StatusPolicy, request: StatusRequest, error: unknown): ResponseClass =>
  failed(policy.serverErrorsFail && retryableRequest(policy.retryable, request) && isRetryableError(error))

/**
 * A policy as a classifier over a call's `Exit`: a response by `classifyStatus`, a typed error by
 * `classifyStatusError`, a defect or an interruption is a non-retryable failure.
 *
 * @since 0.1.0
 * @category classifiers
 */
export const byStatus =
  (policy: StatusPolicy): ResponseClassifier<StatusRequest, StatusResponse, unknown> => (request, exit) => {
    if (exit._tag === "Success") return classifyStatus(policy, request, exit.value)
    const error = Cause.findErrorOption(exit.cause)
    return error._tag === "Some" ? classifyStatusError(policy, request, error.value) : NonRetryableFailure
  }

// ---------------------------------------------------------------------------------------------
// the classifier of a request, installed by its path
// ---------------------------------------------------------------------------------------------

/**
 * The classifier of the request in flight, when its path installed one: modules shared by several
 * paths (a client's stats and failure accrual) read it per request, before their build-time
 * `Classifier`, so each request is judged as its logical name says (linkerd installs the service's
 * `responseClassifier` in the request's local context the same way). `undefined` by default.
 *
 * @since 0.1.0
 * @category params
 */
export const Local = Context.Reference<ResponseClassifier<any, any, any> | undefined>(
  "weir/resilience/ResponseClass/Local",
  { defaultValue: () => undefined }
)

/**
 * The classifier the `ResponseClassifier` module installs in `Local` for every request through it.
 * `undefined` (the default) installs nothing: a client built with its path in one `ClientStack.make`
 * already classifies as its path does. The proxy sets it, since its clients are shared by names.
 *
 * @since 0.1.0
 * @category params
 */
export const Install = Context.Reference<ResponseClassifier<any, any, any> | undefined>(
  "weir/resilience/ResponseClass/Install",
  { defaultValue: () => undefined }
)

/**
 * The module (role `ResponseClassifier`) that installs `Install` as the `Local` classifier of every
 * request through it; without `Install` it installs nothing.
 *
 * @since 0.1.0
 * @category modules
 */
export const localModule = <Req, Rep, E, R>(): Stack.Module<Req, Rep, E, R> =>
  Stack.module(
    "ResponseClassifier",
    "Installs the path's response classifier for the request, so the shared clients below judge it as its name says.",
    (next) =>
      Effect.gen(function*() {
        const install = yield* Install
        if (install === undefined) return next
        return {
          call: (request: Req) => Effect.provideService(next.call(request), Local, install),
          get status() {
            return next.status
          }
        }
      })
  )
