/**
 * Transformers that route somewhere fixed: `replace` (linkerd's `io.l5d.replace`) swaps every bound
 * name of the tree for what a fixed path binds to, keeping `Neg` (so a namer can still decide that a
 * name exists, while traffic goes elsewhere); `constant` (`io.l5d.const`) ignores the tree and always
 * answers the fixed path's binding, even for `Neg`.
 *
 * The fixed path is bound once, through the system namers (`/$/inet/<host>/<port>` and the other
 * `/$/…` names), as linkerd binds it through Finagle's global namer.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Name from "../Name.js"
import type * as NameTree from "../NameTree.js"
import * as Path from "../Path.js"
import * as Global from "../system/Global.js"
import * as Transformer from "./Transformer.js"

/**
 * Binds a fixed path through the system namers: its bound tree, or why it cannot be bound.
 *
 * @since 0.1.0
 * @category binding
 */
export const bindFixed = (path: Path.Path): Result.Result<NameTree.NameTree<Name.Bound>, string> => {
  const r = Global.resolve(path)
  if ("unknown" in r) return Result.fail(r.unknown)
  const bound = (t: NameTree.NameTree<Name.Name>): boolean =>
    t._tag === "Leaf"
      ? Name.isBound(t.value)
      : t._tag === "Alt"
      ? t.trees.every(bound)
      : t._tag === "Union"
      ? t.trees.every((w) => bound(w.tree))
      : true
  if (r._tag === "Neg" || !bound(r)) {
    return Result.fail(`${Path.show(path)} does not bind through the system namers (e.g. /$/inet/<host>/<port>)`)
  }
  return Result.succeed(r as NameTree.NameTree<Name.Bound>)
}

/**
 * `io.l5d.replace`: every bound name becomes `replacement`; `Neg`, `Fail` and `Empty` stay.
 *
 * @since 0.1.0
 * @category constructors
 */
export const replace = (replacement: NameTree.NameTree<Name.Bound>): Transformer.Transformer =>
  Transformer.make("io.l5d.replace", (tree) => Transformer.mapLeaves(tree, () => replacement))

/**
 * `io.l5d.const`: the tree is always `replacement`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const constant = (replacement: NameTree.NameTree<Name.Bound>): Transformer.Transformer =>
  Transformer.make("io.l5d.const", () => replacement)
