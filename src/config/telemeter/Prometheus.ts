/**
 * The telemeter `io.l5d.prometheus`: the admin server exports every metric in Prometheus text
 * format at `path` (and at `/admin/metrics/prometheus`), names prefixed with `prefix`.
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
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import * as Metrics from "../../telemetry/Metrics.js"
import type * as Telemeter from "../../telemetry/Telemeter.js"
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
 * The Prometheus text format's content type.
 *
 * @since 0.1.0
 * @category constants
 */
export const contentType = "text/plain; version=0.0.4; charset=utf-8"

/**
 * The plugin: the Prometheus exposition at `path` and at `/admin/metrics/prometheus`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.prometheus" },
  make: (config): Telemeter.Make => (context) =>
    Effect.succeed({
      endpoints: [...new Set([config.path, "/admin/metrics/prometheus"])].map((path) => ({
        path,
        contentType,
        render: () => Metrics.toPrometheus(context.snapshot(), config.prefix)
      }))
    })
})
