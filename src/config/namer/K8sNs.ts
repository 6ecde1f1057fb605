/**
 * The namer `io.l5d.k8s.ns`: the Kubernetes namer fixed to the namespace named by an environment
 * variable (names are `/#/io.l5d.k8s.ns/<port>/<service>`). Built with `namers/K8sNs.ts`.
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.k8s.ns
 *   host: localhost           # the default
 *   port: 8001                # the default
 *   envVar: POD_NAMESPACE     # the default
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as K8sNs from "../../namers/K8sNs.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, Port, withDefault } from "../Schemas.js"
import * as Common from "./Common.js"

/**
 * `{kind: io.l5d.k8s.ns, host, port, labelSelector, envVar, …}`: `host` defaults to `localhost`,
 * `port` to `8001`, `labelSelector` to none, `envVar` to `POD_NAMESPACE`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.k8s.ns"),
  host: NonEmptyString.pipe(withDefault("localhost")),
  port: Port.pipe(withDefault(8001)),
  labelSelector: S.optionalKey(NonEmptyString),
  envVar: NonEmptyString.pipe(withDefault("POD_NAMESPACE")),
  ...Common.fields("/io.l5d.k8s.ns")
})

/**
 * The plugin: `K8sNs.make` (it fails when the variable is not set).
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.k8s.ns" },
  make: (config) =>
    K8sNs.make({
      host: config.host,
      port: config.port,
      labelSelector: config.labelSelector,
      envVar: config.envVar,
      label: Common.label(config)
    })
})
