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
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Address from "../Address.js"
import type * as Namer from "../naming/Namer.js"
import * as ChildrenNamer from "./zk/ChildrenNamer.js"
import type * as ZkClient from "./zk/Client.js"

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
 * Builds the namer; the ZooKeeper session and watches live in the current scope. Its
 * `/namer_state` is a `ZkNamerState` (`entries` counts each znode's members).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Namer.Namer, never, Scope.Scope> =>
  ChildrenNamer.make<Member, { readonly endpoint: string | undefined; readonly shard: number | undefined }>({
    kind,
    target: (labels) => {
      const last = parseLast(labels[labels.length - 1]!)
      return {
        zkPath: "/" + [...labels.slice(0, -1), last.name].join("/"),
        select: { endpoint: last.endpoint, shard: last.shard }
      }
    },
    child: (name) => name.startsWith("member_"),
    decode: (data) => {
      const r = decodeMember(data.toString("utf8"))
      return r._tag === "Success" ? r.success : undefined
    },
    addresses: (entries, select) => addressesOf(entries, select.endpoint, select.shard)
  }, options)
