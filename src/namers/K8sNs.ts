/**
 * The namer `io.l5d.k8s.ns`: the Kubernetes namer (`K8s.ts`) fixed to one namespace, the one the
 * proxy runs in (given by the environment, Kubernetes' downward API: `envVar`, `POD_NAMESPACE` by
 * default). Names lose their namespace label: `/#/io.l5d.k8s.ns/<port>/<service>[/<label value>]`
 * answers what `/#/io.l5d.k8s/<namespace>/<port>/<service>[…]` would, and its bound ids are
 * `/<port>/<service>[…]` under the namer's prefix. Watches, failures and state are the Kubernetes
 * namer's.
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.k8s.ns
 *   envVar: MY_POD_NAMESPACE   # default POD_NAMESPACE
 * ```
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Name from "../naming/Name.js"
import type * as Namer from "../naming/Namer.js"
import * as NameTree from "../naming/NameTree.js"
import * as Path from "../naming/Path.js"
import * as K8s from "./K8s.js"

/**
 * The namespace variable is unset or empty.
 *
 * @since 0.1.0
 * @category errors
 */
export class NamespaceUnset extends Data.TaggedError("NamespaceUnset")<{ readonly envVar: string }> {
  override get message(): string {
    return `io.l5d.k8s.ns: the environment variable ${this.envVar} (the namespace) is not set`
  }
}

/**
 * Options of `make`: the Kubernetes namer's, and where the namespace comes from.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends K8s.Options {
  /** The environment variable holding the namespace. Defaults to `POD_NAMESPACE`. */
  readonly envVar?: string | undefined
  /** The environment read. Defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

const stripNamespace = (tree: NameTree.NameTree<Name.Name>): NameTree.NameTree<Name.Name> =>
  NameTree.map(
    tree,
    (n) => Name.isBound(n) && typeof n.id !== "string" ? Name.bound(Path.drop(n.id, 1), n.addr, n.residual) : n
  )

/**
 * Builds the namer: fails with `NamespaceUnset` when the variable is unset or empty.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Namer.Namer, NamespaceUnset, Scope.Scope> =>
  Effect.gen(function*() {
    const envVar = options?.envVar ?? "POD_NAMESPACE"
    const namespace = (options?.env ?? process.env)[envVar]
    if (namespace === undefined || namespace === "") return yield* Effect.fail(new NamespaceUnset({ envVar }))
    const ns = namespace.toLowerCase()
    const k8s = yield* K8s.make({ ...options, label: options?.label ?? "#/io.l5d.k8s.ns" })
    return {
      lookup: (path) => k8s.lookup(Path.fromLabels([ns, ...path.labels])).pipe(Stream.map(stripNamespace)),
      enumerate: Effect.map(
        k8s.enumerate,
        (paths) => paths.filter((p) => p.labels[0] === ns).map((p) => Path.drop(p, 1))
      ),
      state: Effect.map(k8s.state, (s) => ({ ...s, kind: "io.l5d.k8s.ns", namespace: ns }))
    }
  })
