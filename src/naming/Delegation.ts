/**
 * `Delegation.explain` shows how a path resolves, step by step, in the JSON shape of linkerd's
 * `/delegator.json`: one node per step, discriminated by `type` (`delegate`, `alt`, `union`,
 * `leaf`, `neg`, `fail`, `empty`, `exception`), each with the `path` at that step and the
 * `dentry` that produced it. Unlike request binding, every alternative is followed, so the tree
 * shows what would happen if earlier branches were negative. Following every branch can grow
 * exponentially (`/a=>/b&/b;/b=>/c&/c;…`), so, as in binding, an explanation stops with an
 * `exception` node past `Interpreter.maxBindLevels` nested levels or `Interpreter.maxBindNodes` steps.
 *
 * One addition to linkerd's shape: a node answered by a namer that has failed since its last
 * answer (stale while error) carries `"stale": "<failure>"`.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as Activity from "./Activity.js"
import * as Addr from "./Addr.js"
import * as Dentry from "./Dentry.js"
import * as Dtab from "./Dtab.js"
import { maxBindLevels, maxBindNodes, type NameInterpreter } from "./Interpreter.js"
import * as Name from "./Name.js"
import * as NameTree from "./NameTree.js"
import * as Path from "./Path.js"

/**
 * The dentry that produced a node, as shown text.
 *
 * @since 0.1.0
 * @category model
 */
export interface DentryJson {
  readonly prefix: string
  readonly dst: string
}

/**
 * A bound leaf: its current address state, client id and residual path.
 *
 * @since 0.1.0
 * @category model
 */
export interface BoundJson {
  readonly addr: unknown
  readonly id: string
  readonly path: string
}

/**
 * One node of the delegation tree.
 *
 * @since 0.1.0
 * @category model
 */
export type DelegateTree =
  & (
    | {
      readonly type: "delegate"
      readonly path: string
      readonly dentry?: DentryJson
      readonly delegate: DelegateTree
    }
    | {
      readonly type: "alt"
      readonly path: string
      readonly dentry?: DentryJson
      readonly alt: ReadonlyArray<DelegateTree>
    }
    | {
      readonly type: "union"
      readonly path: string
      readonly dentry?: DentryJson
      readonly union: ReadonlyArray<{ readonly weight: number; readonly tree: DelegateTree }>
    }
    | { readonly type: "leaf"; readonly path: string; readonly dentry?: DentryJson; readonly bound: BoundJson }
    | { readonly type: "neg" | "fail" | "empty"; readonly path: string; readonly dentry?: DentryJson }
    | { readonly type: "exception"; readonly path: string; readonly dentry?: DentryJson; readonly message: string }
  )
  & { readonly stale?: string }

/**
 * Options of `explain`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How long to wait for a namer's or an address's first answer. Defaults to 2 seconds. */
  readonly timeout?: Duration.Input | undefined
  /** Maximum depth. Defaults to `100`. */
  readonly maxDepth?: number | undefined
}

const tooDeep = `name tree nested deeper than ${maxBindLevels} levels`
const tooLarge = `name tree larger than ${maxBindNodes} nodes`

const dentryJson = (d: Dentry.Dentry): DentryJson => ({
  prefix: Dentry.showPrefix(d.prefix),
  dst: NameTree.show(d.dst)
})

const withDentry = <T extends { readonly type: string; readonly path: string }>(
  node: T,
  d: DentryJson | undefined
): T => {
  if (d === undefined) return node
  const { path, type, ...rest } = node
  return { type, path, dentry: d, ...rest } as unknown as T
}

/**
 * Explains how `path` resolves under `dtab` with `interpreter`'s namers.
 *
 * @since 0.1.0
 * @category constructors
 */
export const explain = (
  interpreter: NameInterpreter,
  dtab: Dtab.Dtab,
  path: Path.Path,
  options?: Options
): Effect.Effect<DelegateTree> => {
  const timeout = Duration.fromInputUnsafe(options?.timeout ?? "2 seconds")
  const maxDepth = options?.maxDepth ?? 100
  let visited = 0

  const firstAnswer = <A>(s: Stream.Stream<A>, answered: (a: A) => boolean): Effect.Effect<Option.Option<A>> =>
    Stream.runHead(Stream.filter(s, answered)).pipe(
      Effect.timeoutOption(timeout),
      Effect.map(Option.flatten)
    )

  const boundNode = (b: Name.Bound, p: Path.Path, d: DentryJson | undefined): Effect.Effect<DelegateTree> =>
    Effect.map(firstAnswer(b.addr, (a) => a._tag !== "Pending"), (addr) =>
      withDentry({
        type: "leaf",
        path: Path.show(p),
        bound: {
          addr: Addr.toJson(Option.getOrElse(addr, (): Addr.Addr => Addr.pending)),
          id: Name.idString(b),
          path: Path.show(b.residual)
        }
      }, d))

  const namerTree = (
    t: NameTree.NameTree<Name.Name>,
    p: Path.Path,
    d: DentryJson | undefined,
    depth: number,
    level: number
  ): Effect.Effect<DelegateTree> => {
    const path = Path.show(p)
    if (level > maxBindLevels) return Effect.succeed(withDentry({ type: "exception", path, message: tooDeep }, d))
    switch (t._tag) {
      case "Neg":
        return Effect.succeed(withDentry({ type: "neg", path }, d))
      case "Fail":
        return Effect.succeed(withDentry({ type: "fail", path }, d))
      case "Empty":
        return Effect.succeed(withDentry({ type: "empty", path }, d))
      case "Leaf":
        return t.value._tag === "Bound"
          ? boundNode(t.value, p, d)
          : Effect.map(
            node(t.value, undefined, depth + 1, level + 1),
            (child) => withDentry({ type: "delegate", path, delegate: child }, d)
          )
      case "Alt":
        return Effect.map(
          Effect.forEach(t.trees, (c) => namerTree(c, p, undefined, depth, level + 1), { concurrency: "unbounded" }),
          (alt) => withDentry({ type: "alt", path, alt }, d)
        )
      case "Union":
        return Effect.map(
          Effect.forEach(
            t.trees,
            (w) =>
              Effect.map(namerTree(w.tree, p, undefined, depth, level + 1), (tree) => ({ weight: w.weight, tree })),
            {
              concurrency: "unbounded"
            }
          ),
          (union) => withDentry({ type: "union", path, union }, d)
        )
    }
  }

  const dtabTree = (
    t: NameTree.NameTree<Path.Path>,
    d: Dentry.Dentry,
    p: Path.Path,
    depth: number,
    level: number
  ): Effect.Effect<DelegateTree> => {
    const dj = dentryJson(d)
    if (level > maxBindLevels) {
      return Effect.succeed({ type: "exception", path: Path.show(p), dentry: dj, message: tooDeep })
    }
    switch (t._tag) {
      case "Neg":
        return Effect.succeed({ type: "neg", path: "~", dentry: dj })
      case "Fail":
        return Effect.succeed({ type: "fail", path: "!", dentry: dj })
      case "Empty":
        return Effect.succeed({ type: "empty", path: "$", dentry: dj })
      case "Leaf":
        return node(t.value, dj, depth + 1, level + 1)
      case "Alt":
        return Effect.map(
          Effect.forEach(t.trees, (c) => dtabTree(c, d, p, depth, level + 1), { concurrency: "unbounded" }),
          (alt): DelegateTree => ({ type: "alt", path: Path.show(p), dentry: dj, alt })
        )
      case "Union":
        return Effect.map(
          Effect.forEach(
            t.trees,
            (w) => Effect.map(dtabTree(w.tree, d, p, depth, level + 1), (tree) => ({ weight: w.weight, tree })),
            {
              concurrency: "unbounded"
            }
          ),
          (union): DelegateTree => ({ type: "union", path: Path.show(p), dentry: dj, union })
        )
    }
  }

  const node = (p: Path.Path, d: DentryJson | undefined, depth: number, level: number): Effect.Effect<DelegateTree> =>
    Effect.suspend(() => {
      const path = Path.show(p)
      if (depth > maxDepth) {
        return Effect.succeed(withDentry({ type: "exception", path, message: "Max recursion level reached." }, d))
      }
      if (level > maxBindLevels) return Effect.succeed(withDentry({ type: "exception", path, message: tooDeep }, d))
      if (++visited > maxBindNodes) return Effect.succeed(withDentry({ type: "exception", path, message: tooLarge }, d))
      const matches = Dtab.lookupWithDentries(dtab, p)
      if (matches.length === 0) {
        return Effect.flatMap(
          firstAnswer(interpreter.namerLookup(p), (s) => s._tag !== "Pending"),
          (o): Effect.Effect<DelegateTree> => {
            if (Option.isNone(o)) {
              return Effect.succeed(withDentry({ type: "exception", path, message: "Request timed out." }, d))
            }
            const s = o.value as Activity.Ok<NameTree.NameTree<Name.Name>> | Activity.Failed
            if (s._tag === "Failed") return Effect.succeed(withDentry({ type: "exception", path, message: s.cause }, d))
            const tree = namerTree(s.value, p, d, depth, level)
            const stale = s.stale
            return stale === undefined ? tree : Effect.map(tree, (n): DelegateTree => ({ ...n, stale }))
          }
        )
      }
      const parts = matches.flatMap(({ dentry, tree }) =>
        tree._tag === "Alt" ? tree.trees.map((t) => [dentry, t] as const) : [[dentry, tree] as const]
      )
      return Effect.map(
        Effect.forEach(parts, ([dentry, tree]) => dtabTree(tree, dentry, p, depth, level + 1), {
          concurrency: "unbounded"
        }),
        (children): DelegateTree =>
          children.length === 1
            ? withDentry({ type: "delegate", path, delegate: children[0]! }, d)
            : withDentry({ type: "alt", path, alt: children }, d)
      )
    })

  return Effect.suspend(() => {
    visited = 0
    return node(path, undefined, 0, 0)
  })
}
