/**
 * The namer `io.l5d.experimental.k8s`: linkerd 0.x's Kubernetes namer (the seed talk's), talking
 * to the API server directly. It answers under `/io.l5d.k8s` by default, as it did in linkerd 0.x.
 * Built with `namers/K8s.ts`.
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.experimental.k8s
 *   host: kubernetes.default.svc.cluster.local   # the default
 *   port: 443                                    # the default
 *   tls: true                                    # the default
 *   tlsWithoutValidation: false                  # the default
 *   authTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
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
 * `{kind: io.l5d.experimental.k8s, host, port, tls, tlsWithoutValidation, authTokenFile, …}` with
 * the defaults above; `prefix` defaults to `/io.l5d.k8s`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.experimental.k8s"),
  host: NonEmptyString.pipe(withDefault("kubernetes.default.svc.cluster.local")),
  port: Port.pipe(withDefault(443)),
  tls: S.Boolean.pipe(withDefault(true)),
  tlsWithoutValidation: S.Boolean.pipe(withDefault(false)),
  authTokenFile: S.optionalKey(NonEmptyString),
  ...Common.fields("/io.l5d.k8s")
})

/**
 * The plugin: `K8s.make` against the API server.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.experimental.k8s" },
  make: (config) =>
    K8s.make({
      host: config.host,
      port: config.port,
      tls: config.tls,
      tlsWithoutValidation: config.tlsWithoutValidation,
      authTokenFile: config.authTokenFile,
      label: Common.label(config)
    })
})
