/**
 * The namer `io.l5d.k8s`: Kubernetes endpoints through `kubectl proxy` (plain HTTP to `host:port`).
 * Built with `namers/K8s.ts`.
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.k8s
 *   host: localhost       # the default
 *   port: 8001            # the default
 *   labelSelector: app=web
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as K8s from "../../namers/K8s.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, Port, withDefault } from "../Schemas.js"
import * as Common from "./Common.js"

/**
 * `{kind: io.l5d.k8s, host, port, labelSelector, …}`: `host` defaults to `localhost`, `port` to
 * `8001`, `labelSelector` to none.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.k8s"),
  host: NonEmptyString.pipe(withDefault("localhost")),
  port: Port.pipe(withDefault(8001)),
  labelSelector: S.optionalKey(NonEmptyString),
  ...Common.fields("/io.l5d.k8s")
})

/**
 * The plugin: `K8s.make`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.k8s" },
  make: (config) =>
    K8s.make({ host: config.host, port: config.port, labelSelector: config.labelSelector, label: Common.label(config) })
})
