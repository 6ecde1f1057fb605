/**
 * The telemeter `io.l5d.statsd` (experimental, as in linkerd: it needs `experimental: true`): sends
 * every metric to a statsd server over UDP every `gaugeIntervalMs` (see `telemetry/Statsd.ts` for
 * the names and how counters and histograms are sent).
 *
 * ```yaml
 * telemetry:
 * - kind: io.l5d.statsd
 *   experimental: true
 *   prefix: linkerd          # the default
 *   hostname: 127.0.0.1      # the default
 *   port: 8125               # the default
 *   gaugeIntervalMs: 10000   # the default
 *   sampleRate: 0.01         # the default
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import * as Statsd from "../../telemetry/Statsd.js"
import type * as Telemeter from "../../telemetry/Telemeter.js"
import * as Plugin from "../Plugin.js"
import { Millis, NonEmptyString, Port, withDefault } from "../Schemas.js"

/**
 * `{kind: io.l5d.statsd, experimental, prefix, hostname, port, gaugeIntervalMs, sampleRate}` with
 * linkerd's defaults; `experimental: true` is required.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.statsd"),
  experimental: S.Boolean.pipe(withDefault(false)),
  prefix: S.String.pipe(withDefault("linkerd")),
  hostname: NonEmptyString.pipe(withDefault("127.0.0.1")),
  port: Port.pipe(withDefault(8125)),
  gaugeIntervalMs: Millis({ positive: true }).pipe(withDefault(10_000)),
  sampleRate: S.Finite.check(S.isBetween({ minimum: 0, maximum: 1 })).pipe(withDefault(0.01))
}).check(
  S.makeFilter((c) =>
    c.experimental
      ? undefined
      : { path: ["experimental"], issue: "io.l5d.statsd is experimental: set experimental: true to use it" }
  )
)

/**
 * The plugin: the statsd exporter, running for as long as the proxy.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.statsd", experimental: true },
  make: (config): Telemeter.Make => (context) =>
    Effect.as(
      Statsd.make(context.snapshot, {
        prefix: config.prefix,
        host: config.hostname,
        port: config.port,
        interval: config.gaugeIntervalMs,
        sampleRate: config.sampleRate
      }),
      { endpoints: [] }
    )
})
