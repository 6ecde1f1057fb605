/**
 * The identifier `io.l5d.ingress`: weir as a Kubernetes ingress controller. Requests are matched
 * against the rules of the cluster's Ingress resources (host and path rules, default backends),
 * watched through the Kubernetes API (`kubectl proxy` at `host:port`), and named
 * `<dstPrefix>/<namespace>/<port>/<service>`. Built with `namers/k8s/IngressCache.ts` (the watch)
 * and `http/IngressIdentifier.ts`.
 *
 * ```yaml
 * identifier:
 *   kind: io.l5d.ingress
 *   namespace: default             # all namespaces when absent
 *   ingressClassAnnotation: linkerd  # the default; Ingresses for another class are ignored
 *   ignoreDefaultBackends: false   # the default
 *   host: localhost                # the default (the Kubernetes API, via kubectl proxy)
 *   port: 8001                     # the default
 * dtab: /svc => /#/io.l5d.k8s
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Identifiers from "../../http/Identifiers.js"
import * as IngressIdentifier from "../../http/IngressIdentifier.js"
import * as IngressCache from "../../namers/k8s/IngressCache.js"
import type * as Path from "../../naming/Path.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, Port, withDefault } from "../Schemas.js"

/**
 * `{kind: io.l5d.ingress, namespace, ingressClassAnnotation, ignoreDefaultBackends, host, port}`:
 * `namespace` defaults to all, `ingressClassAnnotation` to `linkerd`, `ignoreDefaultBackends` to
 * `false`, `host` to `localhost`, `port` to `8001`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.ingress"),
  namespace: S.optionalKey(NonEmptyString),
  ingressClassAnnotation: NonEmptyString.pipe(withDefault("linkerd")),
  ignoreDefaultBackends: S.Boolean.pipe(withDefault(false)),
  host: NonEmptyString.pipe(withDefault("localhost")),
  port: Port.pipe(withDefault(8001))
})

/**
 * The plugin: under the router's `dstPrefix`, starts the Ingress watch in the router's scope and
 * builds the identifier over it.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.ingress" },
  make: (config) => (prefix: Path.Path): Effect.Effect<Identifiers.Identifier, never, Scope.Scope> =>
    IngressCache.make({
      host: config.host,
      port: config.port,
      namespace: config.namespace,
      ingressClass: config.ingressClassAnnotation,
      ignoreDefaultBackends: config.ignoreDefaultBackends
    }).pipe(Effect.map((cache) => IngressIdentifier.make(prefix, cache.route)))
})
