/**
 * Trace context on the wire, in the three forms a trace crossing weir, linkerd and OpenTelemetry- or
 * Zipkin-instrumented apps arrives in: W3C Trace Context (`traceparent`, `tracestate`), B3 (the
 * single `b3` header and the multi-header `X-B3-*` form) and linkerd's `l5d-ctx-trace` (see
 * `Headers.decodeTrace`). Each decodes to one `SpanContext` — a 128-bit trace id, the caller's span
 * id and its sampling decision — and `extract` picks the first present form in that order of
 * precedence: `l5d-ctx-trace`, `traceparent`, `b3`, `X-B3-TraceId`. Malformed values are ignored (a
 * new trace starts), as the W3C and B3 specifications require.
 *
 * Sources: W3C Trace Context Level 1 (§3.2 `traceparent`, §3.3 `tracestate`); openzipkin/b3-propagation
 * (single and multiple headers); Finagle's `Flags` (Debug = 1, SamplingKnown = 2, Sampled = 4) for the
 * sampling bits inside `l5d-ctx-trace`.
 *
 * @since 0.1.0
 */
import type { TraceId } from "./Headers.js"

/**
 * A caller's span, whatever form it arrived in. `traceId` is 32 lowercase hex digits (a 64-bit id is
 * left-padded with zeros), `spanId` 16. `sampled` is `undefined` when the caller left the decision to
 * weir.
 *
 * @since 0.1.0
 * @category model
 */
export interface SpanContext {
  readonly traceId: string
  readonly spanId: string
  readonly sampled: boolean | undefined
  /** The caller asked for this trace to be recorded whatever the sampling (B3 `d`, Finagle Debug). */
  readonly debug: boolean
  /** W3C `tracestate`, passed on unchanged (at most 512 bytes kept). */
  readonly traceState?: string | undefined
}

/**
 * The form a context arrived in.
 *
 * @since 0.1.0
 * @category model
 */
export type Format = "l5d" | "w3c" | "b3" | "b3multi"

const hex = (n: number) => new RegExp(`^[0-9a-f]{${n}}$`)
const hex16 = hex(16)
const hex32 = hex(32)
const zero = /^0+$/

const traceIdOf = (id: string): string | undefined => {
  const lower = id.toLowerCase()
  if (lower.length === 16 && hex16.test(lower)) return zero.test(lower) ? undefined : lower.padStart(32, "0")
  if (lower.length === 32 && hex32.test(lower)) return zero.test(lower) ? undefined : lower
  return undefined
}

const spanIdOf = (id: string): string | undefined => {
  const lower = id.toLowerCase()
  return hex16.test(lower) && !zero.test(lower) ? lower : undefined
}

/**
 * Decodes a W3C `traceparent` (`00-<trace id>-<parent id>-<flags>`). Version `ff`, all-zero ids,
 * uppercase hex and wrong lengths are invalid (`undefined`); a future version is read by its first
 * four fields.
 *
 * @since 0.1.0
 * @category w3c
 */
export const parseTraceparent = (value: string, traceState?: string): SpanContext | undefined => {
  const parts = value.trim().split("-")
  if (parts.length < 4) return undefined
  const [version, traceId, spanId, flags] = parts as [string, string, string, string]
  if (!hex(2).test(version) || version === "ff") return undefined
  if (version === "00" && parts.length !== 4) return undefined
  if (!hex32.test(traceId) || zero.test(traceId) || !hex16.test(spanId) || zero.test(spanId)) return undefined
  if (!hex(2).test(flags)) return undefined
  const state = traceState === undefined || traceState.length > 512 ? undefined : traceState
  return {
    traceId,
    spanId,
    sampled: (parseInt(flags, 16) & 1) === 1,
    debug: false,
    ...(state !== undefined ? { traceState: state } : {})
  }
}

/**
 * Encodes a `traceparent` for `span` (a child of the caller, or a new root) with its sampling flag.
 *
 * @since 0.1.0
 * @category w3c
 */
export const formatTraceparent = (traceId: string, spanId: string, sampled: boolean): string =>
  `00-${traceId}-${spanId}-${sampled ? "01" : "00"}`

/**
 * Decodes a single `b3` header: `<trace id>-<span id>[-<sampling>[-<parent span id>]]` or a lone
 * sampling decision (`0`, `1`, `d`), which carries no context (`undefined`).
 *
 * @since 0.1.0
 * @category b3
 */
export const parseB3 = (value: string): SpanContext | undefined => {
  const parts = value.trim().split("-")
  if (parts.length < 2 || parts.length > 4) return undefined
  const traceId = traceIdOf(parts[0]!)
  const spanId = spanIdOf(parts[1]!)
  if (traceId === undefined || spanId === undefined) return undefined
  const sampling = parts[2]
  if (sampling !== undefined && !["0", "1", "d"].includes(sampling)) return undefined
  if (parts[3] !== undefined && spanIdOf(parts[3]) === undefined) return undefined
  return {
    traceId,
    spanId,
    sampled: sampling === undefined ? undefined : sampling !== "0",
    debug: sampling === "d"
  }
}

/**
 * Decodes the multi-header B3 form (`X-B3-TraceId`, `X-B3-SpanId`, `X-B3-Sampled`, `X-B3-Flags`);
 * header names are looked up lower-case.
 *
 * @since 0.1.0
 * @category b3
 */
export const parseB3Multi = (get: (name: string) => string | undefined): SpanContext | undefined => {
  const t = get("x-b3-traceid")
  const s = get("x-b3-spanid")
  if (t === undefined || s === undefined) return undefined
  const traceId = traceIdOf(t.trim())
  const spanId = spanIdOf(s.trim())
  if (traceId === undefined || spanId === undefined) return undefined
  const debug = get("x-b3-flags")?.trim() === "1"
  const sampledHeader = get("x-b3-sampled")?.trim().toLowerCase()
  const sampled = debug
    ? true
    : sampledHeader === "1" || sampledHeader === "true"
    ? true
    : sampledHeader === "0" || sampledHeader === "false"
    ? false
    : undefined
  return { traceId, spanId, sampled, debug }
}

/**
 * Encodes a single `b3` header.
 *
 * @since 0.1.0
 * @category b3
 */
export const formatB3 = (traceId: string, spanId: string, sampled: boolean, parentSpanId?: string): string =>
  `${traceId}-${spanId}-${sampled ? "1" : "0"}${parentSpanId === undefined ? "" : `-${parentSpanId}`}`

const finagleDebug = 1
const finagleSamplingKnown = 2
const finagleSampled = 4

/**
 * A linkerd `l5d-ctx-trace` span as a `SpanContext`: the trace id with its high half, the span id,
 * and Finagle's sampling flags.
 *
 * @since 0.1.0
 * @category l5d
 */
export const fromL5d = (t: TraceId): SpanContext => {
  const flags = Number.parseInt(t.flags.slice(-8), 16) || 0
  return {
    traceId: ((t.traceIdHigh ?? "") + t.traceId).padStart(32, "0"),
    spanId: t.spanId,
    sampled: (flags & finagleSamplingKnown) !== 0 ? (flags & finagleSampled) !== 0 : undefined,
    debug: (flags & finagleDebug) !== 0
  }
}

/**
 * Finagle's flags word (16 hex digits) for a sampling decision, as `l5d-ctx-trace` carries it.
 *
 * @since 0.1.0
 * @category l5d
 */
export const l5dFlags = (sampled: boolean | undefined, debug = false): string => {
  const bits = (debug ? finagleDebug : 0) |
    (sampled === undefined ? 0 : finagleSamplingKnown | (sampled ? finagleSampled : 0))
  return bits.toString(16).padStart(16, "0")
}

/**
 * The caller's span context from request headers (lower-case names), in order of precedence:
 * `l5d-ctx-trace` (already decoded by the router, passed as `l5d`), `traceparent` (+ `tracestate`),
 * `b3`, the `X-B3-*` headers. `undefined` when none is present and valid.
 *
 * @since 0.1.0
 * @category extraction
 */
export const extract = (
  get: (name: string) => string | undefined,
  l5d?: TraceId | undefined
): { readonly context: SpanContext; readonly format: Format } | undefined => {
  if (l5d !== undefined) return { context: fromL5d(l5d), format: "l5d" }
  const traceparent = get("traceparent")
  if (traceparent !== undefined) {
    const c = parseTraceparent(traceparent, get("tracestate"))
    if (c !== undefined) return { context: c, format: "w3c" }
  }
  const b3 = get("b3")
  if (b3 !== undefined) {
    const c = parseB3(b3)
    if (c !== undefined) return { context: c, format: "b3" }
  }
  const multi = parseB3Multi(get)
  return multi === undefined ? undefined : { context: multi, format: "b3multi" }
}

/**
 * Writes the context of this hop's span onto outgoing request headers in every form, so the next hop
 * continues the trace whichever it reads: `traceparent` (+ the caller's `tracestate`), `b3`, and the
 * `X-B3-*` headers (`l5d-ctx-trace` is written by the router). Existing trace headers are replaced.
 *
 * @since 0.1.0
 * @category injection
 */
export const inject = (
  headers: Record<string, string | Array<string> | undefined>,
  span: { readonly traceId: string; readonly spanId: string; readonly parentSpanId?: string | undefined },
  sampled: boolean,
  traceState?: string | undefined
): void => {
  headers["traceparent"] = formatTraceparent(span.traceId, span.spanId, sampled)
  if (traceState !== undefined) headers["tracestate"] = traceState
  else delete headers["tracestate"]
  headers["b3"] = formatB3(span.traceId, span.spanId, sampled, span.parentSpanId)
  headers["x-b3-traceid"] = span.traceId
  headers["x-b3-spanid"] = span.spanId
  headers["x-b3-sampled"] = sampled ? "1" : "0"
  if (span.parentSpanId !== undefined) headers["x-b3-parentspanid"] = span.parentSpanId
  else delete headers["x-b3-parentspanid"]
  delete headers["x-b3-flags"]
}
