/**
 * The global namer: everything under `/$/`, always available without configuration — `inet`,
 * `fixedinet`, `fail` (`Fail`), `nil` (`Empty`), `io.buoyant.rinet` and the rewriting namers of
 * `Rewrite`. It receives the whole path (starting with `$`) and returns absolute ids. A
 * `/$/<name>` that no system namer knows fails with `Unknown namer: <name> for path: <path>`;
 * paths not under `/$/` are `Neg`.
 *
 * @since 0.1.0
 */
import * as Stream from "effect/Stream"
import * as Name from "../Name.js"
import * as Namer from "../Namer.js"
import * as NameTree from "../NameTree.js"
import * as Path from "../Path.js"
import * as Inet from "./Inet.js"
import * as Rewrite from "./Rewrite.js"

/**
 * The static answer for a `/$/…` path, or a failure reason for an unknown system namer.
 *
 * @since 0.1.0
 * @category lookup
 */
export const resolve = (path: Path.Path): NameTree.NameTree<Name.Name> | { readonly unknown: string } => {
  const [root, name, ...rest] = path.labels
  if (root !== "$" || name === undefined) return NameTree.neg
  switch (name) {
    case "fail":
      return NameTree.fail
    case "nil":
      return NameTree.empty
    case "io.buoyant.rinet":
      return Inet.rinet(rest)
    case "inet":
    case "fixedinet": {
      const t = Inet.inet(rest, name === "fixedinet")
      if (t !== undefined) return t
      break
    }
    default: {
      const t = Rewrite.rewrite(name, rest)
      if (t !== undefined) return t
    }
  }
  return { unknown: `Unknown namer: ${name} for path: ${Path.show(path)}` }
}

/**
 * The global namer.
 *
 * @since 0.1.0
 * @category namers
 */
export const namer: Namer.Namer = Namer.make((path) =>
  Stream.suspend(() => {
    const r = resolve(path)
    return "unknown" in r
      ? Stream.fail(new Namer.NamerError({ path: Path.show(path), reason: r.unknown }))
      : Name.constant(r)
  })
)
