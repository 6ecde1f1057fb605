/**
 * The proxy's tracer: an Effect `Tracer` whose spans, when they end, go to every tracing telemeter
 * (`io.l5d.zipkin`, `io.zipkin.http`, `io.weir.otlp`, `io.l5d.tracelog`) as plain `SpanData`.
 * Because it is an Effect `Tracer`, the spans weir's stack modules open with `Effect.withSpan` (the
 * per-attempt span of `TraceFilter`) and any span a user's code opens inside a request are recorded
 * the same way; a library user installs their own tracer (`effect/observability`'s `OtlpTracer`)
 * instead and gets the same spans.
 *
 * Sampling is decided once per trace, from its trace id, so every hop and every sink agrees without
 * coordination (OpenTelemetry's `TraceIdRatioBased`): a trace is kept at rate `r` when the low 52
 * bits of its id, as a fraction of 2^52, are below `r`. A request is traced when any sink keeps its
 * trace, and each sink exports only the traces its own `sampleRate` keeps — unless the caller marked
 * the trace sampled (or debug), which every sink honours.
 *
 * @since 0.1.0
 */
import type * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import { randomHex } from "../internal/Ids.js"

/**
 * A finished span as the sinks receive it. Times are nanoseconds since the epoch.
 *
 * @since 0.1.0
 * @category model
 */
export interface SpanData {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly kind: Tracer.SpanKind
  readonly startTime: bigint
  readonly endTime: bigint
  readonly attributes: ReadonlyMap<string, unknown>
  readonly events: ReadonlyArray<readonly [name: string, time: bigint, attributes: Record<string, unknown> | undefined]>
  /** `undefined` for success; the error's message otherwise (interruptions count as success). */
  readonly error: string | undefined
}

/**
 * Where a tracing telemeter receives finished spans; `export` must not block or throw.
 *
 * @since 0.1.0
 * @category model
 */
export interface Sink {
  readonly sampleRate: number
  readonly export: (span: SpanData) => void
}

/**
 * How a trace started at this hop: its trace id (fresh or the caller's) and whether the caller
 * forced sampling. Set as an annotation of the root span (see `HttpTracing`).
 *
 * @since 0.1.0
 * @category annotations
 */
export const Origin = Context.Reference<{ readonly traceId: string; readonly forced: boolean } | undefined>(
  "weir/telemetry/Tracing/Origin",
  { defaultValue: () => undefined }
)

const two52 = 2 ** 52

/**
 * Whether a trace is kept at `rate`: the low 52 bits of `traceId` (hex) as a fraction of 2^52 are
 * below `rate`; always at 1, never at 0.
 *
 * @since 0.1.0
 * @category sampling
 */
export const admits = (traceId: string, rate: number): boolean => {
  if (rate >= 1) return true
  if (rate <= 0) return false
  return Number.parseInt(traceId.slice(-13), 16) / two52 < rate
}

/**
 * A random lower-case hex id of `length` digits (from `crypto.randomBytes`), never all zeros.
 *
 * @since 0.1.0
 * @category ids
 */
export const randomId = (length: 16 | 32): string => randomHex(length)

const errorOf = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (exit._tag === "Success") return undefined
  const cause = exit.cause as Cause.Cause<unknown>
  if (cause.reasons.every((r) => r._tag === "Interrupt")) return undefined
  for (const r of cause.reasons) {
    if (r._tag === "Fail") {
      const e = r.error as { readonly message?: unknown; readonly _tag?: unknown }
      return typeof e?.message === "string" && e.message !== "" ? e.message : String(e?._tag ?? e)
    }
    if (r._tag === "Die") return String((r.defect as { message?: unknown })?.message ?? r.defect)
  }
  return "failed"
}

class WeirSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly name: string
  readonly parent: Option.Option<Tracer.AnySpan>
  readonly annotations: Context.Context<never>
  readonly links: Array<Tracer.SpanLink>
  readonly kind: Tracer.SpanKind
  readonly sampled: boolean
  readonly traceId: string
  readonly spanId: string
  readonly forced: boolean
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  readonly events: Array<readonly [string, bigint, Record<string, unknown> | undefined]> = []

  constructor(
    options: Parameters<Tracer.Tracer["span"]>[0],
    readonly sinks: ReadonlyArray<Sink>
  ) {
    this.name = options.name
    this.parent = options.parent
    this.annotations = options.annotations
    this.links = options.links
    this.kind = options.kind
    this.sampled = options.sampled
    this.status = { _tag: "Started", startTime: options.startTime }
    this.spanId = randomId(16)
    const origin = Context.get(options.annotations, Origin)
    const parent = Option.getOrUndefined(options.parent)
    this.traceId = parent?.traceId ?? origin?.traceId ?? randomId(32)
    this.forced = origin?.forced ?? (parent instanceof WeirSpan ? parent.forced : false)
  }

  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>): void {
    if (this.status._tag === "Ended") return
    const startTime = this.status.startTime
    this.status = { _tag: "Ended", startTime, endTime, exit }
    if (!this.sampled) return
    const data: SpanData = {
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: Option.getOrUndefined(this.parent)?.spanId,
      name: this.name,
      kind: this.kind,
      startTime,
      endTime,
      attributes: this.attributes,
      events: this.events,
      error: errorOf(exit)
    }
    for (const sink of this.sinks) {
      if (this.forced || admits(this.traceId, sink.sampleRate)) sink.export(data)
    }
  }

  attribute(key: string, value: unknown): void {
    if (this.status._tag !== "Ended") this.attributes.set(key, value)
  }

  event(name: string, startTime: bigint, attributes?: Record<string, unknown>): void {
    if (this.status._tag !== "Ended") this.events.push([name, startTime, attributes])
  }

  addLinks(links: ReadonlyArray<Tracer.SpanLink>): void {
    if (this.status._tag !== "Ended") this.links.push(...links)
  }
}

/**
 * The proxy's tracing: the Effect `Tracer` feeding `sinks`, and the rate at which a trace starting
 * here is sampled (the highest of the sinks').
 *
 * @since 0.1.0
 * @category model
 */
export interface Tracing {
  readonly tracer: Tracer.Tracer
  readonly sampleRate: number
  readonly sinks: ReadonlyArray<Sink>
  /** Whether a trace with this id, not forced by its caller, is recorded here. */
  readonly sample: (traceId: string) => boolean
}

/**
 * The tracing of `sinks`; `undefined` when there are none (the proxy then opens no span at all).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (sinks: ReadonlyArray<Sink>): Tracing | undefined => {
  if (sinks.length === 0) return undefined
  const sampleRate = Math.max(...sinks.map((s) => s.sampleRate))
  return {
    tracer: Tracer.make({ span: (options) => new WeirSpan(options, sinks) }),
    sampleRate,
    sinks,
    sample: (traceId) => admits(traceId, sampleRate)
  }
}
