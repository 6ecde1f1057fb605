/**
 * The Kubernetes transformers, for linkers deployed as a DaemonSet:
 *
 * ```yaml
 * # outgoing router: send to the linker on the destination pod's node
 * - kind: io.l5d.k8s.daemonset
 *   namespace: linkerd      # required
 *   service: l5d            # required: the Service over the daemonset's pods
 *   port: incoming          # required: the name of that Service's port
 *   k8sHost: localhost      # the default (kubectl proxy)
 *   k8sPort: 8001           # the default
 *   hostNetwork: false      # the default; true pairs by node name instead of /24 network
 * # incoming router: only the pods on this node
 * - kind: io.l5d.k8s.localnode
 *   hostNetwork: false      # the default: needs POD_IP; true: needs NODE_NAME
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as S from "effect/Schema"
import * as K8s from "../../namers/k8s/Transformers.js"
import * as Plugin from "../Plugin.js"
import * as Common from "./Common.js"

/**
 * `{kind: io.l5d.k8s.daemonset, namespace, service, port, k8sHost, k8sPort, hostNetwork, prefix}`:
 * `namespace`, `service` and `port` are required; `k8sHost` defaults to `localhost`, `k8sPort` to
 * `8001`, `hostNetwork` to `false`, `prefix` to `/io.l5d.k8s.daemonset/<namespace>/<port>/<service>`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DaemonSetSchema = S.Struct({
  kind: S.Literal("io.l5d.k8s.daemonset"),
  namespace: Common.NonEmptyString,
  service: Common.NonEmptyString,
  port: Common.NonEmptyString,
  k8sHost: Common.NonEmptyString.pipe(S.withDecodingDefaultKey(Effect.succeed("localhost"))),
  k8sPort: Common.Port.pipe(S.withDecodingDefaultKey(Effect.succeed(8001))),
  hostNetwork: S.Boolean.pipe(S.withDecodingDefaultKey(Effect.succeed(false))),
  ...Common.fields
})

/**
 * The plugin `io.l5d.k8s.daemonset`: `K8s.daemonset`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const daemonset = Plugin.make({
  schema: DaemonSetSchema,
  example: { kind: "io.l5d.k8s.daemonset", namespace: "linkerd", service: "l5d", port: "incoming" },
  make: (config): Common.Build =>
    K8s.daemonset({
      apiHost: config.k8sHost,
      apiPort: config.k8sPort,
      namespace: config.namespace,
      service: config.service,
      port: config.port,
      hostNetwork: config.hostNetwork,
      prefix: config.prefix
    })
})

/**
 * `{kind: io.l5d.k8s.localnode, hostNetwork, prefix}`: `hostNetwork` defaults to `false`, `prefix`
 * to `/io.l5d.k8s.localnode` (the pod IP or node name is appended).
 *
 * @since 0.1.0
 * @category schemas
 */
export const LocalNodeSchema = S.Struct({
  kind: S.Literal("io.l5d.k8s.localnode"),
  hostNetwork: S.Boolean.pipe(S.withDecodingDefaultKey(Effect.succeed(false))),
  ...Common.fields
})

/**
 * The plugin `io.l5d.k8s.localnode`: `K8s.localnode`, reading `POD_IP` or `NODE_NAME` when built.
 *
 * @since 0.1.0
 * @category plugins
 */
export const localnode = Plugin.make({
  schema: LocalNodeSchema,
  example: { kind: "io.l5d.k8s.localnode" },
  make: (config): Common.Build =>
    Effect.suspend(() => {
      const r = K8s.localnode({ hostNetwork: config.hostNetwork, prefix: config.prefix })
      return Result.isSuccess(r)
        ? Effect.succeed(r.success)
        : Effect.fail(Common.failure("io.l5d.k8s.localnode", r.failure))
    })
})
