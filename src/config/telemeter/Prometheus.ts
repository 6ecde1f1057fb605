/**
 * The telemeter `io.l5d.prometheus`: the admin server exports every metric in Prometheus text
 * format at `path`, names prefixed with `prefix`.
 *
 * ```yaml
 * telemetry:
 * - kind: io.l5d.prometheus
 *   path: /admin/metrics/prometheus   # the default
 *   prefix: ""                        # the default
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, withDefault } from "../Schemas.js"

/**
 * `{kind: io.l5d.prometheus, path, prefix}`: `path` (starting with `/`) defaults to
 * `/admin/metrics/prometheus`, `prefix` to none.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.prometheus"),
  path: NonEmptyString.check(S.isStartingWith("/")).pipe(withDefault("/admin/metrics/prometheus")),
  prefix: S.String.pipe(withDefault(""))
})

/**
 * What the admin server is given to serve the Prometheus endpoint.
 *
 * @since 0.1.0
 * @category model
 */
export interface Endpoint {
  readonly path: string
  readonly prefix: string
}

/**
 * The plugin: the admin server's Prometheus endpoint.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.prometheus" },
  make: (config): Endpoint => ({ path: config.path, prefix: config.prefix })
})
