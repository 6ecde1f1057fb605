/**
 * The JSON namerd's HTTP API speaks (linkerd's `io.l5d.httpController`), written by namerd and read
 * by the proxy's `io.l5d.namerd.http` interpreter:
 *
 * - a dtab: linkerd's dentry list, `[{"prefix":"/svc","dst":"/#/io.l5d.fs"}]`;
 * - an address state: `{"type":"bound","addrs":[{"ip":"127.0.0.1","port":8080,"meta":{}}],"meta":{}}`,
 *   `{"type":"neg"}`, `{"type":"pending"}`, `{"type":"failed","cause":"…"}` (an address weight other
 *   than 1 travels as the metadata key `endpoint_addr_weight`, as in linkerd);
 * - a bound tree: the delegator's node shape without paths — `{"type":"leaf","bound":{"addr":…,
 *   "id":"/#/io.l5d.fs/books","path":"/"}}`, `{"type":"union","union":[{"weight":1,"tree":…}]}`,
 *   `{"type":"alt","alt":[…]}`, `{"type":"neg"}`, `{"type":"fail"}`, `{"type":"empty"}`.
 *
 * Readers are strict (a bad document is an error, never a crash) and bounded in depth.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Address from "../../Address.js"
import * as Activity from "../../naming/Activity.js"
import * as Addr from "../../naming/Addr.js"
import * as Dentry from "../../naming/Dentry.js"
import * as Dtab from "../../naming/Dtab.js"
import type { BoundTree, NameInterpreter } from "../../naming/Interpreter.js"
import * as Name from "../../naming/Name.js"
import * as NameTree from "../../naming/NameTree.js"
import * as Path from "../../naming/Path.js"
import type * as Stats from "../../Stats.js"

/**
 * The metadata key carrying an address weight other than 1.
 *
 * @since 0.1.0
 * @category constants
 */
export const weightMetaKey = "endpoint_addr_weight"

/**
 * Maximum nesting of a bound tree document.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxDepth = 100

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * A dtab as linkerd's dentry JSON.
 *
 * @since 0.1.0
 * @category encoding
 */
export const dtabToJson = (dtab: Dtab.Dtab): Array<{ readonly prefix: string; readonly dst: string }> =>
  dtab.dentries.map((d) => ({ prefix: Dentry.showPrefix(d.prefix), dst: NameTree.show(d.dst) }))

/**
 * Reads linkerd's dentry JSON (`[{"prefix": …, "dst": …}]`).
 *
 * @since 0.1.0
 * @category decoding
 */
export const dtabFromJson = (u: unknown): Result.Result<Dtab.Dtab, string> => {
  if (!Array.isArray(u)) return Result.fail("expected a JSON array of {\"prefix\", \"dst\"} objects")
  const dentries: Array<Dentry.Dentry> = []
  for (const [i, e] of u.entries()) {
    if (!isObject(e) || typeof e.prefix !== "string" || typeof e.dst !== "string") {
      return Result.fail(`entry ${i}: expected {"prefix": string, "dst": string}`)
    }
    const d = Dentry.parse(`${e.prefix}=>${e.dst}`)
    if (Result.isFailure(d)) return Result.fail(`entry ${i}: ${d.failure.message}`)
    dentries.push(d.success)
  }
  return Result.succeed(Dtab.make(dentries))
}

/**
 * An address state as namerd's JSON.
 *
 * @since 0.1.0
 * @category encoding
 */
export const addrToJson = (addr: Addr.Addr): unknown => {
  switch (addr._tag) {
    case "Bound":
      return {
        type: "bound",
        addrs: addr.addresses.map((a) => ({
          ip: a.host,
          port: a.port,
          meta: a.weight === 1 ? a.meta : { ...a.meta, [weightMetaKey]: a.weight }
        })),
        meta: addr.meta
      }
    case "Neg":
      return { type: "neg" }
    case "Pending":
      return { type: "pending" }
    case "Failed":
      return { type: "failed", cause: addr.cause }
  }
}

/**
 * Reads an address state.
 *
 * @since 0.1.0
 * @category decoding
 */
export const addrFromJson = (u: unknown): Result.Result<Addr.Addr, string> => {
  if (!isObject(u)) return Result.fail("expected an address object")
  switch (u.type) {
    case "neg":
      return Result.succeed(Addr.neg)
    case "pending":
      return Result.succeed(Addr.pending)
    case "failed":
      return Result.succeed(Addr.failed(typeof u.cause === "string" ? u.cause : "failed"))
    case "bound": {
      if (!Array.isArray(u.addrs)) return Result.fail("bound address without `addrs`")
      const addresses: Array<Address.Address> = []
      for (const a of u.addrs) {
        if (!isObject(a) || typeof a.ip !== "string" || typeof a.port !== "number" || !Number.isInteger(a.port)) {
          return Result.fail("an address needs `ip` (string) and `port` (integer)")
        }
        const meta = isObject(a.meta) ? { ...a.meta } : {}
        const w = meta[weightMetaKey]
        delete meta[weightMetaKey]
        addresses.push(
          Address.make(a.ip, a.port, { weight: typeof w === "number" && w >= 0 ? w : 1, meta })
        )
      }
      return Result.succeed(Addr.bound(addresses, isObject(u.meta) ? u.meta : {}))
    }
    default:
      return Result.fail(`unknown address type ${JSON.stringify(u.type)}`)
  }
}

/**
 * A bound tree as namerd's JSON; `addrOf` gives each leaf's current address state.
 *
 * @since 0.1.0
 * @category encoding
 */
export const treeToJson = (tree: NameTree.NameTree<Name.Bound>, addrOf: (b: Name.Bound) => Addr.Addr): unknown => {
  switch (tree._tag) {
    case "Neg":
    case "Fail":
    case "Empty":
      return { type: tree._tag.toLowerCase() }
    case "Leaf":
      return {
        type: "leaf",
        bound: {
          addr: addrToJson(addrOf(tree.value)),
          id: Name.idString(tree.value),
          path: Path.show(tree.value.residual)
        }
      }
    case "Alt":
      return { type: "alt", alt: tree.trees.map((t) => treeToJson(t, addrOf)) }
    case "Union":
      return {
        type: "union",
        union: tree.trees.map((w) => ({ weight: w.weight, tree: treeToJson(w.tree, addrOf) }))
      }
  }
}

/**
 * Reads a bound tree; `bound(id, residual)` makes each leaf's bound name (its live address).
 * `delegate` nodes are followed to their child, as linkerd's reader does.
 *
 * @since 0.1.0
 * @category decoding
 */
export const treeFromJson = (
  u: unknown,
  bound: (id: Path.Path, residual: Path.Path) => Stream.Stream<Addr.Addr>
): Result.Result<NameTree.NameTree<Name.Bound>, string> => {
  const go = (v: unknown, depth: number): NameTree.NameTree<Name.Bound> => {
    if (depth > maxDepth) throw new Error(`tree deeper than ${maxDepth}`)
    if (!isObject(v)) throw new Error("expected a tree node object")
    switch (v.type) {
      case "neg":
        return NameTree.neg
      case "fail":
        return NameTree.fail
      case "empty":
        return NameTree.empty
      case "exception":
        throw new Error(typeof v.message === "string" ? v.message : "exception")
      case "delegate":
        return go(v.delegate, depth + 1)
      case "transformation":
        return go(v.tree, depth + 1)
      case "leaf": {
        const b = v.bound
        if (!isObject(b) || typeof b.id !== "string") throw new Error("leaf without `bound.id`")
        const id = Path.parse(b.id)
        if (Result.isFailure(id)) throw new Error(`invalid bound id ${b.id}: ${id.failure.message}`)
        const residual = typeof b.path === "string" ? Path.parse(b.path) : Result.succeed(Path.empty)
        if (Result.isFailure(residual)) throw new Error(`invalid residual path: ${residual.failure.message}`)
        return NameTree.leaf(Name.bound(id.success, bound(id.success, residual.success), residual.success))
      }
      case "alt":
        if (!Array.isArray(v.alt)) throw new Error("alt without `alt`")
        return NameTree.alt(...v.alt.map((t) => go(t, depth + 1)))
      case "union":
        if (!Array.isArray(v.union)) throw new Error("union without `union`")
        return NameTree.union(...v.union.map((w) => {
          if (!isObject(w) || typeof w.weight !== "number") throw new Error("union entry without `weight`")
          return NameTree.weighted(go(w.tree, depth + 1), w.weight)
        }))
      default:
        throw new Error(`unknown tree node type ${JSON.stringify(v.type)}`)
    }
  }
  try {
    return Result.succeed(go(u, 0))
  } catch (e) {
    return Result.fail(e instanceof Error ? e.message : String(e))
  }
}

/**
 * A version as an `ETag` value (base64, as linkerd's namerd), and back (quotes and `W/` tolerated).
 *
 * @since 0.1.0
 * @category encoding
 */
export const etag = (version: string): string => Buffer.from(version, "utf8").toString("base64")

/**
 * The version an `If-Match` value names.
 *
 * @since 0.1.0
 * @category decoding
 */
export const versionFromEtag = (tag: string): string =>
  Buffer.from(tag.trim().replace(/^W\//, "").replace(/^"|"$/g, ""), "base64").toString("utf8")

/**
 * The bound name `resolve` picks: the heaviest union branch, the first alternative that binds.
 *
 * @since 0.1.0
 * @category trees
 */
export const pick = (tree: NameTree.NameTree<Name.Bound>): Name.Bound | undefined => {
  switch (tree._tag) {
    case "Leaf":
      return tree.value
    case "Alt":
      for (const t of tree.trees) {
        const b = pick(t)
        if (b !== undefined) return b
      }
      return undefined
    case "Union": {
      const sorted = [...tree.trees].sort((a, b) => b.weight - a.weight)
      for (const w of sorted) {
        const b = pick(w.tree)
        if (b !== undefined) return b
      }
      return undefined
    }
    default:
      return undefined
  }
}

const stateEquals = Activity.equals<BoundTree>((a, b) => NameTree.equals(a, b, Name.equals))

/**
 * The name interpreter of a namerd client (every namerd interpreter: HTTP, Thrift, mesh): each
 * binding is `pending` until `answers` (namerd's states for the name under the dtab) says otherwise,
 * repeated states are dropped, and there are no namers of its own.
 *
 * @since 0.1.0
 * @category constructors
 */
export const remoteInterpreter = (
  answers: (dtab: Dtab.Dtab, path: Path.Path) => Stream.Stream<Activity.State<BoundTree>>
): NameInterpreter => {
  const bindStates = (dtab: Dtab.Dtab, path: Path.Path): Stream.Stream<Activity.State<BoundTree>> =>
    Stream.concat(
      Stream.succeed<Activity.State<BoundTree>>(Activity.pending),
      Stream.suspend(() => answers(dtab, path))
    ).pipe(Stream.changesWith(stateEquals))
  const bind = (dtab: Dtab.Dtab, path: Path.Path) =>
    bindStates(dtab, path).pipe(
      Stream.filterMap((s) => s._tag === "Ok" ? Result.succeed(s.value) : Result.failVoid)
    )
  const lookup = (dtab: Dtab.Dtab, path: Path.Path) =>
    bindStates(dtab, path) as Stream.Stream<Activity.State<NameTree.NameTree<Name.Name>>>
  return {
    bind,
    bindStates,
    lookup,
    namerLookup: (path) => lookup(Dtab.empty, path),
    namers: [],
    maxDepth: 100
  }
}

/**
 * How one binding takes namerd's trees: a tree that cannot be read fails the binding while it has
 * had no answer, and is logged (`warn`, prefixed with `what`) and skipped once it has (the last good
 * tree stands). `answered` tells whether a good tree has come.
 *
 * @since 0.1.0
 * @category decoding
 */
export const treeAnswers = (what: string, warn: (message: string) => void): {
  readonly take: (tree: Result.Result<BoundTree, string>) => Activity.State<BoundTree> | undefined
  readonly answered: () => boolean
} => {
  let answered = false
  return {
    take: (tree) => {
      if (Result.isFailure(tree)) {
        const reason = `namerd sent an unreadable tree: ${tree.failure}`
        warn(`${what}: ${reason}`)
        return answered ? undefined : Activity.failed(reason)
      }
      answered = true
      return Activity.ok(tree.success)
    },
    answered: () => answered
  }
}

/**
 * One watch or poll's connection as the namerd interpreters count it: `set(true)` once it is up,
 * `set(false)` while it waits to retry, `close()` when it stops (it then counts as neither).
 *
 * @since 0.1.0
 * @category metrics
 */
export interface Link {
  readonly set: (up: boolean) => void
  readonly close: () => void
}

/**
 * The namerd interpreters' connection metrics under `stats`, for as long as the current scope:
 * the gauges `connected` and `disconnected` (watches or polls up, and waiting to retry: each
 * `link()` counts in one of them until closed), and the counters `reconnects` and `failures`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const connectionStats = (stats: Stats.StatsReceiver): Effect.Effect<
  {
    readonly reconnects: Stats.Counter
    readonly failures: Stats.Counter
    readonly link: () => Link
  },
  never,
  Scope.Scope
> =>
  Effect.gen(function*() {
    let connected = 0
    let disconnected = 0
    const unregister = [
      stats.gauge(["connected"], () => connected),
      stats.gauge(["disconnected"], () => disconnected)
    ]
    yield* Effect.addFinalizer(() => Effect.sync(() => unregister.forEach((u) => u())))
    return {
      reconnects: stats.counter("reconnects"),
      failures: stats.counter("failures"),
      link: () => {
        let isConnected = false
        let isDisconnected = false
        return {
          set: (up) => {
            if (up !== isConnected) connected += up ? 1 : -1
            isConnected = up
            if (up === isDisconnected) disconnected += up ? -1 : 1
            isDisconnected = !up
          },
          close: () => {
            if (isConnected) connected--
            if (isDisconnected) disconnected--
            isConnected = false
            isDisconnected = false
          }
        }
      }
    }
  })
