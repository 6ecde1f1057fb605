/**
 * The telemeter `io.l5d.tracelog`: every sampled span is logged through Effect's logger (weir's
 * logging, so `/logging` and the log format apply), at `level`, with its trace id, span id, parent,
 * name, duration and attributes. Lines are written every second from a bounded queue
 * (`telemetry/SpanExporter`), so logging never delays a request; overflow is dropped and counted
 * under `telemetry/io.l5d.tracelog/dropped`.
 *
 * ```yaml
 * telemetry:
 * - kind: io.l5d.tracelog
 *   sampleRate: 1.0      # the default
 *   level: INFO          # the default: ALL, TRACE, DEBUG, INFO, WARN, ERROR, FATAL (any case)
 *   host: localhost      # the default: shown on each line as `host`
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as LogLevel from "effect/LogLevel"
import * as S from "effect/Schema"
import * as SpanExporter from "../../telemetry/SpanExporter.js"
import type * as Telemeter from "../../telemetry/Telemeter.js"
import type * as Tracing from "../../telemetry/Tracing.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, Probability, withDefault } from "../Schemas.js"

const levels: Record<string, LogLevel.Severity> = {
  all: "Trace",
  trace: "Trace",
  debug: "Debug",
  info: "Info",
  warn: "Warn",
  warning: "Warn",
  error: "Error",
  fatal: "Fatal"
}

/**
 * `{kind: io.l5d.tracelog, sampleRate, level, host}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.tracelog"),
  sampleRate: Probability.pipe(withDefault(1)),
  level: NonEmptyString.check(
    S.makeFilter((s) => s.toLowerCase() in levels ? undefined : `one of ${Object.keys(levels).join(", ")}`)
  ).pipe(withDefault("INFO")),
  host: NonEmptyString.pipe(withDefault("localhost"))
})

/**
 * One span as a log line.
 *
 * @since 0.1.0
 * @category formatting
 */
export const format = (span: Tracing.SpanData, host: string): string => {
  const ms = Number(span.endTime - span.startTime) / 1e6
  const attrs = [...span.attributes].map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
  return [
    `trace ${span.traceId} span ${span.spanId}`,
    `parent ${span.parentSpanId ?? "-"}`,
    `${span.kind} "${span.name}"`,
    `${ms.toFixed(3)}ms`,
    span.error === undefined ? "ok" : `error "${span.error}"`,
    `host=${host}`,
    ...attrs
  ].join(" ")
}

/**
 * The plugin: logs every sampled span.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.tracelog" },
  make: (config): Telemeter.Make => (context) => {
    const log = Effect.logWithLevel(levels[config.level.toLowerCase()]!)
    return Effect.map(
      SpanExporter.make<Tracing.SpanData>({
        stats: context.registry.scope("telemetry", config.kind),
        send: (batch) => Effect.forEach(batch, (span) => log(format(span, config.host)), { discard: true })
      }),
      (exporter) => ({ endpoints: [], tracer: { sampleRate: config.sampleRate, export: exporter.push } })
    )
  }
})
