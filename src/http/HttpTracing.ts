/**
 * Tracing at the HTTP router: which requests are traced, the server span's attributes, and the
 * trace context written on the requests weir forwards.
 *
 * **Ingress.** The caller's context is read with `TraceContext.extract` — `l5d-ctx-trace`, W3C
 * `traceparent` (+ `tracestate`), `b3`, `X-B3-*`, in that order. A caller that decided (`sampled`
 * true or false, or debug) is obeyed: sampled means traced whatever the `sampleRate`s, unsampled
 * means no span anywhere on this hop. Otherwise linkerd's `l5d-sample` (a rate in [0, 1] for this
 * request, as `sampleRate` would be) decides when the caller sent one — a request it keeps is
 * recorded by every sink — and else the trace id decides at the telemeters' rates (`Tracing.admits`).
 *
 * **Untrusted callers.** A `clearContext: true` server removes the caller's trace context before
 * anything reads it (`clearTraceContext`), as it removes `l5d-*`: the request starts a new trace,
 * sampled at this hop's rates, and the downstream sees only the context weir writes.
 *
 * **Egress.** Every forwarded request carries `l5d-ctx-trace` (Finagle's flags carry the decision),
 * and `traceparent` (the caller's `tracestate` passes on unchanged) when it is traced or belongs to a
 * caller's trace, so W3C-instrumented apps and linkerd both continue the trace; an unsampled trace
 * that starts at this hop is written in `l5d-ctx-trace` only, as linkerd writes it: a W3C downstream
 * then samples by its own rules, as it would with no tracing telemeter here (a `-00` parent would
 * make every parent-based sampler downstream drop its traces), and the header a request carries
 * when nothing records it stays off the wire. B3 is written only when the caller used B3, in the
 * form it used (single `b3` or `X-B3-*`), so a Zipkin-instrumented caller's downstream sees what it
 * sent and no one else gets four extra headers. When traced, the context is the attempt span's
 * (written by the attempt hook just before each attempt), so the next hop's server span is the
 * attempt's child.
 *
 * **Binding.** A traced request whose name has no binding yet waits for it in a `bind` span
 * (`withBindSpan`); the router opens it on the binding cache's miss only.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Tracer from "effect/Tracer"
import type * as Failure from "../Failure.js"
import * as Tracing from "../telemetry/Tracing.js"
import type * as TraceFilter from "../TraceFilter.js"
import * as Headers from "./Headers.js"
import * as TraceContext from "./TraceContext.js"
import type { Headers as HeaderMap, HttpRequest, HttpResponse } from "./transport/Message.js"
import { header } from "./transport/Message.js"

/**
 * What the router decided for one request: the trace it belongs to, whether this hop records it,
 * and what goes in `l5d-reqid` / `l5d-ctx-trace`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Decision {
  /** 32 hex digits. */
  readonly traceId: string
  /** The caller's span, when it sent one. */
  readonly parent: TraceContext.SpanContext | undefined
  readonly format: TraceContext.Format | undefined
  readonly sampled: boolean
  /** The caller asked for the trace (sampled or debug): every sink records it. */
  readonly forced: boolean
  /** `l5d-reqid`: the trace id's low 64 bits. */
  readonly requestId: string
  /** This hop's `l5d-ctx-trace`, encoded (before any attempt span replaces it). */
  readonly l5d: string
}

/**
 * The rate an `l5d-sample` value asks for: a decimal number clamped to [0, 1], or `undefined` when
 * the value is not a number (the header is then ignored, as linkerd ignores it).
 *
 * @since 0.1.0
 * @category ingress
 */
export const sampleRateOf = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (trimmed === "") return undefined
  const rate = Number(trimmed)
  return Number.isNaN(rate) ? undefined : Math.min(1, Math.max(0, rate))
}

/** The trace context headers of W3C Trace Context and B3, which `clearTraceContext` removes. */
const traceHeaders = [
  "traceparent",
  "tracestate",
  "b3",
  "x-b3-traceid",
  "x-b3-spanid",
  "x-b3-parentspanid",
  "x-b3-sampled",
  "x-b3-flags"
] as const

/**
 * Removes the caller's W3C (`traceparent`, `tracestate`) and B3 (`b3`, `X-B3-*`) trace context: what
 * a `clearContext: true` server does, besides removing `l5d-*` (`l5d-ctx-trace`, `l5d-sample`), so
 * an untrusted caller can neither join weir's traces nor decide their sampling.
 *
 * @since 0.1.0
 * @category ingress
 */
export const clearTraceContext = (headers: HeaderMap): void => {
  for (const name of traceHeaders) if (headers[name] !== undefined) delete headers[name]
}

const get = (request: HttpRequest) => (name: string) => header(request.headers, name)

/** The requests of this process's server spans, so the attempt hook skips the others at once. */
const tracedRequests = new WeakSet<HttpRequest>()

/**
 * Marks `request` as traced: its attempts get spans (`hooks.traced`).
 *
 * @since 0.1.0
 * @category server
 */
export const markTraced = (request: HttpRequest): void => {
  tracedRequests.add(request)
}

const flagWords = [undefined, true, false].flatMap((sampled) =>
  [false, true].map((debug) => TraceContext.l5dFlags(sampled, debug))
)
const flagsOf = (sampled: boolean | undefined, debug: boolean): string =>
  flagWords[(sampled === undefined ? 0 : sampled ? 2 : 4) + (debug ? 1 : 0)]!

const l5dOf = (
  traceId: string,
  spanId: string,
  parentId: string,
  sampled: boolean | undefined,
  debug: boolean
): Headers.TraceId => {
  const high = traceId.slice(0, 16)
  return {
    spanId,
    parentId,
    traceId: traceId.slice(16),
    flags: flagsOf(sampled, debug),
    traceIdHigh: high === "0000000000000000" ? undefined : high
  }
}

/** The B3 form the request arrived with, if any. */
const b3Form = (request: HttpRequest): "b3" | "b3multi" | undefined =>
  request.headers["b3"] !== undefined ? "b3" : request.headers["x-b3-traceid"] !== undefined ? "b3multi" : undefined

const writeB3 = (
  request: HttpRequest,
  format: "b3" | "b3multi" | undefined,
  traceId: string,
  spanId: string,
  sampled: boolean,
  parentId: string | undefined
): void => {
  const h = request.headers
  if (format === "b3") h["b3"] = TraceContext.formatB3(traceId, spanId, sampled, parentId)
  else if (format === "b3multi") {
    h["x-b3-traceid"] = traceId
    h["x-b3-spanid"] = spanId
    h["x-b3-sampled"] = sampled ? "1" : "0"
    if (parentId !== undefined) h["x-b3-parentspanid"] = parentId
    else delete h["x-b3-parentspanid"]
    delete h["x-b3-flags"]
  }
}

/**
 * Decides for `request` (whose `l5d-ctx-trace`, already decoded by the router, is `l5d`, and whose
 * `l5d-sample`, already removed, was `sample`) and, when this hop does not trace it, writes the
 * unsampled context for the next hop at once.
 *
 * `l5d-sample` applies only when the caller did not decide (linkerd's rule: the rate sets the
 * sampled flag only when it is unset); a request it keeps is recorded by every sink, one it drops
 * by none, and the decision travels on in the flags written downstream.
 *
 * @since 0.1.0
 * @category ingress
 */
export const decide = (
  tracing: Tracing.Tracing,
  request: HttpRequest,
  l5d: Headers.TraceId | undefined,
  sample?: string | undefined
): Decision => {
  const h = request.headers
  const found = l5d === undefined && h["traceparent"] === undefined && h["b3"] === undefined &&
      h["x-b3-traceid"] === undefined
    ? undefined
    : TraceContext.extract(get(request), l5d)
  const parent = found?.context
  const traceId = parent?.traceId ?? Tracing.randomId(32)
  const decided = parent !== undefined && (parent.debug || parent.sampled !== undefined)
  const rate = decided ? undefined : sampleRateOf(sample)
  const forced = rate !== undefined
    ? Tracing.admits(traceId, rate)
    : parent !== undefined && (parent.debug || parent.sampled === true)
  const sampled = forced || (rate === undefined && parent?.sampled !== false && tracing.sample(traceId))
  const hop = Tracing.randomId(16)
  const debug = parent?.debug ?? false
  const ctx = l5dOf(traceId, hop, parent?.spanId ?? hop, parent?.sampled ?? (sampled ? true : false), debug)
  if (!sampled && found !== undefined) {
    // the caller's trace goes on unsampled, in W3C form too (and in B3 when it came in B3); an
    // unsampled trace that starts here is written in l5d-ctx-trace only (see the module's doc)
    request.headers["traceparent"] = TraceContext.formatTraceparent(traceId, hop, false)
    writeB3(request, b3Form(request), traceId, hop, false, parent?.spanId)
  }
  return {
    traceId,
    parent,
    format: found?.format,
    sampled,
    forced,
    requestId: ctx.traceId,
    l5d: Headers.encodeTrace(ctx)
  }
}

/**
 * The server span's attributes at its start.
 *
 * @since 0.1.0
 * @category server
 */
export const serverAttributes = (
  request: HttpRequest,
  router: string,
  service: string,
  localDtab: string,
  dtab: string
): Record<string, unknown> => ({
  "http.method": request.method,
  "http.target": request.url,
  "weir.router": router,
  "weir.path": service,
  "weir.dtab.local": localDtab,
  "weir.dtab": dtab
})

const bindOptions = (service: string, localDtab: string) =>
  ({
    kind: "internal",
    captureStackTrace: false,
    attributes: { "weir.path": service, "weir.dtab.local": localDtab }
  }) as const

/**
 * Runs `bind` — binding a name that has no binding yet (the binding cache's miss, never its fast
 * path) — in a `bind` span, a child of the request's span: a slow namer, or one that never answers
 * within `bindingTimeout` (the span's error), shows in the trace before the first attempt.
 *
 * @since 0.1.0
 * @category server
 */
export const withBindSpan = <A, E, R>(
  bind: Effect.Effect<A, E, R>,
  service: string,
  localDtab: string
): Effect.Effect<A, E, R> => Effect.withSpan(bind, "bind", bindOptions(service, localDtab))

/**
 * Records a response on a span: `http.status_code`, and `l5d-err` when weir (or a linkerd
 * downstream) answered with an error.
 *
 * @since 0.1.0
 * @category server
 */
export const recordResponse = (span: Tracer.Span, response: HttpResponse): void => {
  span.attribute("http.status_code", response.status)
  const err = header(response.headers, Headers.names.err)
  if (err !== undefined) span.attribute("l5d.err", err)
}

/**
 * The attempt hooks of the proxy's HTTP clients (`TraceFilter.CurrentHooks`): the span is named
 * after the request's method; before each attempt, the attempt span's context is written as
 * `traceparent`, `l5d-ctx-trace` (and B3 when the request arrived with it); after it, the status and
 * `l5d-err` are recorded.
 *
 * @since 0.1.0
 * @category egress
 */
export const hooks: TraceFilter.Hooks<HttpRequest, HttpResponse, Failure.Failure> = {
  name: (request) => `${request.method} attempt`,
  traced: (request) => tracedRequests.has(request),
  inject: (request, span) => {
    const parentId = span.parent._tag === "Some" ? span.parent.value.spanId : undefined
    request.headers["traceparent"] = TraceContext.formatTraceparent(span.traceId, span.spanId, true)
    request.headers[Headers.names.ctxTrace] = Headers.encodeTrace(
      l5dOf(span.traceId, span.spanId, parentId ?? span.spanId, true, false)
    )
    writeB3(request, b3Form(request), span.traceId, span.spanId, true, parentId)
  },
  describe: (_request, exit: Exit.Exit<HttpResponse, Failure.Failure>, span) => {
    if (exit._tag === "Success") recordResponse(span, exit.value)
  }
}
