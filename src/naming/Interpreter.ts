/**
 * The `Interpreter` binds logical names: it rewrites a path through a dtab and the namers until
 * every leaf is a bound name, and keeps the result live.
 *
 * One step (`lookup`): the dtab's matching dentries (last first); if that is `Neg`, the configured
 * namers whose prefix matches (last declared first; the first non-`Neg` answer wins); then, for
 * `/$/…`, the global namer. Binding (`bind`) repeats this recursively (max depth 100 by default,
 * and at most `maxBindLevels` nested levels and `maxBindNodes` nodes whatever the dtab):
 * leaf paths are looked up again, `Alt` falls back only on `Neg` (a `Fail` or `Empty` stops it),
 * `Union` binds its children concurrently, drops `Neg`/`Fail` children and records each direct
 * member's weight on its addresses. The result is a stream that changes when any namer answer it
 * depends on changes, so a `Neg` branch becoming bound moves traffic without a restart.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Activity from "./Activity.js"
import * as Dtab from "./Dtab.js"
import * as Name from "./Name.js"
import * as Namer from "./Namer.js"
import * as NameTree from "./NameTree.js"
import * as Path from "./Path.js"
import * as Global from "./system/Global.js"

/**
 * A bound tree: leaves are bound names; no `Alt` nodes.
 *
 * @since 0.1.0
 * @category model
 */
export type BoundTree = NameTree.NameTree<Name.Bound>

/**
 * How deep binding may nest: `512` levels, counting every `Alt`/`Union` entered and every lookup
 * step. Dtab lookups chain trees into each other, so a bound tree can nest deeper than any one
 * parsed tree; past this a binding fails (`name tree nested deeper than 512 levels while binding`)
 * instead of overflowing the stack.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxBindLevels = 512

/**
 * How many tree nodes one binding may visit before it fails: `10000`. Bounds dtabs whose unions
 * fan out at every step (`/a=>/b&/b;/b=>/c&/c;…` doubles per dentry).
 *
 * @since 0.1.0
 * @category constants
 */
export const maxBindNodes = 10_000

/**
 * A name interpreter.
 *
 * @since 0.1.0
 * @category model
 */
export interface NameInterpreter {
  /**
   * The live bound tree of `path` under `dtab`. `Pending` states are skipped; a failure before the
   * first answer fails the stream with a `BindingError`; after it, the last answer is kept.
   */
  readonly bind: (dtab: Dtab.Dtab, path: Path.Path) => Stream.Stream<BoundTree, BindingError>
  /** The live binding state (`Pending`, `Ok`, `Failed`) of `path` under `dtab`. */
  readonly bindStates: (dtab: Dtab.Dtab, path: Path.Path) => Stream.Stream<Activity.State<BoundTree>>
  /** One step of lookup of `path` under `dtab`: the dtab, then the namers. */
  readonly lookup: (
    dtab: Dtab.Dtab,
    path: Path.Path
  ) => Stream.Stream<Activity.State<NameTree.NameTree<Name.Name>>>
  /** The namers' (configured, then global) live answer for `path`. */
  readonly namerLookup: (path: Path.Path) => Stream.Stream<Activity.State<NameTree.NameTree<Name.Name>>>
  /** The namers this interpreter consults, as mounted, with their shared watches. */
  readonly namers: ReadonlyArray<readonly [prefix: Path.Path, namer: Namer.Shared]>
  /** Maximum recursion depth. */
  readonly maxDepth: number
}

/**
 * Binding failed (a namer failed and had never answered, an unknown system namer, recursion too deep).
 *
 * @since 0.1.0
 * @category errors
 */
export class BindingError extends Data.TaggedError("BindingError")<{
  readonly path: string
  readonly reason: string
}> {
  /** Not retryable: the same binding fails the same way. */
  readonly retryable = false
  override get message(): string {
    return this.reason
  }
}

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Configured namers and where they are mounted (e.g. `/#/io.l5d.fs`), in declaration order. Defaults to none. */
  readonly namers?: ReadonlyArray<readonly [prefix: Path.Path, namer: Namer.Namer]> | undefined
  /** Maximum recursion depth. Defaults to `100`. */
  readonly maxDepth?: number | undefined
  /** How long an unused namer watch stays open. Defaults to 10 seconds. */
  readonly idleTimeToLive?: Duration.Input | undefined
}

const stateEquals = Activity.equals<BoundTree>((a, b) => NameTree.equals(a, b, Name.equals))

const prefixIds = (tree: NameTree.NameTree<Name.Name>, prefix: Path.Path): NameTree.NameTree<Name.Name> =>
  prefix.labels.length === 0 ?
    tree :
    NameTree.map(
      tree,
      (n) =>
        n._tag === "Bound" && typeof n.id !== "string" ? Name.bound(Path.concat(prefix, n.id), n.addr, n.residual) : n
    )

const constant = <A>(state: Activity.State<A>): Stream.Stream<Activity.State<A>> => Name.constant(state)

interface Static<A> {
  readonly _tag: "Static"
  readonly state: Activity.State<A>
}

/** A live state: known now and never changing, or a stream. Static parts bind without streams. */
type Live<A> = Static<A> | { readonly _tag: "Dynamic"; readonly stream: Stream.Stream<Activity.State<A>> }

const staticLive = <A>(state: Activity.State<A>): Live<A> => ({ _tag: "Static", state })
const dynamic = <A>(stream: Stream.Stream<Activity.State<A>>): Live<A> => ({ _tag: "Dynamic", stream })
const toStream = <A>(live: Live<A>): Stream.Stream<Activity.State<A>> =>
  live._tag === "Static" ? constant(live.state) : live.stream

interface Budget {
  nodes: number
  failed: Activity.Failed | undefined
}

/** Runs one synchronous expansion with a fresh budget; a budget it ran out of fails the whole of it. */
const guarded = (f: (budget: Budget) => Live<BoundTree>): Live<BoundTree> => {
  const budget: Budget = { nodes: 0, failed: undefined }
  const live = f(budget)
  return budget.failed === undefined ? live : staticLive(budget.failed)
}

const isOkNeg = (s: Activity.State<NameTree.NameTree<any>>): boolean => s._tag === "Ok" && s.value._tag === "Neg"

const combineUnion = (
  states: ReadonlyArray<Activity.State<BoundTree>>,
  weights: ReadonlyArray<number>
): Activity.State<BoundTree> => {
  const oks: Array<NameTree.Weighted<Name.Bound>> = []
  let firstFailed: Activity.Failed | undefined
  states.forEach((s, i) => {
    if (s._tag === "Ok") {
      const w = weights[i]!
      const t = s.value._tag === "Leaf" ? NameTree.leaf(Name.withWeight(s.value.value, w)) : s.value
      oks.push({ weight: w, tree: t })
    } else if (s._tag === "Failed" && firstFailed === undefined) firstFailed = s
  })
  if (oks.length === 0) return firstFailed ?? Activity.pending
  return Activity.ok(NameTree.simplify(NameTree.union(...oks)))
}

/**
 * Builds an interpreter over the given namers plus the global `/$/` namer. Every configured namer
 * is wrapped with `Namer.shared`, so bindings share watches; they live in the current scope. Parts
 * of a binding that cannot change (dtab rewrites, system names) are resolved without streams.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<NameInterpreter, never, Scope.Scope> =>
  Effect.gen(function*() {
    const maxDepth = options?.maxDepth ?? 100
    const ttl = options?.idleTimeToLive ?? "10 seconds"
    const namers: Array<readonly [Path.Path, Namer.Shared]> = []
    for (const [prefix, namer] of options?.namers ?? []) {
      const label = Path.show(prefix).slice(1)
      namers.push([prefix, yield* Namer.shared(namer, { idleTimeToLive: ttl, label })])
    }
    const reversed = [...namers].reverse()
    const maxDepthFailure = Activity.failed(`Max recursion level: ${maxDepth} reached in Namer lookup`)
    const nestingFailure = Activity.failed(`name tree nested deeper than ${maxBindLevels} levels while binding`)
    const sizeFailure = Activity.failed(`name tree larger than ${maxBindNodes} nodes while binding`)

    const globalLookup = (path: Path.Path): Live<NameTree.NameTree<Name.Name>> => {
      const r = Global.resolve(path)
      return staticLive("unknown" in r ? Activity.failed(r.unknown) : Activity.ok(r))
    }

    const namerLive = (path: Path.Path): Live<NameTree.NameTree<Name.Name>> => {
      const candidates = reversed.filter(([prefix]) => Path.startsWith(path, prefix))
      const chain = (i: number): Live<NameTree.NameTree<Name.Name>> => {
        if (i >= candidates.length) {
          return path.labels[0] === "$" ? globalLookup(path) : staticLive(Activity.ok(NameTree.neg))
        }
        const [prefix, namer] = candidates[i]!
        const watched = namer.watch(Path.drop(path, prefix.labels.length))
        const next = chain(i + 1)
        if (next._tag === "Static") {
          const fallback = next.state
          return dynamic(
            Stream.map(watched, (s) => isOkNeg(s) ? fallback : Activity.map(s, (t) => prefixIds(t, prefix)))
          )
        }
        return dynamic(watched.pipe(
          Stream.switchMap((s) => isOkNeg(s) ? next.stream : constant(Activity.map(s, (t) => prefixIds(t, prefix))))
        ))
      }
      return chain(0)
    }

    const lookupLive = (dtab: Dtab.Dtab, path: Path.Path): Live<NameTree.NameTree<Name.Name>> => {
      const t = Dtab.lookup(dtab, path)
      return t._tag === "Neg" ? namerLive(path) : staticLive(Activity.ok(t as NameTree.NameTree<Name.Name>))
    }

    const bindStates = (dtab: Dtab.Dtab, path: Path.Path): Stream.Stream<Activity.State<BoundTree>> => {
      const bindTree = (
        tree: NameTree.NameTree<Name.Name>,
        depth: number,
        level: number,
        budget: Budget
      ): Live<BoundTree> => {
        if (budget.failed !== undefined) return staticLive(budget.failed)
        if (depth > maxDepth) return staticLive(maxDepthFailure)
        if (level > maxBindLevels) return staticLive(budget.failed = nestingFailure)
        if (++budget.nodes > maxBindNodes) return staticLive(budget.failed = sizeFailure)
        switch (tree._tag) {
          case "Neg":
          case "Fail":
          case "Empty":
            return staticLive(Activity.ok(tree))
          case "Leaf": {
            const v = tree.value
            if (v._tag === "Bound") return staticLive(Activity.ok(NameTree.leaf(v)))
            const looked = lookupLive(dtab, v)
            if (looked._tag === "Static") {
              const s = looked.state
              return s._tag === "Ok" ? bindTree(s.value, depth + 1, level + 1, budget) : staticLive(s)
            }
            return dynamic(looked.stream.pipe(
              Stream.switchMap((s) =>
                s._tag === "Ok" ? toStream(guarded((b) => bindTree(s.value, depth + 1, level + 1, b))) : constant(s)
              )
            ))
          }
          case "Alt": {
            const alt = (from: number, budget: Budget): Live<BoundTree> => {
              for (let i = from; i < tree.trees.length; i++) {
                const child = bindTree(tree.trees[i]!, depth, level + 1, budget)
                if (child._tag === "Static") {
                  if (isOkNeg(child.state)) continue
                  return child
                }
                return dynamic(child.stream.pipe(
                  Stream.switchMap((s) => isOkNeg(s) ? toStream(guarded((b) => alt(i + 1, b))) : constant(s))
                ))
              }
              return staticLive(Activity.ok(NameTree.neg))
            }
            return alt(0, budget)
          }
          case "Union": {
            if (tree.trees.length === 0) return staticLive(Activity.ok(NameTree.neg))
            const weights = tree.trees.map((w) => w.weight)
            const children = tree.trees.map((w) => bindTree(w.tree, depth, level + 1, budget))
            if (children.every((c) => c._tag === "Static")) {
              return staticLive(combineUnion(children.map((c) => (c as Static<BoundTree>).state), weights))
            }
            return dynamic(
              Stream.zipLatestAll(...children.map(toStream)).pipe(
                Stream.map((states) => combineUnion(states as ReadonlyArray<Activity.State<BoundTree>>, weights))
              )
            )
          }
        }
      }
      return Stream.suspend(() => toStream(guarded((b) => bindTree(NameTree.leaf(path), 0, 0, b)))).pipe(
        Stream.changesWith(stateEquals)
      )
    }

    const lookup = (dtab: Dtab.Dtab, path: Path.Path) => Stream.suspend(() => toStream(lookupLive(dtab, path)))
    const namerLookup = (path: Path.Path) => Stream.suspend(() => toStream(namerLive(path)))

    const bind = (dtab: Dtab.Dtab, path: Path.Path): Stream.Stream<BoundTree, BindingError> =>
      Stream.suspend(() => {
        let answered = false
        return bindStates(dtab, path).pipe(
          Stream.filterMap((s) =>
            s._tag === "Pending" || (s._tag === "Failed" && answered) ? Result.failVoid : Result.succeed(s)
          ),
          Stream.mapEffect((s) => {
            if (s._tag === "Ok") {
              answered = true
              return Effect.succeed(s.value)
            }
            return Effect.fail(new BindingError({ path: Path.show(path), reason: (s as Activity.Failed).cause }))
          }),
          Stream.changesWith((a, b) => NameTree.equals(a, b, Name.equals))
        )
      })

    return { bind, bindStates, lookup, namerLookup, namers, maxDepth }
  })

/**
 * The current binding of `path` under `dtab`: waits for the first answer. A convenience for tests
 * and tools; the request path uses `BindingCache`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const bindOnce = (
  self: NameInterpreter,
  dtab: Dtab.Dtab,
  path: Path.Path
): Effect.Effect<BoundTree, BindingError> =>
  Stream.runHead(self.bind(dtab, path)).pipe(
    Effect.flatMap((o) =>
      o._tag === "Some"
        ? Effect.succeed(o.value)
        : Effect.fail(new BindingError({ path: Path.show(path), reason: "binding ended without an answer" }))
    )
  )
