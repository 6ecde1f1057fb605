/**
 * The `io.l5d.serversets` namer: service discovery from Finagle/Aurora serversets in ZooKeeper.
 * `/#/io.l5d.serversets/discovery/prod/web` watches the znode `/discovery/prod/web`, whose
 * `member_…` children each hold one member as JSON:
 *
 * ```json
 * { "serviceEndpoint": { "host": "10.0.0.1", "port": 8080 },
 *   "additionalEndpoints": { "admin": { "host": "10.0.0.1", "port": 9990 } },
 *   "status": "ALIVE", "shard": 0 }
 * ```
 *
 * The path's last label may name an endpoint and a shard, as Finagle's serverset paths do:
 * `web:admin` uses each member's `additionalEndpoints.admin` instead of its `serviceEndpoint`,
 * `web#2` only members of shard 2 (`web:admin#2` both). Members whose `status` is not `ALIVE`, and
 * members without the endpoint, are left out; a member whose data does not decode is left out with a
 * warning.
 *
 * Prefixes: the longest prefix of the path that is a serverset with members (for the endpoint and
 * shard asked for) is bound, the rest is the residual (`/discovery/prod/web/extra` is
 * `/discovery/prod/web` with residual `/extra` while `/discovery/prod/web/extra` has no members).
 * As in Finagle, a serverset without members — or a znode that does not exist — is `Neg`, so the
 * next shorter prefix is tried, and with none left dtab fallback (`|`) applies.
 *
 * Watches: one per serverset znode (its children and each member's data), re-armed after every
 * event. When ZooKeeper becomes unreachable, the last answer is kept and marked stale (metrics
 * `namer/<label>/stale`, `stale_watches`, and `/namer_state`); when the session expires, a new
 * one is opened and every watch re-read. Host names in members are resolved through one cache
 * shared by all subscribers.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Address from "../Address.js"
import * as Addr from "../naming/Addr.js"
import * as Name from "../naming/Name.js"
import * as Namer from "../naming/Namer.js"
import * as NameTree from "../naming/NameTree.js"
import * as Path from "../naming/Path.js"
import * as HostResolver from "./HostResolver.js"
import * as Watches from "./Watches.js"
import * as ZkClient from "./zk/Client.js"

/**
 * The namer kind, also its default mount prefix.
 *
 * @since 0.1.0
 * @category constants
 */
export const kind = "io.l5d.serversets"

const HostPort = Schema.Struct({ host: Schema.String, port: Schema.Int })

/**
 * One serverset member, as Finagle's and Aurora's announcers write it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Member = Schema.Struct({
  serviceEndpoint: Schema.optionalKey(Schema.NullOr(HostPort)),
  additionalEndpoints: Schema.optionalKey(Schema.NullOr(Schema.Record(Schema.String, HostPort))),
  status: Schema.optionalKey(Schema.NullOr(Schema.String)),
  shard: Schema.optionalKey(Schema.NullOr(Schema.Int))
})

/**
 * A decoded member.
 *
 * @since 0.1.0
 * @category models
 */
export type Member = typeof Member.Type

const decodeMember = Schema.decodeUnknownResult(Schema.fromJsonString(Member))

/** A watched znode: absent, or present with its members (by child name). */
type Serverset =
  | { readonly exists: false }
  | { readonly exists: true; readonly members: ReadonlyArray<readonly [string, Member]>; readonly invalid: number }

const serversetEquals = (a: Serverset, b: Serverset): boolean => JSON.stringify(a) === JSON.stringify(b)

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** ZooKeeper servers, `host:port,…`. */
  readonly connectString: string
  /** The ZooKeeper session timeout. Defaults to 10 seconds. */
  readonly sessionTimeout?: Duration.Input | undefined
  /** A session to use instead of opening one (then `connectString` and `sessionTimeout` are unused). */
  readonly client?: ZkClient.ZkClient | undefined
  /** How long a znode stays watched after its last subscriber. Defaults to 10 seconds. */
  readonly idleTimeToLive?: Duration.Input | undefined
  /** Label for logs and metrics. Defaults to `#/io.l5d.serversets`. */
  readonly label?: string | undefined
}

/**
 * The label syntax `name[:endpoint][#shard]` of a serverset path's last label.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseLast = (
  label: string
): { readonly name: string; readonly endpoint: string | undefined; readonly shard: number | undefined } => {
  const m = /^([^:#]*)(?::([^#]*))?(?:#(-?\d+))?$/.exec(label)
  if (m === null) return { name: label, endpoint: undefined, shard: undefined }
  return { name: m[1]!, endpoint: m[2] === "" ? undefined : m[2], shard: m[3] === undefined ? undefined : Number(m[3]) }
}

/**
 * The addresses of a serverset for an endpoint (`undefined`: the service endpoint) and shard.
 *
 * @since 0.1.0
 * @category models
 */
export const addressesOf = (
  members: ReadonlyArray<readonly [string, Member]>,
  endpoint: string | undefined,
  shard: number | undefined
): Array<Address.Address> => {
  const out: Array<Address.Address> = []
  for (const [id, m] of members) {
    if (m.status != null && m.status !== "ALIVE") continue
    if (shard !== undefined && m.shard !== shard) continue
    const hp = endpoint === undefined ? m.serviceEndpoint : m.additionalEndpoints?.[endpoint]
    if (hp == null || hp.port < 1 || hp.port > 65535 || hp.host === "") continue
    out.push(
      Address.make(hp.host, hp.port, { meta: m.shard != null ? { member: id, shard: m.shard } : { member: id } })
    )
  }
  return out
}

/**
 * What `/namer_state/<prefix>.json` shows: the session and each watched znode.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServersetsState {
  readonly kind: string
  readonly zookeeper: ZkClient.SessionInfo
  readonly watches: Readonly<
    Record<string, Watches.WatchInfo & { readonly members?: number; readonly exists?: boolean }>
  >
}

/**
 * Builds the namer; the ZooKeeper session and watches live in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Namer.Namer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const label = options.label ?? `#/${kind}`
    const zk = options.client ??
      (yield* ZkClient.make({ connectString: options.connectString, sessionTimeout: options.sessionTimeout }))
    const resolver = HostResolver.make({ label })

    const read = (zkPath: string) => (watcher: ZkClient.Watcher): Effect.Effect<Serverset, ZkClient.ZkError> =>
      Effect.gen(function*() {
        for (;;) {
          const children = yield* zk.getChildren(zkPath, watcher)
          if (children === undefined) {
            if (yield* zk.exists(zkPath, watcher)) continue
            return { exists: false }
          }
          const members: Array<readonly [string, Member]> = []
          let invalid = 0
          for (const child of children.filter((c) => c.startsWith("member_")).sort()) {
            const data = yield* zk.getData(ZkClient.child(zkPath, child), watcher)
            if (data === undefined) continue
            const decoded = decodeMember(data.toString("utf8"))
            if (decoded._tag === "Success") {
              members.push([child, decoded.success])
            } else {
              invalid++
              yield* Effect.logWarning(`${label}: ${ZkClient.child(zkPath, child)}: not a serverset member, skipped`)
            }
          }
          return { exists: true, members, invalid }
        }
      })

    const watches = yield* Watches.make<Serverset>({
      label,
      equals: serversetEquals,
      run: (zkPath, handle) => zk.watchLoop(read(zkPath), handle),
      idleTimeToLive: options.idleTimeToLive
    })

    const answered = (zkPath: string) => watches.states(zkPath).pipe(Stream.filter((s) => s._tag !== "Pending"))

    const addrOf = (zkPath: string, endpoint: string | undefined, shard: number | undefined) =>
      answered(zkPath).pipe(
        Stream.mapEffect((s): Effect.Effect<Addr.Addr> => {
          if (s._tag !== "Ok") return Effect.succeed(Addr.failed(s.reason))
          const xs = s.value.exists ? addressesOf(s.value.members, endpoint, shard) : []
          if (xs.length === 0) return Effect.succeed(Addr.neg)
          return Effect.map(resolver.addresses(xs), (ys) => Addr.bound(ys))
        }),
        Stream.changesWith(Addr.equals)
      )

    const at = (path: Path.Path, n: number): Stream.Stream<NameTree.NameTree<Name.Name>, Namer.NamerError> => {
      if (n === 0) return Name.constant(NameTree.neg)
      const labels = path.labels.slice(0, n)
      const last = parseLast(labels[n - 1]!)
      const zkPath = "/" + [...labels.slice(0, n - 1), last.name].join("/")
      const bound = NameTree.leaf<Name.Name>(
        Name.bound(
          Path.fromLabels(labels),
          addrOf(zkPath, last.endpoint, last.shard),
          Path.fromLabels(path.labels.slice(n))
        )
      )
      return answered(zkPath).pipe(
        Stream.mapEffect((s) =>
          s._tag === "Failed"
            ? Effect.fail(new Namer.NamerError({ path: Path.show(path), reason: s.reason }))
            : Effect.succeed(
              s._tag === "Ok" && s.value.exists && addressesOf(s.value.members, last.endpoint, last.shard).length > 0
            )
        ),
        Stream.changes,
        Stream.switchMap((exists) => exists ? Name.constant(bound) : at(path, n - 1))
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
        entries.filter(([, s]) => s._tag === "Ok" && s.value.exists && s.value.members.length > 0).map(([key]) =>
          Path.fromLabels(key.split("/").filter((l) => l !== ""))
        )
    )

    const state = Effect.map(watches.entries, (entries): ServersetsState => {
      const out: Record<string, Watches.WatchInfo & { members?: number; exists?: boolean }> = {}
      for (const [key, s, info] of entries) {
        out[key] = s._tag === "Ok"
          ? { ...info, exists: s.value.exists, ...(s.value.exists ? { members: s.value.members.length } : {}) }
          : info
      }
      return { kind, zookeeper: zk.info(), watches: out }
    })

    return { lookup, enumerate, state }
  })
