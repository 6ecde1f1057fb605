/**
 * The namer `io.l5d.k8s.external`: a Kubernetes Service's external load-balancer addresses, for a
 * proxy outside the cluster. Experimental, as in linkerd. Built with `namers/K8sExternal.ts`.
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.k8s.external
 *   experimental: true      # required
 *   host: localhost         # the default
 *   port: 8001              # the default
 *   labelSelector: version  # default none
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as K8sExternal from "../../namers/K8sExternal.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, Port, withDefault } from "../Schemas.js"
import * as Common from "./Common.js"

/**
 * `{kind: io.l5d.k8s.external, experimental: true, host, port, labelSelector, …}`: `host` defaults
 * to `localhost`, `port` to `8001`, `labelSelector` to none.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.k8s.external"),
  host: NonEmptyString.pipe(withDefault("localhost")),
  port: Port.pipe(withDefault(8001)),
  labelSelector: S.optionalKey(NonEmptyString),
  ...Common.fields("/io.l5d.k8s.external")
}).check(
  S.makeFilter((n) =>
    n.experimental || {
      path: ["experimental"],
      issue:
        "the namer io.l5d.k8s.external is experimental and must be explicitly enabled by setting `experimental: true`"
    }
  )
)

/**
 * The plugin: `K8sExternal.make`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.k8s.external", experimental: true },
  make: (config) =>
    K8sExternal.make({
      host: config.host,
      port: config.port,
      labelSelector: config.labelSelector,
      label: Common.label(config)
    })
})
