/**
 * A telemeter: what one `telemetry:` entry of a config runs. Given the proxy's metrics, it may serve
 * admin endpoints (`/admin/metrics/prometheus`, `/admin/metrics/influxdb`), run exporters in the
 * proxy's scope (statsd over UDP), receive the proxy's finished spans (zipkin, OTLP, tracelog) and
 * keep a sample of the requests the routers serve (`/requests`). Each kind is a plugin
 * (`src/config/telemeter/`) whose constructor
 * returns a `Make`.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stats from "../Stats.js"
import type * as Metrics from "./Metrics.js"
import type * as RecentRequests from "./RecentRequests.js"
import type * as Tracing from "./Tracing.js"

/**
 * What a telemeter is given: the registry and its windowed snapshot.
 *
 * @since 0.1.0
 * @category model
 */
export interface Context {
  readonly registry: Stats.InMemory
  readonly snapshot: () => Metrics.Snapshot
}

/**
 * An admin endpoint a telemeter serves on `GET`: `render` receives the request's `Host`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Endpoint {
  readonly path: string
  readonly contentType: string
  readonly render: (host: string | undefined) => string
}

/**
 * A started telemeter.
 *
 * @since 0.1.0
 * @category model
 */
export interface Telemeter {
  readonly endpoints: ReadonlyArray<Endpoint>
  /** Where a tracing telemeter receives finished spans (`Tracing.Sink`); absent for the others. */
  readonly tracer?: Tracing.Sink | undefined
  /**
   * Keeps a sample of the requests the routers serve, for the admin server's `/requests`
   * (`io.l5d.recentRequests`). Defaults to none.
   */
  readonly recentRequests?: RecentRequests.RecentRequests | undefined
}

/**
 * Starts a telemeter in the proxy's scope.
 *
 * @since 0.1.0
 * @category model
 */
export type Make = (context: Context) => Effect.Effect<Telemeter, never, Scope.Scope>
