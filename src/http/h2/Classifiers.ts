/**
 * linkerd's h2 response classifiers. The `io.l5d.h2.*` HTTP kinds classify by status and method as
 * their HTTP/1.1 namesakes do (`http/Classifiers.ts`); the gRPC kinds read the call's `grpc-status`,
 * from the headers of a trailers-only response or from the trailers, and a status in
 * `successStatusCodes` (default `[0]`) is a success:
 *
 * | kind | a failure is retryable when |
 * | --- | --- |
 * | `io.l5d.h2.grpc.default` | its status is `UNAVAILABLE` (14) |
 * | `io.l5d.h2.grpc.retryableStatusCodes` | its status is in `retryableStatusCodes` |
 * | `io.l5d.h2.grpc.compliant` | its status is 14, the stream was refused, or the HTTP status is 429, 502, 503 or 504 |
 * | `io.l5d.h2.grpc.alwaysRetryable` | always |
 * | `io.l5d.h2.grpc.neverRetryable` | never |
 *
 * A response whose status is not known yet (its trailers are still to come: a streaming response)
 * is classified by its HTTP status alone; a gRPC response that arrives whole (a unary answer, read
 * at once by the h2 upstream) has its trailers, so it can be retried by status code. An error in
 * place of a response is a failure, retryable under `compliant` and `alwaysRetryable` when it is a
 * retryable error (`http/Classifiers.isRetryableError`). `l5d-retryable: true` on a response makes
 * its failure retryable, as for HTTP.
 *
 * ```yaml
 * service:
 *   responseClassifier:
 *     kind: io.l5d.h2.grpc.retryableStatusCodes
 *     retryableStatusCodes: [14, 8]
 * ```
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as ResponseClass from "../../resilience/ResponseClass.js"
import * as HttpClassifiers from "../Classifiers.js"
import type { HttpResponse } from "../transport/Message.js"
import { header } from "../transport/Message.js"
import * as Grpc from "./Grpc.js"

/**
 * The h2 classifier kinds.
 *
 * @since 0.1.0
 * @category model
 */
export type Kind =
  | "io.l5d.h2.nonRetryable5XX"
  | "io.l5d.h2.retryableRead5XX"
  | "io.l5d.h2.retryableIdempotent5XX"
  | "io.l5d.h2.allSuccessful"
  | "io.l5d.h2.grpc.default"
  | "io.l5d.h2.grpc.retryableStatusCodes"
  | "io.l5d.h2.grpc.compliant"
  | "io.l5d.h2.grpc.neverRetryable"
  | "io.l5d.h2.grpc.alwaysRetryable"

/**
 * Every h2 kind.
 *
 * @since 0.1.0
 * @category constants
 */
export const kinds: ReadonlyArray<Kind> = [
  "io.l5d.h2.nonRetryable5XX",
  "io.l5d.h2.retryableRead5XX",
  "io.l5d.h2.retryableIdempotent5XX",
  "io.l5d.h2.allSuccessful",
  "io.l5d.h2.grpc.default",
  "io.l5d.h2.grpc.retryableStatusCodes",
  "io.l5d.h2.grpc.compliant",
  "io.l5d.h2.grpc.neverRetryable",
  "io.l5d.h2.grpc.alwaysRetryable"
]

/**
 * A decoded h2 classifier.
 *
 * @since 0.1.0
 * @category model
 */
export interface Config {
  readonly kind: Kind
  /** gRPC statuses that are successes. Defaults to `[0]`. */
  readonly successStatusCodes?: ReadonlyArray<number> | undefined
  /** `io.l5d.h2.grpc.retryableStatusCodes` only: the retryable statuses. */
  readonly retryableStatusCodes?: ReadonlyArray<number> | undefined
}

/**
 * Whether a classifier kind is one of the h2 kinds.
 *
 * @since 0.1.0
 * @category guards
 */
export const isKind = (kind: string): kind is Kind => (kinds as ReadonlyArray<string>).includes(kind)

/**
 * What an h2 classifier reads of a request.
 *
 * @since 0.1.0
 * @category model
 */
export interface RequestView {
  readonly method: string
  readonly chunked?: boolean | undefined
}

const compliantHttp: ReadonlySet<number> = new Set([429, 502, 503, 504])

const grpcRetryable = (config: Config, status: number, http: number): boolean => {
  switch (config.kind) {
    case "io.l5d.h2.grpc.default":
      return status === Grpc.Status.UNAVAILABLE
    case "io.l5d.h2.grpc.retryableStatusCodes":
      return (config.retryableStatusCodes ?? []).includes(status)
    case "io.l5d.h2.grpc.compliant":
      return status === Grpc.Status.UNAVAILABLE || compliantHttp.has(http)
    case "io.l5d.h2.grpc.alwaysRetryable":
      return true
    default:
      return false
  }
}

const isRefused = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "detail" in error &&
  /code 7\)/.test(String((error as { detail?: unknown }).detail))

/**
 * The classifier for a decoded h2 config, over a request view and a response's `Exit`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const classifier = (
  config: Config
): ResponseClass.ResponseClassifier<RequestView, Pick<HttpResponse, "status" | "headers" | "trailers">, unknown> => {
  const kind = config.kind
  if (!kind.startsWith("io.l5d.h2.grpc.")) {
    const http = HttpClassifiers.classifier(kind.replace("io.l5d.h2.", "io.l5d.http.") as HttpClassifiers.Kind)
    return (request, exit) =>
      http(
        request,
        Exit.map(exit, (r) => ({ status: r.status, headers: { "l5d-retryable": header(r.headers, "l5d-retryable") } }))
      )
  }
  const success = new Set(config.successStatusCodes ?? [Grpc.Status.OK])
  return (request, exit) => {
    // a streamed request cannot be sent again, whatever the status says
    const replayable = request.chunked !== true
    if (exit._tag === "Failure") {
      const error = Cause.findErrorOption(exit.cause)
      if (error._tag === "None") return ResponseClass.NonRetryableFailure
      const retryable = kind === "io.l5d.h2.grpc.alwaysRetryable"
        ? HttpClassifiers.isRetryableError(error.value)
        : kind === "io.l5d.h2.grpc.compliant" &&
          (isRefused(error.value) || HttpClassifiers.isRetryableError(error.value))
      return ResponseClass.failed(replayable && retryable)
    }
    const response = exit.value
    const headerRetryable = header(response.headers, "l5d-retryable")?.toLowerCase() === "true"
    const status = Grpc.statusOf(response)
    if (status === undefined) {
      if (response.status < 500) return ResponseClass.Success
      return ResponseClass.failed(replayable && (headerRetryable || grpcRetryable(config, -1, response.status)))
    }
    if (success.has(status)) return ResponseClass.Success
    return ResponseClass.failed(replayable && (headerRetryable || grpcRetryable(config, status, response.status)))
  }
}
