/**
 * The shape the ZooKeeper namers share (serversets, Curator service discovery, leader election):
 * a name's longest prefix whose znode has usable children is bound, each child's data decoded
 * into an entry and the entries turned into addresses; no such prefix is `Neg`. One watch per
 * znode (its children and each child's data), re-armed after every event, shared by every
 * subscriber; stale-while-error through `Watches`; host names resolved through one shared cache.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Address from "../../Address.js"
import * as Addr from "../../naming/Addr.js"
import * as Name from "../../naming/Name.js"
import * as Namer from "../../naming/Namer.js"
import * as NameTree from "../../naming/NameTree.js"
import * as Path from "../../naming/Path.js"
import * as HostResolver from "../HostResolver.js"
import * as Watches from "../Watches.js"
import * as ZkClient from "./Client.js"

/**
 * What a concrete namer provides. `S` is what a name selects beyond its znode (an endpoint, a shard).
 *
 * @since 0.1.0
 * @category models
 */
export interface Spec<E, S> {
  readonly kind: string
  /** The znode and selection a prefix of a name's labels stands for. */
  readonly target: (labels: ReadonlyArray<string>) => { readonly zkPath: string; readonly select: S }
  /** Which children count (e.g. `member_…`). */
  readonly child: (name: string) => boolean
  /** Decodes a child's data; `undefined` when it is not an entry (skipped with a warning). */
  readonly decode: (data: Buffer) => E | undefined
  /** The addresses of a znode's entries for a selection. */
  readonly addresses: (entries: ReadonlyArray<readonly [string, E]>, select: S) => Array<Address.Address>
}

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly connectString: string
  readonly sessionTimeout?: Duration.Input | undefined
  readonly client?: ZkClient.ZkClient | undefined
  readonly idleTimeToLive?: Duration.Input | undefined
  readonly label?: string | undefined
}

type Node<E> =
  | { readonly exists: false }
  | { readonly exists: true; readonly entries: ReadonlyArray<readonly [string, E]>; readonly invalid: number }

/**
 * What `/namer_state/<prefix>.json` shows: the session and each watched znode.
 *
 * @since 0.1.0
 * @category models
 */
export interface ZkNamerState {
  readonly kind: string
  readonly zookeeper: ZkClient.SessionInfo
  readonly watches: Readonly<
    Record<
      string,
      Watches.WatchInfo & { readonly exists?: boolean; readonly entries?: number; readonly invalid?: number }
    >
  >
}

/**
 * Builds a namer from its spec; the session and watches live in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <E, S>(spec: Spec<E, S>, options: Options): Effect.Effect<Namer.Namer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const label = options.label ?? `#/${spec.kind}`
    const zk = options.client ??
      (yield* ZkClient.make({
        connectString: options.connectString,
        sessionTimeout: options.sessionTimeout,
        lazy: true
      }))
    const resolver = HostResolver.make({ label })

    const read = (zkPath: string) => (watcher: ZkClient.Watcher): Effect.Effect<Node<E>, ZkClient.ZkError> =>
      Effect.gen(function*() {
        for (;;) {
          const children = yield* zk.getChildren(zkPath, watcher)
          if (children === undefined) {
            if (yield* zk.exists(zkPath, watcher)) continue
            return { exists: false }
          }
          const entries: Array<readonly [string, E]> = []
          let invalid = 0
          for (const name of children.filter(spec.child).sort()) {
            const data = yield* zk.getData(ZkClient.child(zkPath, name), watcher)
            if (data === undefined) continue
            const entry = spec.decode(data)
            if (entry !== undefined) entries.push([name, entry])
            else {
              invalid++
              yield* Effect.logWarning(`${label}: ${ZkClient.child(zkPath, name)}: not a ${spec.kind} entry, skipped`)
            }
          }
          return { exists: true, entries, invalid }
        }
      })

    const watches = yield* Watches.make<Node<E>>({
      label,
      equals: (a, b) => JSON.stringify(a) === JSON.stringify(b),
      run: (zkPath, handle) => zk.watchLoop(read(zkPath), handle),
      idleTimeToLive: options.idleTimeToLive
    })

    const answered = (zkPath: string) => watches.states(zkPath).pipe(Stream.filter((s) => s._tag !== "Pending"))
    const usable = (node: Node<E>, select: S): Array<Address.Address> =>
      node.exists ? spec.addresses(node.entries, select) : []

    const addrOf = (zkPath: string, select: S) =>
      answered(zkPath).pipe(
        Stream.mapEffect((s): Effect.Effect<Addr.Addr> => {
          if (s._tag !== "Ok") return Effect.succeed(Addr.failed(s._tag === "Failed" ? s.reason : "pending"))
          const xs = usable(s.value, select)
          return xs.length === 0 ? Effect.succeed(Addr.neg) : Effect.map(resolver.addresses(xs), (ys) => Addr.bound(ys))
        }),
        Stream.changesWith(Addr.equals)
      )

    const at = (path: Path.Path, n: number): Stream.Stream<NameTree.NameTree<Name.Name>, Namer.NamerError> => {
      if (n === 0) return Name.constant(NameTree.neg)
      const labels = path.labels.slice(0, n)
      const { select, zkPath } = spec.target(labels)
      const bound = NameTree.leaf<Name.Name>(
        Name.bound(Path.fromLabels(labels), addrOf(zkPath, select), Path.fromLabels(path.labels.slice(n)))
      )
      return answered(zkPath).pipe(
        Stream.mapEffect((s) =>
          s._tag === "Failed"
            ? Effect.fail(new Namer.NamerError({ path: Path.show(path), reason: s.reason }))
            : Effect.succeed(s._tag === "Ok" && usable(s.value, select).length > 0)
        ),
        Stream.changes,
        Stream.switchMap((present) => present ? Name.constant(bound) : at(path, n - 1))
      )
    }

    const lookup = (path: Path.Path): Stream.Stream<NameTree.NameTree<Name.Name>, Namer.NamerError> =>
      Stream.suspend(() => {
        watches.looked()
        if (path.labels.some((l) => l === "" || l === "." || l === "..")) return Name.constant(NameTree.neg)
        return at(path, path.labels.length)
      })

    const enumerate = Effect.map(
      watches.entries,
      (entries) =>
        entries.filter(([, s]) => s._tag === "Ok" && s.value.exists && s.value.entries.length > 0).map(([key]) =>
          Path.fromLabels(key.split("/").filter((l) => l !== ""))
        )
    )

    const state = Effect.map(watches.entries, (entries): ZkNamerState => {
      const out: Record<string, Watches.WatchInfo & { exists?: boolean; entries?: number; invalid?: number }> = {}
      for (const [key, s, info] of entries) {
        out[key] = s._tag === "Ok"
          ? {
            ...info,
            exists: s.value.exists,
            ...(s.value.exists ? { entries: s.value.entries.length, invalid: s.value.invalid } : {})
          }
          : info
      }
      return { kind: spec.kind, zookeeper: zk.info(), watches: out }
    })

    return { lookup, enumerate, state }
  })
