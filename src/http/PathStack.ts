/**
 * The path stack: what a router does per logical name (`/svc/books`), above binding —
 * `ProxyStack.path`, i.e. `ClientStack`'s path stack in its documented order (stats, the request's
 * classifier, total timeout, retries), HTTP's `Retries` reading a retryable 5XX's body first:
 *
 * - `Stats` — `rt/<router>/service/<name>/`: `requests`, `success`, `failures`, `failures/<error>`,
 *   `request_latency_ms`, `pending`; success is the response classifier's verdict.
 * - `ResponseClassifier` — installs the name's `responseClassifier` for the request, so the
 *   destination clients below (shared by names) judge it the same way in their stats and failure
 *   accrual.
 * - `TotalTimeout` (`totalTimeoutMs`) — covers every retry and backoff; sets the deadline the
 *   attempts inherit (and `l5d-ctx-deadline` carries downstream).
 * - `Retries` — classified by `responseClassifier`, spaced by `retries.backoff`, bounded by the
 *   name's own `retries.budget` (and `retries.maxRetries`); stats under `retries/`. Only requests
 *   whose body is absent or buffered are sent again. A retryable 5XX has its body read (up to
 *   `retryBufferBytes`) so that it can be discarded when the request is sent again; a larger one is
 *   not retried (`retriesModule`, replacing the core `Retries` by role: the same filter with its
 *   `prepare` hook).
 *
 * Below it, per attempt, the router binds the name, picks a union branch and calls the client.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import type * as Tracer from "effect/Tracer"
import type * as Failure from "../Failure.js"
import * as Filter from "../Filter.js"
import type * as Dtab from "../naming/Dtab.js"
import type * as Interpreter from "../naming/Interpreter.js"
import type * as Path from "../naming/Path.js"
import * as ProxyStack from "../ProxyStack.js"
import * as Backoff from "../resilience/Backoff.js"
import type * as ResponseClass from "../resilience/ResponseClass.js"
import * as Retries from "../resilience/Retries.js"
import * as RetryBudget from "../resilience/RetryBudget.js"
import type { Service } from "../Service.js"
import * as Stack from "../Stack.js"
import * as Stats from "../Stats.js"
import * as Classifiers from "./Classifiers.js"
import * as H2Classifiers from "./h2/Classifiers.js"
import type { HttpRequest, HttpResponse } from "./transport/Message.js"
import { buffered, streamEnd } from "./transport/Message.js"

/**
 * Per-service (logical name) parameters, as core values (linkerd's `service` section, interpreted).
 *
 * @since 0.1.0
 * @category model
 */
export interface Params {
  /** Timeout of the whole request, retries included; `undefined` for none. */
  readonly totalTimeout: Duration.Duration | undefined
  /** Retry budget, backoff and cap. */
  readonly retries: ProxyStack.RetryParams
  /** The response classifier: an HTTP kind, or an h2 classifier's config (h2 routers). */
  readonly classifier: Classifiers.Kind | H2Classifiers.Config
}

/**
 * linkerd's service defaults: no total timeout, the default retry budget without backoff,
 * `io.l5d.http.nonRetryable5XX`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultParams: Params = {
  totalTimeout: undefined,
  retries: ProxyStack.defaultRetries,
  classifier: Classifiers.defaultKind
}

/**
 * A request on its way through the path stack: the HTTP request, its logical name (and that name
 * shown), the full dtab it binds under, the request-local part of it, its request id and trace span.
 *
 * @since 0.1.0
 * @category model
 */
export interface Routed {
  readonly http: HttpRequest
  readonly name: Path.Path
  readonly service: string
  readonly dtab: Dtab.Dtab
  readonly localDtab: Dtab.Dtab
  readonly requestId: string
  /** This hop's span, encoded for `l5d-ctx-trace` (a child of the caller's, or a new root). */
  readonly trace?: string | undefined
  /** The request's server span, when the router traces it (`HttpTracing`). */
  readonly span?: Tracer.Span | undefined
}

/**
 * What can go wrong below the path stack.
 *
 * @since 0.1.0
 * @category model
 */
export type RouteError = Failure.Failure | Interpreter.BindingError

/**
 * A built path stack.
 *
 * @since 0.1.0
 * @category model
 */
export interface PathStack {
  readonly service: Service<Routed, HttpResponse, RouteError>
  /** The name's response classifier (also used for `l5d-success-class`). */
  readonly classify: ResponseClass.ResponseClassifier<Routed, HttpResponse, RouteError>
  readonly params: Params
  /** The roles of its stack, top first. */
  readonly roles: ProxyStack.Roles
}

/**
 * The classifier of one HTTP message: linkerd's HTTP classifier of a kind
 * (`Classifiers.httpClassifier`), or an h2 classifier (`http/h2/Classifiers.ts`: gRPC status from
 * the trailers).
 *
 * @since 0.1.0
 * @category constructors
 */
export const messageClassifier = (
  classifier: Params["classifier"]
): ResponseClass.ResponseClassifier<HttpRequest, HttpResponse, unknown> => {
  if (typeof classifier === "string") return Classifiers.httpClassifier(classifier)
  const h2 = H2Classifiers.classifier(classifier)
  return (request, exit) => h2({ method: request.method, chunked: request.body._tag === "Stream" }, exit)
}

/**
 * The classifier of `params.classifier` over routed requests (of the request's HTTP message).
 *
 * @since 0.1.0
 * @category constructors
 */
export const classifierFor = (
  classifier: Params["classifier"]
): ResponseClass.ResponseClassifier<Routed, HttpResponse, RouteError> => {
  const http = messageClassifier(classifier)
  return (routed, exit) => http(routed.http, exit)
}

/**
 * Reads a streamed response body whole when it is at most `limit` bytes; a larger one is left
 * streaming (what was read is put back).
 *
 * @since 0.1.0
 * @category combinators
 */
export const bufferBody = (response: HttpResponse, limit: number): Effect.Effect<HttpResponse> => {
  const body = response.body
  if (body._tag !== "Stream" || (body.length !== undefined && body.length > limit)) return Effect.succeed(response)
  return Effect.callback<HttpResponse>((resume) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const src = body.stream
    const onData = (c: Buffer) => {
      chunks.push(c)
      size += c.length
      if (size > limit) {
        src.off("data", onData)
        src.off("end", onEnd)
        src.pause()
        src.unshift(Buffer.concat(chunks))
        resume(Effect.succeed(response))
      }
    }
    const onEnd = () => resume(Effect.succeed({ ...response, body: buffered(Buffer.concat(chunks)) }))
    src.on("data", onData)
    src.once("end", onEnd)
    src.once("error", () => resume(Effect.succeed({ ...response, body: buffered(Buffer.concat(chunks)) })))
  })
}

/**
 * HTTP's `Retries` module: the core retry filter (`Retries.makeUnsafe`) wired as `Retries.module`
 * wires it (its `Config`, `ResponseClass.Classifier`, the path's budget, stats under `retries/`),
 * with body buffering fused in through its `prepare` hook: a 5XX the classifier deems retryable has
 * its streamed body read (up to `limit` bytes, `bufferBody`) before it is classified, so that a retry
 * can discard it. Replaces the path stack's `Retries` by role.
 *
 * @since 0.1.0
 * @category modules
 */
export const retriesModule = (
  limit: number,
  classify: ResponseClass.ResponseClassifier<Routed, HttpResponse, RouteError>
): Stack.Module<Routed, HttpResponse, RouteError, never> =>
  Stack.module(
    "Retries",
    "Classified retries with backoff, bounded by the path's budget; a retryable 5XX's body is read first so that a retry can discard it.",
    (next) =>
      Effect.gen(function*() {
        const config = yield* Retries.Config
        const budget = yield* RetryBudget.fromContext
        const stats = (yield* Stats.Receiver).scope("retries")
        const clock = yield* Clock.Clock
        const unregister = stats.gauge(["budget"], () => budget.balanceUnsafe(clock.currentTimeMillisUnsafe()))
        yield* Effect.addFinalizer(() => Effect.sync(unregister))
        const prepare = (routed: Routed, response: HttpResponse) => {
          if (response.status < 500 || response.body._tag !== "Stream") return undefined
          const c = classify(routed, Exit.succeed({ ...response, body: buffered(Buffer.alloc(0)) }))
          return c._tag === "Failed" && c.retryable ? bufferBody(response, limit) : undefined
        }
        const filter = Retries.makeUnsafe<Routed, HttpResponse, RouteError, never>({
          classifier: config.classifier ?? classify,
          backoff: config.backoff ?? Backoff.immediate,
          budget,
          maxRetries: config.maxRetries ?? Infinity,
          stats,
          prepare
        })
        return Filter.toService(filter as Filter.Filter<Routed, HttpResponse, RouteError, never>, next)
      })
  )

/**
 * Builds the path stack of one name over `bound` (the per-attempt call: bind, pick, client). With
 * `retryBufferBytes`, a retryable 5XX's body up to that size is read so that the request can be
 * retried (`retriesModule` in place of `Retries`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly params: Params
  readonly stats: Stats.StatsReceiver
  /** A retryable 5XX's body up to this many bytes is read (`bufferBody`) so that it can be retried. Defaults to none. */
  readonly retryBufferBytes?: number | undefined
  readonly bound: (routed: Routed) => Effect.Effect<HttpResponse, RouteError>
}): Effect.Effect<PathStack, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { params } = options
    const limit = options.retryBufferBytes
    const classify = classifierFor(params.classifier)
    const built = yield* ProxyStack.path<Routed, HttpResponse, RouteError, never>({
      service: { call: options.bound, status: "Open" },
      params: { totalTimeout: params.totalTimeout, retries: params.retries, classifier: classify },
      stats: options.stats,
      // a streaming h2 response's stats wait for its trailers (its grpc-status)
      settle: streamEnd,
      // the clients' stats and failure accrual read only success or failure, on which every HTTP kind
      // but allSuccessful agrees with their default (nonRetryable5XX): only that one, and the h2
      // classifiers (gRPC status), need installing
      install: params.classifier === "io.l5d.http.allSuccessful" || typeof params.classifier !== "string"
        ? messageClassifier(params.classifier)
        : false,
      stack: limit === undefined ? undefined : (s) => Stack.replace(s, "Retries", retriesModule(limit, classify))
    })
    return { classify, params, roles: built.roles, service: built.service }
  })
