/**
 * The path stack: what a router does per logical name (`/svc/books`), above binding. linkerd's
 * order, top first:
 *
 * 1. stats — `rt/<router>/service/<name>/`: `requests`, `success`, `failures`, `failures/<error>`,
 *    `request_latency_ms`, `pending`; success is the response classifier's verdict.
 * 2. total timeout (`totalTimeoutMs`) — covers every retry and backoff; sets the deadline the
 *    attempts inherit (and `l5d-ctx-deadline` carries downstream).
 * 3. retries — classified by `responseClassifier`, spaced by `retries.backoff`, bounded by the
 *    name's own `retries.budget`; stats under `retries/` (`total`, `per_request`, `budget`,
 *    `budget_exhausted`). Only requests whose body is absent or buffered are sent again, and a
 *    retryable 5XX has its body read first (up to `retryBufferBytes`) so that it can be discarded.
 *
 * Below it, per attempt, the router binds the name, picks a union branch and calls the client.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import type * as ClientConfig from "../config/Client.js"
import type * as Failure from "../Failure.js"
import * as Filter from "../Filter.js"
import type * as Dtab from "../naming/Dtab.js"
import type * as Interpreter from "../naming/Interpreter.js"
import type * as Path from "../naming/Path.js"
import * as Backoff from "../resilience/Backoff.js"
import * as ResponseClass from "../resilience/ResponseClass.js"
import * as Retries from "../resilience/Retries.js"
import * as RetryBudget from "../resilience/RetryBudget.js"
import * as Timeout from "../resilience/Timeout.js"
import type { Service } from "../Service.js"
import * as Stats from "../Stats.js"
import * as Classifiers from "./Classifiers.js"
import * as H2Classifiers from "./h2/Classifiers.js"
import type { HttpRequest, HttpResponse } from "./Message.js"
import { buffered, header } from "./Message.js"

/**
 * Per-service (logical name) parameters: linkerd's `service` section keys, all optional.
 *
 * @since 0.1.0
 * @category model
 */
export interface Params {
  /** Timeout of the whole request, retries included. Defaults to none. */
  readonly totalTimeoutMs?: Duration.Duration | undefined
  /** Retry budget and backoff. Defaults to linkerd's budget and no backoff. */
  readonly retries?: ClientConfig.Retries | undefined
  /** Defaults to `io.l5d.http.nonRetryable5XX`. */
  readonly responseClassifier?: ClientConfig.ResponseClassifier | undefined
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
}

/**
 * linkerd's HTTP classifier for `params`, over routed requests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const classifierFor = (
  params: Params
): ResponseClass.ResponseClassifier<Routed, HttpResponse, RouteError> => {
  const configured = params.responseClassifier
  if (configured !== undefined && H2Classifiers.isKind(configured.kind)) {
    const h2 = H2Classifiers.classifier(configured as H2Classifiers.Config)
    return (routed, exit) => h2({ method: routed.http.method, chunked: routed.http.body._tag === "Stream" }, exit)
  }
  const kind = Classifiers.parseKind(params.responseClassifier?.kind ?? Classifiers.defaultKind) ??
    Classifiers.defaultKind
  const inner = Classifiers.classifier(kind)
  // A request's response is classified up to three times in a row (retries, service stats, the
  // router's l5d-success-class): the last answer is kept per (request, response) identity.
  let lastRouted: Routed | undefined
  let lastResponse: HttpResponse | undefined
  let lastClass: ResponseClass.ResponseClass | undefined
  const allSuccessful = kind === "io.l5d.http.allSuccessful"
  return (routed, exit) => {
    if (exit._tag === "Success") {
      // what `classifyResponse` answers for every kind without looking at the request: no views to build
      const status = exit.value.status
      if (status < 500 || status > 599 || allSuccessful) return ResponseClass.Success
    }
    if (exit._tag === "Success" && exit.value === lastResponse && routed === lastRouted) return lastClass!
    const c = inner(
      { method: routed.http.method, chunked: routed.http.body._tag === "Stream" },
      Exit.map(exit, (r) => ({ status: r.status, headers: { "l5d-retryable": header(r.headers, "l5d-retryable") } }))
    )
    if (exit._tag === "Success") {
      lastRouted = routed
      lastResponse = exit.value
      lastClass = c
    }
    return c
  }
}

/**
 * The `Backoff` for a decoded backoff config (none: immediate).
 *
 * @since 0.1.0
 * @category constructors
 */
export const backoffOf = (config: ClientConfig.Backoff | undefined): Backoff.Backoff =>
  config === undefined
    ? Backoff.immediate
    : config.kind === "constant"
    ? Backoff.constant(config.ms)
    : Backoff.decorrelatedJittered(config.minMs, config.maxMs)

/**
 * A fresh budget for a decoded budget config (none: linkerd's defaults). `percentCanRetry` above 1
 * is capped at 1.
 *
 * @since 0.1.0
 * @category constructors
 */
export const budgetOf = (config: ClientConfig.Budget | undefined): RetryBudget.RetryBudget =>
  RetryBudget.fromSettings(
    config === undefined ? RetryBudget.defaults : {
      ttl: config.ttlSecs,
      minRetriesPerSec: config.minRetriesPerSec,
      percentCanRetry: Math.min(1, config.percentCanRetry)
    }
  )

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
 * Builds the path stack of one name over `bound` (the per-attempt call: bind, pick, client), which
 * receives a predicate telling whether a 5XX will be retried (so it buffers that body, unless
 * `retryBufferBytes` is given: then the path stack does).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly params: Params
  readonly stats: Stats.StatsReceiver
  /**
   * When given, a 5XX that will be retried has its body read (up to this many bytes, `bufferBody`)
   * by the path stack before the retry decision, so `bound` need not do it. Defaults to none.
   */
  readonly retryBufferBytes?: number | undefined
  readonly bound: (
    retryable5xx: (routed: Routed, response: HttpResponse) => boolean
  ) => (routed: Routed) => Effect.Effect<HttpResponse, RouteError>
}): Effect.Effect<PathStack, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { params, stats } = options
    const limit = options.retryBufferBytes
    const classify = classifierFor(params)
    const budget = budgetOf(params.retries?.budget)
    const retryStats = stats.scope("retries")
    const unregister = [retryStats.gauge(["budget"], () => budget.balanceUnsafe(Date.now()))]
    yield* Effect.addFinalizer(() => Effect.sync(() => unregister.forEach((f) => f())))
    const retryable5xx = (routed: Routed, response: HttpResponse) => {
      const c = classify(routed, Exit.succeed(response))
      return c._tag === "Failed" && c.retryable
    }
    let service: Service<Routed, HttpResponse, RouteError> = { call: options.bound(retryable5xx), status: "Open" }
    service = Filter.toService(
      Retries.makeUnsafe<Routed, HttpResponse, RouteError, never>({
        classifier: (routed, exit) => {
          const c = classify(routed, exit)
          if (c._tag === "Failed" && c.retryable && exit._tag === "Success" && exit.value.body._tag === "Stream") {
            return { _tag: "Failed", retryable: false }
          }
          return c
        },
        backoff: backoffOf(params.retries?.backoff),
        budget,
        maxRetries: Infinity,
        stats: retryStats,
        prepare: limit === undefined ?
          undefined :
          (routed, response) =>
            response.status >= 500 && retryable5xx(routed, response) ? bufferBody(response, limit) : undefined
      }) as Filter.Filter<Routed, HttpResponse, RouteError, never>,
      service
    )
    const total = params.totalTimeoutMs
    if (total !== undefined && Duration.isFinite(total)) {
      service = Filter.toService(
        Timeout.makeUnsafe<Routed, HttpResponse, RouteError, never>(total, "total", true, Stats.noop),
        service
      )
    }
    const requests = stats.counter("requests")
    const success = stats.counter("success")
    const failures = stats.counter("failures")
    const latency = stats.histogram("request_latency_ms")
    const failuresOf = Stats.counters(stats, "failures")
    let pending = 0
    unregister.push(stats.gauge(["pending"], () => pending))
    const inner = service
    return {
      classify,
      params,
      service: {
        status: "Open",
        call: (routed) => {
          const start = performance.now()
          requests.incr()
          pending++
          // onExitPrimitive: the recording is synchronous, so no finalizer effect is run after it
          return Effect.onExitPrimitive(inner.call(routed), (exit) => {
            pending--
            latency.add(performance.now() - start)
            const c = classify(routed, exit)
            if (c._tag === "Success") success.incr()
            else {
              failures.incr()
              if (exit._tag === "Failure") {
                const e = Exit.findErrorOption(exit)
                if (e._tag === "Some") failuresOf(e.value._tag).incr()
              }
            }
            return undefined
          })
        }
      }
    }
  })
