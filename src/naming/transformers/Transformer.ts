/**
 * A `Transformer` rewrites what binding produced: a function over bound name trees, applied after
 * an interpreter (or a namer) has answered. linkerd's transformers are of this shape: they filter
 * the addresses of each bound name (`localhost`, `localnode`), rewrite them (`port`), swap them for
 * other addresses (`k8s.daemonset`), or replace the bound names altogether (`replace`, `const`).
 *
 * A transformer that rewrites addresses gives each bound name a new client id, `/%/<prefix>/<id>`
 * (`/%/io.l5d.port/4141/#/io.l5d.fs/books`), so a transformed name never shares a client with the
 * untransformed one. Address states are streams: a transformer maps the stream, so the result stays
 * live (a new address set from the namer gives a new transformed set).
 *
 * Transformers compose (`compose`: applied in order, as linkerd's `transformers:` list), and wrap an
 * interpreter (`wrapInterpreter`: its bindings, and the namer answers the delegator shows) or a
 * namer (`wrapNamer`: answers made only of bound names).
 *
 * @since 0.1.0
 */
import * as Stream from "effect/Stream"
import type * as Address from "../../Address.js"
import * as Activity from "../Activity.js"
import * as Addr from "../Addr.js"
import type * as Interpreter from "../Interpreter.js"
import * as Name from "../Name.js"
import type * as Namer from "../Namer.js"
import * as NameTree from "../NameTree.js"
import * as Path from "../Path.js"

/**
 * A transformer of bound trees.
 *
 * @since 0.1.0
 * @category model
 */
export interface Transformer {
  /** What it is, for messages and the delegator (`io.l5d.port`). */
  readonly name: string
  /** The transformed tree. Leaves keep their residual; address streams stay live. */
  readonly apply: (tree: NameTree.NameTree<Name.Bound>) => NameTree.NameTree<Name.Bound>
}

/**
 * The label under which transformed ids live: `/%`.
 *
 * @since 0.1.0
 * @category constants
 */
export const root: Path.Path = Path.make("%")

/**
 * A transformer from its name and tree function.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (name: string, apply: Transformer["apply"]): Transformer => ({ name, apply })

/**
 * The id of a transformed bound name: `/%/<prefix>/<id>` for a path id; a string id is kept.
 *
 * @since 0.1.0
 * @category naming
 */
export const prefixId = (prefix: Path.Path, id: Name.Bound["id"]): Name.Bound["id"] =>
  typeof id === "string" ? id : Path.concat(Path.concat(root, prefix), id)

/**
 * Maps every bound leaf of a tree (the tree's shape and its `Neg`/`Fail`/`Empty` are kept).
 *
 * @since 0.1.0
 * @category combinators
 */
export const mapLeaves = <A, B>(
  tree: NameTree.NameTree<A>,
  f: (a: A) => NameTree.NameTree<B>
): NameTree.NameTree<B> => {
  switch (tree._tag) {
    case "Neg":
    case "Fail":
    case "Empty":
      return tree
    case "Leaf":
      return f(tree.value)
    case "Alt":
      return NameTree.alt(...tree.trees.map((t) => mapLeaves(t, f)))
    case "Union":
      return NameTree.union(...tree.trees.map((w) => ({ weight: w.weight, tree: mapLeaves(w.tree, f) })))
  }
}

/**
 * A transformer that rewrites each bound name's address states with `f` (`Pending`, `Neg` and
 * `Failed` states are passed to `f` too) and prefixes its id with `/%/<prefix>`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const mapAddr = (name: string, prefix: Path.Path, f: (addr: Addr.Addr) => Addr.Addr): Transformer =>
  make(name, (tree) =>
    mapLeaves(
      tree,
      (b) => NameTree.leaf(Name.bound(prefixId(prefix, b.id), Stream.map(b.addr, f), b.residual))
    ))

/**
 * A transformer that keeps, in each bound set, the addresses `keep` accepts; a set left empty is
 * `Neg` (as linkerd's filtering transformers). Weights, metadata and the set's metadata are kept.
 * Ids are prefixed with `/%/<prefix>`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const filter = (name: string, prefix: Path.Path, keep: (address: Address.Address) => boolean): Transformer =>
  mapAddr(name, prefix, (a) => {
    if (a._tag !== "Bound") return a
    const kept = a.addresses.filter(keep)
    return kept.length === 0 ? Addr.neg : Addr.bound(kept, a.meta)
  })

/**
 * The transformers applied in order (the first one first). No transformers is the identity.
 *
 * @since 0.1.0
 * @category combinators
 */
export const compose = (transformers: ReadonlyArray<Transformer>): Transformer =>
  transformers.length === 1 ? transformers[0]! : make(
    transformers.map((t) => t.name).join(" then "),
    (tree) => transformers.reduce((t, x) => x.apply(t), tree)
  )

const isBoundTree = (tree: NameTree.NameTree<Name.Name>): tree is NameTree.NameTree<Name.Bound> => {
  switch (tree._tag) {
    case "Neg":
    case "Fail":
    case "Empty":
      return true
    case "Leaf":
      return tree.value._tag === "Bound"
    case "Alt":
      return tree.trees.every(isBoundTree)
    case "Union":
      return tree.trees.every((w) => isBoundTree(w.tree))
  }
}

/**
 * Applies a transformer to a namer's answer when the answer is made of bound names only; an
 * answer holding paths (a rewrite, to be looked up again) is left as it is, as linkerd does.
 *
 * @since 0.1.0
 * @category combinators
 */
export const applyToAnswer = (
  transformer: Transformer,
  tree: NameTree.NameTree<Name.Name>
): NameTree.NameTree<Name.Name> => isBoundTree(tree) ? transformer.apply(tree) : tree

/**
 * A namer whose bound answers go through the transformers (linkerd's `namers[].transformers`).
 * Enumeration and state are the underlying namer's.
 *
 * @since 0.1.0
 * @category combinators
 */
export const wrapNamer = (namer: Namer.Namer, transformers: ReadonlyArray<Transformer>): Namer.Namer => {
  if (transformers.length === 0) return namer
  const t = compose(transformers)
  return {
    ...namer,
    lookup: (path) => Stream.map(namer.lookup(path), (tree) => applyToAnswer(t, tree))
  }
}

/**
 * An interpreter whose bindings go through the transformers (linkerd's
 * `interpreter.transformers`): `bind` and `bindStates` give the transformed tree. The namer answers
 * (`namerLookup`, `lookup`) are transformed where they are bound, so the delegator shows the
 * transformed ids and addresses at the leaves.
 *
 * @since 0.1.0
 * @category combinators
 */
export const wrapInterpreter = (
  interpreter: Interpreter.NameInterpreter,
  transformers: ReadonlyArray<Transformer>
): Interpreter.NameInterpreter => {
  if (transformers.length === 0) return interpreter
  const t = compose(transformers)
  const answers = <E>(s: Stream.Stream<Activity.State<NameTree.NameTree<Name.Name>>, E>) =>
    Stream.map(s, (state) => Activity.map(state, (tree) => applyToAnswer(t, tree)))
  return {
    ...interpreter,
    bind: (dtab, path) => Stream.map(interpreter.bind(dtab, path), t.apply),
    bindStates: (dtab, path) => Stream.map(interpreter.bindStates(dtab, path), (state) => Activity.map(state, t.apply)),
    lookup: (dtab, path) => answers(interpreter.lookup(dtab, path)),
    namerLookup: (path) => answers(interpreter.namerLookup(path))
  }
}
