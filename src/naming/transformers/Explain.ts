/**
 * The delegator's view of a router with transformers, in linkerd's shape: above each bound leaf, one
 * `transformation` node per transformer, outermost first, each with the transformer's `name`, the
 * `bound` name it was given and the `tree` it made of it:
 *
 * ```json
 * {"type": "transformation", "path": "/#/io.l5d.fs/books", "name": "io.l5d.port",
 *  "bound": {"addr": {…port 8080…}, "id": "/#/io.l5d.fs/books", "path": "/"},
 *  "tree": {"type": "leaf", "path": "/#/io.l5d.fs/books",
 *           "bound": {"addr": {…port 4141…}, "id": "/%/io.l5d.port/4141/#/io.l5d.fs/books", "path": "/"}}}
 * ```
 *
 * It explains the path once per prefix of the transformer list (none, the first, the first two, …)
 * and lays the answers over each other: they have the same shape down to the leaves, where each
 * transformer's answer is the next step.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Delegation from "../Delegation.js"
import type * as Dtab from "../Dtab.js"
import type * as Interpreter from "../Interpreter.js"
import type * as Path from "../Path.js"
import * as Transformer from "./Transformer.js"

/**
 * A `transformation` node: what transformer `name` made of `bound`.
 *
 * @since 0.1.0
 * @category model
 */
export interface TransformationJson {
  readonly type: "transformation"
  readonly path: string
  readonly dentry?: Delegation.DentryJson
  readonly name: string
  readonly bound: Delegation.BoundJson
  readonly tree: Explained
}

/**
 * A delegation node, or a transformation over one.
 *
 * @since 0.1.0
 * @category model
 */
export type Explained =
  | TransformationJson
  | Exclude<Delegation.DelegateTree, { readonly type: "delegate" | "alt" | "union" }>
  | (Omit<Extract<Delegation.DelegateTree, { readonly type: "delegate" }>, "delegate"> & {
    readonly delegate: Explained
  })
  | (Omit<Extract<Delegation.DelegateTree, { readonly type: "alt" }>, "alt"> & {
    readonly alt: ReadonlyArray<Explained>
  })
  | (Omit<Extract<Delegation.DelegateTree, { readonly type: "union" }>, "union"> & {
    readonly union: ReadonlyArray<{ readonly weight: number; readonly tree: Explained }>
  })

type Node = Delegation.DelegateTree

const sameShape = (nodes: ReadonlyArray<Node>, size: (n: Node) => number): boolean =>
  nodes.every((n) => n.type === nodes[0]!.type && size(n) === size(nodes[0]!))

/**
 * Lays the explanations of successive transformer prefixes over each other: `nodes[i]` is the
 * explanation with the first `i` transformers, `names[i]` the name of transformer `i + 1`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const overlay = (nodes: ReadonlyArray<Node>, names: ReadonlyArray<string>): Explained => {
  const last = nodes[nodes.length - 1]!
  if (nodes.length === 1) return last
  const first = nodes[0]!
  switch (first.type) {
    case "leaf": {
      // the leaves up to the first step that did not answer a single leaf
      let k = 1
      while (k < nodes.length - 1 && nodes[k]!.type === "leaf") k++
      let acc = overlay(nodes.slice(k), names.slice(k))
      for (let i = k - 1; i >= 0; i--) {
        const before = nodes[i] as Extract<Node, { readonly type: "leaf" }>
        acc = {
          type: "transformation",
          path: before.path,
          ...(before.dentry !== undefined ? { dentry: before.dentry } : {}),
          name: names[i]!,
          bound: before.bound,
          tree: acc
        }
      }
      return acc
    }
    case "delegate": {
      if (!sameShape(nodes, () => 1)) return last
      const ds = nodes as ReadonlyArray<Extract<Node, { readonly type: "delegate" }>>
      return { ...ds[ds.length - 1]!, delegate: overlay(ds.map((d) => d.delegate), names) }
    }
    case "alt": {
      const as = nodes as ReadonlyArray<Extract<Node, { readonly type: "alt" }>>
      if (!sameShape(nodes, (n) => (n as typeof as[number]).alt.length)) return last
      return { ...as[as.length - 1]!, alt: first.alt.map((_, j) => overlay(as.map((a) => a.alt[j]!), names)) }
    }
    case "union": {
      const us = nodes as ReadonlyArray<Extract<Node, { readonly type: "union" }>>
      if (!sameShape(nodes, (n) => (n as typeof us[number]).union.length)) return last
      return {
        ...us[us.length - 1]!,
        union: first.union.map((w, j) => ({ weight: w.weight, tree: overlay(us.map((u) => u.union[j]!.tree), names) }))
      }
    }
    default:
      return last
  }
}

/**
 * Explains `path` under `dtab` through `interpreter` wrapped with `transformers`, showing each
 * transformer's step (`transformation` nodes). Without transformers it is `Delegation.explain`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const explain = (
  interpreter: Interpreter.NameInterpreter,
  transformers: ReadonlyArray<Transformer.Transformer>,
  dtab: Dtab.Dtab,
  path: Path.Path,
  options?: Delegation.Options
): Effect.Effect<Explained> =>
  Effect.map(
    Effect.forEach(
      Array.from({ length: transformers.length + 1 }, (_, i) => i),
      (i) =>
        Delegation.explain(Transformer.wrapInterpreter(interpreter, transformers.slice(0, i)), dtab, path, options),
      { concurrency: "unbounded" }
    ),
    (nodes) => overlay(nodes, transformers.map((t) => t.name))
  )
