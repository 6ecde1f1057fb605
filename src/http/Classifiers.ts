/**
 * linkerd's HTTP response classifiers, as pure functions over a minimal view of a request
 * (`{ method }`) and a response (`{ status }`). Every kind treats a 5XX as a failure, except
 * `allSuccessful`; the kinds differ in which methods make the failure retryable:
 *
 * | kind | retryable methods |
 * | --- | --- |
 * | `io.l5d.http.nonRetryable5XX` (default) | none |
 * | `io.l5d.http.retryableRead5XX` | GET, HEAD, OPTIONS, TRACE |
 * | `io.l5d.http.retryableIdempotent5XX` | the read methods, PUT, DELETE |
 * | `io.l5d.http.retryableAll5XX` | every method |
 * | `io.l5d.http.allSuccessful` | (every response is a success) |
 *
 * A chunked (streamed) request is never retryable. A response carrying `l5d-retryable: true` turns a
 * non-retryable failure into a retryable one. An error instead of a response is a failure; the
 * retryable kinds make it retryable when it is a timeout or a connection/write failure and the method
 * is in their set. Simulated endpoints answer HTTP-like statuses, so the same classifiers apply there.
 *
 * ```yaml
 * service:
 *   responseClassifier: { kind: io.l5d.http.retryableRead5XX }
 * ```
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import type * as Exit from "effect/Exit"
import * as Failure from "../Failure.js"
import * as ResponseClass from "../resilience/ResponseClass.js"

/**
 * What a classifier reads of a request.
 *
 * @since 0.1.0
 * @category model
 */
export interface RequestView {
  readonly method: string
  /** Whether the body is streamed (chunked); such requests are never retried. Defaults to `false`. */
  readonly chunked?: boolean | undefined
}

/**
 * What a classifier reads of a response.
 *
 * @since 0.1.0
 * @category model
 */
export interface ResponseView {
  readonly status: number
  /** Lower-case header names. Only `l5d-retryable` is read. */
  readonly headers?: Readonly<Record<string, string | undefined>> | undefined
}

/**
 * The classifier kinds, canonical spelling.
 *
 * @since 0.1.0
 * @category model
 */
export type Kind =
  | "io.l5d.http.nonRetryable5XX"
  | "io.l5d.http.retryableRead5XX"
  | "io.l5d.http.retryableIdempotent5XX"
  | "io.l5d.http.retryableAll5XX"
  | "io.l5d.http.allSuccessful"

/**
 * Every canonical kind.
 *
 * @since 0.1.0
 * @category constants
 */
export const kinds: ReadonlyArray<Kind> = [
  "io.l5d.http.nonRetryable5XX",
  "io.l5d.http.retryableRead5XX",
  "io.l5d.http.retryableIdempotent5XX",
  "io.l5d.http.retryableAll5XX",
  "io.l5d.http.allSuccessful"
]

/**
 * The default kind, `io.l5d.http.nonRetryable5XX`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultKind: Kind = "io.l5d.http.nonRetryable5XX"

/**
 * The canonical kind for a name, accepting the older spellings without `http.`
 * (`io.l5d.retryableRead5XX`); `undefined` for an unknown name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseKind = (name: string): Kind | undefined => {
  const canonical = name.startsWith("io.l5d.http.") ? name : name.replace(/^io\.l5d\./, "io.l5d.http.")
  return (kinds as ReadonlyArray<string>).includes(canonical) ? canonical as Kind : undefined
}

const readMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE"])
const idempotentMethods: ReadonlySet<string> = new Set([...readMethods, "PUT", "DELETE"])

/**
 * Whether the kind allows retrying this request at all (method in its set, body not chunked).
 *
 * @since 0.1.0
 * @category classifying
 */
export const retryableRequest = (kind: Kind, request: RequestView): boolean => {
  if (request.chunked === true) return false
  const method = request.method.toUpperCase()
  switch (kind) {
    case "io.l5d.http.retryableRead5XX":
      return readMethods.has(method)
    case "io.l5d.http.retryableIdempotent5XX":
      return idempotentMethods.has(method)
    case "io.l5d.http.retryableAll5XX":
      return true
    case "io.l5d.http.nonRetryable5XX":
    case "io.l5d.http.allSuccessful":
      return false
  }
}

/**
 * Classifies a response: a 5XX is a failure (retryable per the kind, or when the response says
 * `l5d-retryable: true`), anything else a success. `allSuccessful` calls every response a success.
 *
 * @since 0.1.0
 * @category classifying
 */
export const classifyResponse = (
  kind: Kind,
  request: RequestView,
  response: ResponseView
): ResponseClass.ResponseClass => {
  if (kind === "io.l5d.http.allSuccessful" || response.status < 500 || response.status > 599) {
    return ResponseClass.Success
  }
  return ResponseClass.failed(
    retryableRequest(kind, request) || response.headers?.["l5d-retryable"]?.toLowerCase() === "true"
  )
}

/**
 * Whether an error is one linkerd's retryable classifiers retry: a timeout, or a failure weir flags
 * retryable (the request was not written), or a broken connection.
 *
 * @since 0.1.0
 * @category classifying
 */
export const isRetryableError = (error: unknown): boolean => {
  if (Failure.isRetryable(error)) return true
  if (typeof error !== "object" || error === null || !("_tag" in error)) return false
  const tag = (error as { _tag: unknown })._tag
  return tag === "RequestTimeout" || tag === "TimeoutError" || tag === "ConnectionFailed"
}

/**
 * Classifies an error in place of a response: always a failure, retryable when the kind retries the
 * request and the error is retryable (`isRetryableError`).
 *
 * @since 0.1.0
 * @category classifying
 */
export const classifyError = (kind: Kind, request: RequestView, error: unknown): ResponseClass.ResponseClass =>
  ResponseClass.failed(
    kind !== "io.l5d.http.nonRetryable5XX" && kind !== "io.l5d.http.allSuccessful" &&
      retryableRequest(kind, request) && isRetryableError(error)
  )

/**
 * The kind as a `ResponseClassifier` over a call's `Exit`: a response is classified by
 * `classifyResponse`, a typed error by `classifyError`, a defect or interruption is a non-retryable
 * failure.
 *
 * @since 0.1.0
 * @category constructors
 */
export const classifier = (
  kind: Kind
): ResponseClass.ResponseClassifier<RequestView, ResponseView, unknown> =>
(request, exit: Exit.Exit<ResponseView, unknown>) => {
  if (exit._tag === "Success") return classifyResponse(kind, request, exit.value)
  const error = Cause.findErrorOption(exit.cause)
  return error._tag === "Some" ? classifyError(kind, request, error.value) : ResponseClass.NonRetryableFailure
}
