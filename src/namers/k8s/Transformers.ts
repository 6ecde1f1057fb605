/**
 * The Kubernetes transformers, for linkers deployed as a DaemonSet (one linker per node):
 *
 * - `daemonset` (linkerd's `io.l5d.k8s.daemonset`), on the outgoing side: each address of a bound
 *   name is replaced by the daemonset's linker on the same node as that address, so a request goes
 *   to the destination node's linker rather than straight to the pod. The daemonset's pods are the
 *   endpoints of its Service (`namespace`, `service`, named `port`), watched through the Kubernetes
 *   API as the `io.l5d.k8s` namer does (`namers/K8s.ts`). "The same node" is the same /24 network
 *   (each node's pods share one), or, with `hostNetwork` (daemonset pods on the node's network, so
 *   their IPs are the nodes'), the same `nodeName` of the endpoint addresses.
 * - `localnode` (`io.l5d.k8s.localnode`), on the incoming side: keeps only the addresses on this
 *   node: the /24 network of `POD_IP`, or with `hostNetwork` the endpoints whose `nodeName` is
 *   `NODE_NAME` (both set from the downward API).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Address from "../../Address.js"
import type * as Activity from "../../naming/Activity.js"
import type * as Addr from "../../naming/Addr.js"
import type * as Name from "../../naming/Name.js"
import * as Namer from "../../naming/Namer.js"
import type * as NameTree from "../../naming/NameTree.js"
import * as Path from "../../naming/Path.js"
import * as Gateway from "../../naming/transformers/Gateway.js"
import * as Hosts from "../../naming/transformers/Hosts.js"
import type * as Transformer from "../../naming/transformers/Transformer.js"
import * as K8sNamer from "../K8s.js"

/**
 * Options of `daemonset`.
 *
 * @since 0.1.0
 * @category models
 */
export interface DaemonSetOptions {
  /** The Kubernetes API host (`kubectl proxy`). Defaults to `localhost`. */
  readonly apiHost?: string | undefined
  /** The Kubernetes API port. Defaults to `8001`. */
  readonly apiPort?: number | undefined
  /** The daemonset's namespace. */
  readonly namespace: string
  /** The Service selecting the daemonset's pods. */
  readonly service: string
  /** The name of the Service port to send to (the linker's incoming router). */
  readonly port: string
  /** Pair by `nodeName` instead of /24 network. Defaults to `false`. */
  readonly hostNetwork?: boolean | undefined
  /** Defaults to `/io.l5d.k8s.daemonset/<namespace>/<port>/<service>`. */
  readonly prefix?: Path.Path | undefined
}

const leaves = (tree: NameTree.NameTree<Name.Name>): Array<Name.Bound> => {
  switch (tree._tag) {
    case "Leaf":
      return tree.value._tag === "Bound" ? [tree.value] : []
    case "Alt":
      return tree.trees.flatMap(leaves)
    case "Union":
      return tree.trees.flatMap((w) => leaves(w.tree))
    default:
      return []
  }
}

/**
 * The live union of the addresses of every bound name of a namer's answer: `undefined` while the
 * answer is not known, empty for `Neg`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const addressesOf = (
  states: Stream.Stream<Activity.State<NameTree.NameTree<Name.Name>>>
): Stream.Stream<ReadonlyArray<Address.Address> | undefined> =>
  Stream.switchMap(states, (s): Stream.Stream<ReadonlyArray<Address.Address> | undefined> => {
    if (s._tag !== "Ok") return Stream.make(undefined)
    const bounds = leaves(s.value)
    if (bounds.length === 0) return Stream.make([])
    return Stream.zipLatestAll(...bounds.map((b) => b.addr)).pipe(
      Stream.map((addrs) => {
        const out: Array<Address.Address> = []
        for (const a of addrs as ReadonlyArray<Addr.Addr>) if (a._tag === "Bound") out.push(...a.addresses)
        return out
      })
    )
  })

/**
 * `io.l5d.k8s.daemonset`: sends to the daemonset's linker on each address's node. The endpoints
 * watch lives in the current scope (opened on first use, shared by every bound name).
 *
 * @since 0.1.0
 * @category constructors
 */
export const daemonset = (options: DaemonSetOptions): Effect.Effect<Transformer.Transformer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = options.prefix ??
      Path.make("io.l5d.k8s.daemonset", options.namespace, options.port, options.service)
    const label = `%${Path.show(prefix)}`
    const namer = yield* K8sNamer.make({ host: options.apiHost, port: options.apiPort, label })
    const shared = yield* Namer.shared(namer, { label })
    const gateways = addressesOf(shared.watch(Path.make(options.namespace, options.port, options.service)))
    return Gateway.make({
      name: "io.l5d.k8s.daemonset",
      prefix,
      gateways,
      serves: options.hostNetwork === true ? Gateway.byNodeName : Gateway.bySubnet
    })
  })

/**
 * Options of `localnode`.
 *
 * @since 0.1.0
 * @category models
 */
export interface LocalNodeOptions {
  /** Compare `nodeName` with `NODE_NAME` instead of /24 network with `POD_IP`. Defaults to `false`. */
  readonly hostNetwork?: boolean | undefined
  /** The environment to read `POD_IP` / `NODE_NAME` from. Defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /** Defaults to `/io.l5d.k8s.localnode`; the IP or node name is appended. */
  readonly prefix?: Path.Path | undefined
}

/**
 * `io.l5d.k8s.localnode`: keeps the addresses on this node, or says which variable is missing.
 *
 * @since 0.1.0
 * @category constructors
 */
export const localnode = (options?: LocalNodeOptions): Result.Result<Transformer.Transformer, string> => {
  const env = options?.env ?? process.env
  const prefix = options?.prefix ?? Path.make("io.l5d.k8s.localnode")
  const name = "io.l5d.k8s.localnode"
  if (options?.hostNetwork === true) {
    const node = env["NODE_NAME"]
    if (node === undefined || node === "") {
      return Result.fail("the NODE_NAME environment variable must be set to the node's name (with hostNetwork: true)")
    }
    return Result.succeed(Hosts.metadata(name, Path.concat(prefix, Path.make(node)), "nodeName", node))
  }
  const ip = env["POD_IP"]
  if (ip === undefined || ip === "") {
    return Result.fail("the POD_IP environment variable must be set to the pod's IP")
  }
  return Result.succeed(Hosts.subnet(name, Path.concat(prefix, Path.make(ip)), ip))
}
