/**
 * The telemeter family (`telemetry:`): `io.l5d.prometheus`, `io.l5d.influxdb`, `io.l5d.statsd`,
 * `io.l5d.recentRequests`, and the tracing telemeters `io.l5d.zipkin`, `io.zipkin.http`,
 * `io.weir.otlp`, `io.l5d.tracelog`. A telemeter plugin's constructor returns a `Telemeter.Make`
 * (src/telemetry/Telemeter.ts): admin endpoints it serves and exporters it runs in the proxy's scope.
 * An unknown kind is reported with the kinds available.
 *
 * @since 0.1.0
 */
import * as Plugin from "../Plugin.js"
import * as InfluxDb from "./InfluxDb.js"
import * as Otlp from "./Otlp.js"
import * as Prometheus from "./Prometheus.js"
import * as RecentRequests from "./RecentRequests.js"
import * as Statsd from "./Statsd.js"
import * as TraceLog from "./TraceLog.js"
import * as Zipkin from "./Zipkin.js"

/**
 * The telemeter registry: `schema` decodes one entry of `telemetry`, `make` what it runs with.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = Plugin.registry(
  "telemeter",
  [
    Prometheus.plugin,
    InfluxDb.plugin,
    Statsd.plugin,
    RecentRequests.plugin,
    Zipkin.plugin,
    Zipkin.httpPlugin,
    Otlp.plugin,
    TraceLog.plugin
  ]
)

/**
 * A decoded telemeter.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof registry.schema.Type
