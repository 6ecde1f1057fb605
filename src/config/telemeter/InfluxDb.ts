/**
 * The telemeter `io.l5d.influxdb`: the admin server serves every metric in InfluxDB line protocol
 * at `/admin/metrics/influxdb`, for Telegraf's `http` input to scrape; each line carries a `host` tag
 * from the scrape request's `Host`. No keys besides `kind`.
 *
 * ```yaml
 * telemetry:
 * - kind: io.l5d.influxdb
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import * as Metrics from "../../telemetry/Metrics.js"
import type * as Telemeter from "../../telemetry/Telemeter.js"
import * as Plugin from "../Plugin.js"

/**
 * `{kind: io.l5d.influxdb}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({ kind: S.Literal("io.l5d.influxdb") })

/**
 * The plugin: `/admin/metrics/influxdb`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.influxdb" },
  make: (): Telemeter.Make => (context) =>
    Effect.succeed({
      endpoints: [{
        path: "/admin/metrics/influxdb",
        contentType: "text/plain; charset=utf-8",
        render: (host) => Metrics.toInflux(context.snapshot(), host === undefined || host === "" ? "none" : host)
      }]
    })
})
