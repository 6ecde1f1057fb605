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
 * is in their set. The classification itself is the core's (`ResponseClass.byStatus`); this module
 * maps linkerd's kinds onto it, so simulated endpoints, which answer HTTP-like statuses, are judged
 * by the very same code.
 *
 * ```yaml
 * service:
 *   responseClassifier: { kind: io.l5d.http.retryableRead5XX }
 * ```
 *
 * @since 0.1.0
 */
import type * as Exit from "effect/Exit"
import * as ResponseClass from "../resilience/ResponseClass.js"
import type { HttpRequest, HttpResponse } from "./transport/Message.js"
import { header } from "./transport/Message.js"

/**
 * What a classifier reads of a request.
 *
 * @since 0.1.0
 * @category model
 */
export type RequestView = ResponseClass.StatusRequest

/**
 * What a classifier reads of a response.
 *
 * @since 0.1.0
 * @category model
 */
export type ResponseView = ResponseClass.StatusResponse

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

/**
 * The core status policy a kind stands for.
 *
 * @since 0.1.0
 * @category constructors
 */
export const policy = (kind: Kind): ResponseClass.StatusPolicy => {
  switch (kind) {
    case "io.l5d.http.nonRetryable5XX":
      return { retryable: "none", serverErrorsFail: true }
    case "io.l5d.http.retryableRead5XX":
      return { retryable: "read", serverErrorsFail: true }
    case "io.l5d.http.retryableIdempotent5XX":
      return { retryable: "idempotent", serverErrorsFail: true }
    case "io.l5d.http.retryableAll5XX":
      return { retryable: "all", serverErrorsFail: true }
    case "io.l5d.http.allSuccessful":
      return { retryable: "none", serverErrorsFail: false }
  }
}

/**
 * Whether the kind allows retrying this request at all (method in its set, body not chunked).
 *
 * @since 0.1.0
 * @category classifying
 */
export const retryableRequest = (kind: Kind, request: RequestView): boolean =>
  kind !== "io.l5d.http.allSuccessful" && ResponseClass.retryableRequest(policy(kind).retryable, request)

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
): ResponseClass.ResponseClass => ResponseClass.classifyStatus(policy(kind), request, response)

/**
 * Whether an error is one linkerd's retryable classifiers retry: a timeout, or a failure weir flags
 * retryable (the request was not written), or a broken connection.
 *
 * @since 0.1.0
 * @category classifying
 */
export const isRetryableError: (error: unknown) => boolean = ResponseClass.isRetryableError

/**
 * Classifies an error in place of a response: always a failure, retryable when the kind retries the
 * request and the error is retryable (`isRetryableError`).
 *
 * @since 0.1.0
 * @category classifying
 */
export const classifyError = (kind: Kind, request: RequestView, error: unknown): ResponseClass.ResponseClass =>
  ResponseClass.classifyStatusError(policy(kind), request, error)

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
): ResponseClass.ResponseClassifier<RequestView, ResponseView, unknown> => ResponseClass.byStatus(policy(kind))

/**
 * The kind as a classifier of HTTP requests and responses, as the proxy's stacks judge them: a
 * streamed request is not retryable, and neither is a retryable 5XX whose body is still streaming
 * (it could not be discarded; the path stack buffers small ones first). Responses below 500 are
 * judged without building views.
 *
 * @since 0.1.0
 * @category constructors
 */
export const httpClassifier = (kind: Kind): ResponseClass.ResponseClassifier<HttpRequest, HttpResponse, unknown> => {
  const inner = classifier(kind)
  return (request, exit: Exit.Exit<HttpResponse, unknown>) => {
    if (exit._tag === "Success") {
      const status = exit.value.status
      if (status < 500 || status > 599 || kind === "io.l5d.http.allSuccessful") return ResponseClass.Success
      const c = ResponseClass.classifyStatus(policy(kind), {
        method: request.method,
        chunked: request.body._tag === "Stream"
      }, { status, headers: { "l5d-retryable": header(exit.value.headers, "l5d-retryable") } })
      return c._tag === "Failed" && c.retryable && exit.value.body._tag === "Stream"
        ? ResponseClass.NonRetryableFailure
        : c
    }
    return inner({ method: request.method, chunked: request.body._tag === "Stream" }, exit as Exit.Exit<never, unknown>)
  }
}
