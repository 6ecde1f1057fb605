/**
 * The `io.l5d.consul` namer: service discovery from Consul's catalog (or, with `useHealthCheck`,
 * its health endpoint). `/#/io.l5d.consul/<dc>/<service>[/residual]` answers the instances of
 * `<service>` in datacenter `<dc>` (`.local`: the agent's own, or `datacenter` when set); with
 * `includeTag`, `/#/io.l5d.consul/<dc>/<tag>/<service>` only those tagged `<tag>`. Service and tag
 * are lowercased, as Consul's DNS interface does.
 *
 * Each instance's address is its service address, or its node's address when the service has none
 * (with `preferServiceAddress: false`, always the node's). With `useHealthCheck`, only instances
 * whose health is in `healthStatuses` count: an instance's health is its worst check (`critical` over
 * `warning` over `passing`), or `maintenance` when its node or service is in maintenance mode. With
 * `weights`, an instance's weight is the largest weight among its tags' entries (default 1).
 *
 * A service with no (healthy) instance, or an unknown datacenter, is `Neg` — so dtab fallback
 * (`|`) applies — and becomes bound as soon as an instance appears.
 *
 * How it watches: one blocking query per datacenter/service/tag, shared by every subscriber:
 * `GET /v1/catalog/service/<service>?dc=…&tag=…&index=<X-Consul-Index>&wait=…` (or
 * `/v1/health/service/…`), answered by Consul when the result changes or `wait` passes. As Consul's
 * documentation asks, an index that moves backwards resets it to 0 (the next query answers at
 * once), and a query is never sent faster than the backoff floor. A failed request (connection, 5XX,
 * an answer that does not decode) keeps the last good answer, stale (metrics and `/namer_state`), and
 * is retried with a jittered exponential backoff.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
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
import * as HttpGet from "./HttpGet.js"
import * as Watches from "./Watches.js"

/**
 * The namer kind, also its default mount prefix.
 *
 * @since 0.1.0
 * @category constants
 */
export const kind = "io.l5d.consul"

/**
 * An instance's health.
 *
 * @since 0.1.0
 * @category models
 */
export type Health = "passing" | "warning" | "critical" | "maintenance"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The agent's host. Defaults to `localhost`. */
  readonly host?: string | undefined
  /** The agent's port. Defaults to `8500`. */
  readonly port?: number | undefined
  /** Names carry a tag label: `/<dc>/<tag>/<service>`. Defaults to `false`. */
  readonly includeTag?: boolean | undefined
  /** Query the health endpoint and keep only instances whose health is in `healthStatuses`. Defaults to `false`. */
  readonly useHealthCheck?: boolean | undefined
  /** Defaults to `["passing"]`. */
  readonly healthStatuses?: ReadonlyArray<Health> | undefined
  /** An ACL token, sent as `X-Consul-Token`; never shown. */
  readonly token?: string | undefined
  /** The datacenter `.local` names; defaults to none (the agent's own). */
  readonly datacenter?: string | undefined
  /** Use the service address when it has one. Defaults to `true`. */
  readonly preferServiceAddress?: boolean | undefined
  /** Weights by tag. */
  readonly weights?: ReadonlyArray<{ readonly tag: string; readonly weight: number }> | undefined
  /** `default`, `stale` or `consistent` reads. Defaults to `default`. */
  readonly consistencyMode?: "default" | "stale" | "consistent" | undefined
  /** HTTPS to the agent. */
  readonly tls?: HttpGet.Tls | undefined
  /** How long a blocking query may wait (Consul's `wait`). Defaults to 5 minutes. */
  readonly blockingWait?: Duration.Input | undefined
  /** Backoff after a failure: first delay (doubling, jittered, up to 10 s). Defaults to 100 milliseconds. */
  readonly minBackoff?: Duration.Input | undefined
  /** How long a watch stays open after its last subscriber. Defaults to 10 seconds. */
  readonly idleTimeToLive?: Duration.Input | undefined
  /** Label for logs and metrics. Defaults to `#/io.l5d.consul`. */
  readonly label?: string | undefined
}

const CatalogEntry = Schema.Struct({
  Node: Schema.optionalKey(Schema.String),
  Address: Schema.String,
  ServiceID: Schema.optionalKey(Schema.String),
  ServiceAddress: Schema.optionalKey(Schema.NullOr(Schema.String)),
  ServicePort: Schema.Int,
  ServiceTags: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.String)))
})

const Check = Schema.Struct({
  CheckID: Schema.optionalKey(Schema.String),
  Status: Schema.String
})

const HealthEntry = Schema.Struct({
  Node: Schema.Struct({ Node: Schema.optionalKey(Schema.String), Address: Schema.String }),
  Service: Schema.Struct({
    ID: Schema.optionalKey(Schema.String),
    Address: Schema.optionalKey(Schema.NullOr(Schema.String)),
    Port: Schema.Int,
    Tags: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.String)))
  }),
  Checks: Schema.optionalKey(Schema.NullOr(Schema.Array(Check)))
})

const decodeCatalog = Schema.decodeUnknownResult(Schema.fromJsonString(Schema.Array(CatalogEntry)))
const decodeHealth = Schema.decodeUnknownResult(Schema.fromJsonString(Schema.Array(HealthEntry)))

/**
 * One service instance.
 *
 * @since 0.1.0
 * @category models
 */
export interface Instance {
  readonly node: string
  readonly nodeAddress: string
  readonly serviceAddress: string
  readonly port: number
  readonly tags: ReadonlyArray<string>
  readonly health: Health
}

type Answer = { readonly _tag: "Found"; readonly instances: ReadonlyArray<Instance> } | { readonly _tag: "NoDc" }

const rank: Record<Health, number> = { passing: 0, warning: 1, critical: 2, maintenance: 3 }

/**
 * The health of an instance from its checks.
 *
 * @since 0.1.0
 * @category models
 */
export const healthOf = (checks: ReadonlyArray<{ readonly CheckID?: string; readonly Status: string }>): Health => {
  let worst: Health = "passing"
  for (const c of checks) {
    const id = c.CheckID ?? ""
    if (id === "_node_maintenance" || id.startsWith("_service_maintenance")) return "maintenance"
    const s: Health = c.Status === "critical" ? "critical" : c.Status === "warning" ? "warning" : "passing"
    if (rank[s] > rank[worst]) worst = s
  }
  return worst
}

interface Key {
  readonly dc: string | undefined
  readonly service: string
  readonly tag: string | undefined
}

/**
 * What `/namer_state/<prefix>.json` shows: settings (never the token) and each watch.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConsulState {
  readonly kind: string
  readonly host: string
  readonly port: number
  readonly useHealthCheck: boolean
  readonly watches: Readonly<
    Record<string, Watches.WatchInfo & { readonly index: number; readonly instances?: number }>
  >
}

/**
 * Builds the namer; its watches live in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Namer.Namer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const host = options?.host ?? "localhost"
    const port = options?.port ?? 8500
    const label = options?.label ?? `#/${kind}`
    const useHealthCheck = options?.useHealthCheck === true
    const statuses = new Set<Health>(options?.healthStatuses ?? ["passing"])
    const preferServiceAddress = options?.preferServiceAddress ?? true
    const wait = Math.max(
      1,
      Math.round(Duration.toSeconds(Duration.fromInputUnsafe(options?.blockingWait ?? "5 minutes")))
    )
    const minBackoff = options?.minBackoff ?? "100 millis"
    const get = yield* HttpGet.make({ host, port, tls: options?.tls })
    const resolver = HostResolver.make({ label })
    const indexes = new Map<string, number>()

    const query = (key: Key, index: number) => {
      const params = new URLSearchParams()
      const dc = key.dc ?? options?.datacenter
      if (dc !== undefined) params.set("dc", dc)
      if (key.tag !== undefined) params.set("tag", key.tag)
      if (index > 0) {
        params.set("index", String(index))
        params.set("wait", `${wait}s`)
      }
      if (options?.consistencyMode === "stale") params.set("stale", "")
      if (options?.consistencyMode === "consistent") params.set("consistent", "")
      const target = `/v1/${useHealthCheck ? "health" : "catalog"}/service/${encodeURIComponent(key.service)}?${params}`
      return get(target, {
        headers: options?.token !== undefined ? { "x-consul-token": options.token } : {},
        timeout: Duration.seconds(wait + 10)
      })
    }

    const parse = (body: string): Result.Result<ReadonlyArray<Instance>, string> => {
      if (useHealthCheck) {
        const r = decodeHealth(body)
        if (Result.isFailure(r)) {
          return Result.fail(`cannot decode the health answer: ${r.failure.message.split("\n")[0]}`)
        }
        return Result.succeed(r.success.map((e) => ({
          node: e.Node.Node ?? "",
          nodeAddress: e.Node.Address,
          serviceAddress: e.Service.Address ?? "",
          port: e.Service.Port,
          tags: e.Service.Tags ?? [],
          health: healthOf(e.Checks ?? [])
        })))
      }
      const r = decodeCatalog(body)
      if (Result.isFailure(r)) {
        return Result.fail(`cannot decode the catalog answer: ${r.failure.message.split("\n")[0]}`)
      }
      return Result.succeed(r.success.map((e) => ({
        node: e.Node ?? "",
        nodeAddress: e.Address,
        serviceAddress: e.ServiceAddress ?? "",
        port: e.ServicePort,
        tags: e.ServiceTags ?? [],
        health: "passing" as const
      })))
    }

    const run = (keyText: string, handle: Watches.Handle<Answer>) =>
      Effect.gen(function*() {
        const key = JSON.parse(keyText) as Key
        let index = 0
        let attempt = 0
        for (;;) {
          const r = yield* Effect.result(query(key, index))
          let failure: string | undefined
          if (Result.isFailure(r)) failure = r.failure.message
          else if (r.success.status === 500 && /no path to datacenter/i.test(r.success.body)) {
            index = 0
            attempt = 0
            yield* handle.ok({ _tag: "NoDc" })
            yield* Effect.sleep(Duration.seconds(Math.min(wait, 30)))
            continue
          } else if (r.success.status !== 200) {
            failure = `Consul answered ${r.success.status} for ${key.service}: ${r.success.body.slice(0, 200).trim()}`
          } else {
            const parsed = parse(r.success.body)
            if (Result.isFailure(parsed)) failure = `${key.service}: ${parsed.failure}`
            else {
              const header = Number(r.success.headers["x-consul-index"])
              const next = Number.isSafeInteger(header) ? header : 0
              // Consul: an index that goes backwards resets; an index below 1 is not blocking
              index = next < index ? 0 : Math.max(next, 0)
              indexes.set(keyText, index)
              attempt = 0
              yield* handle.ok({ _tag: "Found", instances: parsed.success })
              yield* Effect.sleep(minBackoff)
              continue
            }
          }
          index = 0
          indexes.set(keyText, index)
          yield* handle.fail(failure)
          yield* Effect.flatMap(Watches.backoff(minBackoff, "10 seconds", attempt++), Effect.sleep)
        }
      })

    const watches = yield* Watches.make<Answer>({
      label,
      equals: (a, b) => JSON.stringify(a) === JSON.stringify(b),
      run,
      idleTimeToLive: options?.idleTimeToLive
    })

    const usable = (answer: Answer): Array<Address.Address> => {
      if (answer._tag === "NoDc") return []
      const out: Array<Address.Address> = []
      for (const i of answer.instances) {
        if (useHealthCheck && !statuses.has(i.health)) continue
        const ip = preferServiceAddress && i.serviceAddress !== "" ? i.serviceAddress : i.nodeAddress
        if (ip === "" || i.port < 1 || i.port > 65535) continue
        let weight: number | undefined
        for (const w of options?.weights ?? []) {
          if (i.tags.includes(w.tag) && (weight === undefined || w.weight > weight)) weight = w.weight
        }
        out.push(Address.make(ip, i.port, { weight: weight ?? 1, meta: { node: i.node } }))
      }
      return out.sort((a, b) => Address.key(a) < Address.key(b) ? -1 : 1)
    }

    const answered = (key: string) => watches.states(key).pipe(Stream.filter((s) => s._tag !== "Pending"))

    const lookup = (path: Path.Path): Stream.Stream<NameTree.NameTree<Name.Name>, Namer.NamerError> =>
      Stream.suspend(() => {
        watches.looked()
        const width = options?.includeTag === true ? 3 : 2
        if (path.labels.length < width) return Name.constant(NameTree.neg)
        const head = path.labels.slice(0, width).map((l, i) => (i === 0 ? l : l.toLowerCase()))
        const [dc, a, b] = head as [string, string, string | undefined]
        const key: Key = { dc: dc === ".local" ? undefined : dc, service: b ?? a, tag: b === undefined ? undefined : a }
        const keyText = JSON.stringify(key)
        const addr = answered(keyText).pipe(
          Stream.mapEffect((s): Effect.Effect<Addr.Addr> => {
            if (s._tag !== "Ok") return Effect.succeed(Addr.failed(s._tag === "Failed" ? s.reason : "pending"))
            const xs = usable(s.value)
            return xs.length === 0
              ? Effect.succeed(Addr.neg)
              : Effect.map(resolver.addresses(xs), (ys) => Addr.bound(ys))
          }),
          Stream.changesWith(Addr.equals)
        )
        const bound = NameTree.leaf<Name.Name>(
          Name.bound(Path.fromLabels(head), addr, Path.fromLabels(path.labels.slice(width)))
        )
        return answered(keyText).pipe(
          Stream.mapEffect((s) =>
            s._tag === "Failed"
              ? Effect.fail(new Namer.NamerError({ path: Path.show(path), reason: s.reason }))
              : Effect.succeed(s._tag === "Ok" && usable(s.value).length > 0)
          ),
          Stream.changes,
          Stream.map((present) => present ? bound : NameTree.neg)
        )
      })

    const nameOf = (keyText: string): string => {
      const k = JSON.parse(keyText) as Key
      return "/" + [k.dc ?? ".local", ...(k.tag !== undefined ? [k.tag] : []), k.service].join("/")
    }

    const enumerate = Effect.map(
      watches.entries,
      (entries) =>
        entries.filter(([, s]) => s._tag === "Ok" && usable(s.value).length > 0).map(([key]) =>
          Path.parseUnsafe(nameOf(key))
        )
    )

    const state = Effect.map(watches.entries, (entries): ConsulState => {
      const out: Record<string, Watches.WatchInfo & { index: number; instances?: number }> = {}
      for (const [key, s, info] of entries) {
        out[nameOf(key)] = {
          ...info,
          index: indexes.get(key) ?? 0,
          ...(s._tag === "Ok" && s.value._tag === "Found" ? { instances: s.value.instances.length } : {})
        }
      }
      return { kind, host, port, useHealthCheck, watches: out }
    })

    return { lookup, enumerate, state }
  })
