/**
 * The `io.l5d.dnssrv` namer (experimental in linkerd): service discovery from DNS SRV records.
 * `/#/io.l5d.dnssrv/_http._tcp.web.example` looks up the SRV record `_http._tcp.web.example`; the
 * labels after the record are the residual. Each SRV target becomes an address (`ip:port`), its
 * A/AAAA records resolved through the same DNS servers (a target that is already an IP is used as
 * is; a target that does not resolve is skipped with a warning).
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.dnssrv
 *   experimental: true
 *   refreshIntervalSeconds: 5
 *   dnsHosts: [127.0.0.1:5353]
 * ```
 *
 * Weights and priorities: every target is used whatever its priority (as linkerd does: it ignores
 * SRV priorities), and an address's weight is its SRV weight (a weight of `0` is kept, so the
 * balancer rarely picks it, unless every target has weight `0`, when all get weight `1`).
 *
 * Each watched record is re-resolved every `refreshInterval` (on Effect's `Clock`); subscribers see
 * a new answer only when it changed. A record that does not exist (NXDOMAIN), has no SRV records, or
 * whose targets all fail to resolve is `Neg`, so a dtab fallback (`|`) applies. A transient error
 * (timeout, SERVFAIL, refused, unreachable server) keeps the last good answer (stale while error),
 * or is `Failed` when there is none yet; it is logged, counted (`namer/<label>/failures`) and shown
 * by `state`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as RcMap from "effect/RcMap"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as dns from "node:dns"
import * as net from "node:net"
import * as Address from "../Address.js"
import * as Addr from "../naming/Addr.js"
import * as Name from "../naming/Name.js"
import * as Namer from "../naming/Namer.js"
import * as NameTree from "../naming/NameTree.js"
import * as Path from "../naming/Path.js"
import * as Stats from "../Stats.js"

/**
 * The namer kind, also its default mount prefix (`/#/io.l5d.dnssrv`).
 *
 * @since 0.1.0
 * @category constants
 */
export const kind = "io.l5d.dnssrv"

/**
 * The outcome of resolving one SRV record: its addresses, `NotFound` (NXDOMAIN, no SRV records, or
 * no target resolved: a negative answer), or a transient `Error`.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome =
  | { readonly _tag: "Found"; readonly addresses: ReadonlyArray<Address.Address> }
  | { readonly _tag: "NotFound"; readonly reason: string }
  | { readonly _tag: "Error"; readonly reason: string }

/**
 * Resolves one SRV record. Must not fail: errors are `Outcome`s.
 *
 * @since 0.1.0
 * @category models
 */
export type Query = (record: string) => Effect.Effect<Outcome>

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How often watched records are re-resolved. Defaults to 5 seconds. */
  readonly refreshInterval?: Duration.Input | undefined
  /**
   * DNS servers, each `ip`, `ip:port`, `[ipv6]:port` or a bare IPv6 address. Defaults to none: the
   * system resolver's servers.
   */
  readonly dnsHosts?: ReadonlyArray<string> | undefined
  /** How records are resolved. Defaults to `resolverQuery` over `dnsHosts`. */
  readonly query?: Query | undefined
  /** How long a record stays watched after its last subscriber. Defaults to 10 seconds. */
  readonly idleTimeToLive?: Duration.Input | undefined
  /** Label for logs and metrics. Defaults to `#/io.l5d.dnssrv`. */
  readonly label?: string | undefined
}

/**
 * Checks one `dnsHosts` entry: `undefined` when it is an `ip`, `ip:port`, `[ipv6]:port` or bare
 * IPv6 address, else why not.
 *
 * @since 0.1.0
 * @category parsing
 */
export const dnsHostProblem = (host: string): string | undefined => {
  if (net.isIP(host) !== 0) return undefined
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(host) ?? /^([^:]+):(\d{1,5})$/.exec(host)
  if (m === null) return `${JSON.stringify(host)} is not an IP address (optionally with :port)`
  if (net.isIP(m[1]!) === 0) return `${JSON.stringify(m[1])} is not an IP address`
  const port = Number(m[2])
  if (port < 1 || port > 65535) return `invalid port ${port} in ${JSON.stringify(host)} (1..65535)`
  return undefined
}

const notFoundCodes = new Set<string>([dns.NOTFOUND, dns.NODATA])

const errorCode = (e: unknown): string =>
  typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : String(e)

/**
 * The default `Query`: a `node:dns` `Resolver` on `dnsHosts` (the system's servers when empty),
 * with a per-try timeout of `timeout` (default 2 seconds) and 2 tries.
 *
 * @since 0.1.0
 * @category constructors
 */
export const resolverQuery = (
  dnsHosts: ReadonlyArray<string>,
  options?: { readonly timeout?: Duration.Input | undefined }
): Query => {
  const resolver = new dns.promises.Resolver({
    timeout: Math.max(1, Math.round(Duration.toMillis(options?.timeout ?? "2 seconds"))),
    tries: 2
  })
  if (dnsHosts.length > 0) resolver.setServers([...dnsHosts])
  const resolveTarget = async (target: string): Promise<Array<string>> => {
    if (net.isIP(target) !== 0) return [target]
    try {
      return await resolver.resolve4(target)
    } catch (e) {
      if (!notFoundCodes.has(errorCode(e))) throw e
    }
    return await resolver.resolve6(target)
  }
  return (record) =>
    Effect.promise(async (): Promise<Outcome> => {
      let srv: Array<dns.SrvRecord>
      try {
        srv = await resolver.resolveSrv(record)
      } catch (e) {
        const code = errorCode(e)
        return notFoundCodes.has(code)
          ? { _tag: "NotFound", reason: `${record}: ${code}` }
          : { _tag: "Error", reason: `SRV lookup of ${record} failed: ${code}` }
      }
      if (srv.length === 0) return { _tag: "NotFound", reason: `${record}: no SRV records` }
      const allZero = srv.every((r) => r.weight === 0)
      const addresses: Array<Address.Address> = []
      const unresolved: Array<string> = []
      for (const r of srv) {
        let ips: Array<string>
        try {
          ips = await resolveTarget(r.name)
        } catch (e) {
          const code = errorCode(e)
          if (!notFoundCodes.has(code)) {
            return { _tag: "Error", reason: `lookup of SRV target ${r.name} (of ${record}) failed: ${code}` }
          }
          unresolved.push(r.name)
          continue
        }
        for (const ip of ips) addresses.push(Address.make(ip, r.port, { weight: allZero ? 1 : r.weight }))
      }
      if (addresses.length === 0) {
        return { _tag: "NotFound", reason: `${record}: no SRV target resolves (${unresolved.join(", ")})` }
      }
      addresses.sort((a, b) => a.host < b.host ? -1 : a.host > b.host ? 1 : a.port - b.port)
      return { _tag: "Found", addresses }
    })
}

/** One watched record: its current answer (`Bound`, `Neg` or `Failed`), last error and refresh time. */
interface Entry {
  readonly addr: Addr.Addr
  readonly error?: string | undefined
  readonly refreshedAt: number
}

/**
 * What `/namer_state/<prefix>.json` shows for a dnssrv namer: its settings and each watched
 * record's answer, last error (if the last refresh failed) and last refresh time.
 *
 * @since 0.1.0
 * @category models
 */
export interface DnsSrvState {
  readonly kind: typeof kind
  readonly dnsHosts: ReadonlyArray<string>
  readonly refreshIntervalMs: number
  readonly records: Readonly<Record<string, RecordState>>
}

/**
 * One record's state in `DnsSrvState`.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordState {
  /** `bound` (addresses known, possibly stale), `neg` (no such record) or `failed` (no answer yet). */
  readonly state: "bound" | "neg" | "failed"
  readonly addresses?: ReadonlyArray<{ readonly ip: string; readonly port: number; readonly weight: number }>
  /** The last refresh's transient error, when it failed. */
  readonly error?: string
  /** When the record was last resolved (ISO 8601, the Effect clock). */
  readonly lastRefresh: string
}

/**
 * Builds the namer. Its record watches live in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Namer.Namer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const label = options?.label ?? `#/${kind}`
    const dnsHosts = options?.dnsHosts ?? []
    const stats = (yield* Effect.service(Stats.Receiver)).scope("namer", label)
    const failures = stats.counter("failures")
    const interval = Duration.fromInputUnsafe(options?.refreshInterval ?? "5 seconds")
    const bad = dnsHosts.map(dnsHostProblem).filter((p) => p !== undefined)
    const query: Query = options?.query ?? (bad.length > 0
      ? () => Effect.succeed<Outcome>({ _tag: "Error", reason: `invalid dnsHosts: ${bad.join("; ")}` })
      : resolverQuery(dnsHosts, {
        timeout: Duration.min(Duration.seconds(2), Duration.max(interval, Duration.millis(200)))
      }))

    const refresh = (record: string, previous: Entry | undefined): Effect.Effect<Entry> =>
      Effect.gen(function*() {
        const outcome = yield* query(record)
        const now = yield* Clock.currentTimeMillis
        if (outcome._tag === "Found") return { addr: Addr.bound(outcome.addresses), refreshedAt: now }
        if (outcome._tag === "NotFound") {
          if (previous !== undefined && previous.addr._tag !== "Neg") {
            yield* Effect.logInfo(`${label}: ${outcome.reason}: now negative`)
          }
          return { addr: Addr.neg, refreshedAt: now }
        }
        failures.incr()
        const kept = previous !== undefined && previous.addr._tag !== "Failed"
        yield* Effect.logWarning(`${label}: ${outcome.reason}${kept ? ", keeping the last answer" : ""}`)
        return { addr: kept ? previous.addr : Addr.failed(outcome.reason), error: outcome.reason, refreshedAt: now }
      })

    const open = new Map<string, SubscriptionRef.SubscriptionRef<Entry>>()
    const watches = yield* RcMap.make({
      lookup: (record: string) =>
        Effect.gen(function*() {
          const ref = yield* SubscriptionRef.make(yield* refresh(record, undefined))
          open.set(record, ref)
          yield* Effect.addFinalizer(() => Effect.sync(() => open.delete(record)))
          yield* Effect.sleep(interval).pipe(
            Effect.andThen(Effect.suspend(() => refresh(record, SubscriptionRef.getUnsafe(ref)))),
            Effect.flatMap((next) => {
              const current = SubscriptionRef.getUnsafe(ref)
              return Addr.equals(next.addr, current.addr) && next.error === current.error
                ? SubscriptionRef.update(ref, (c) => ({ ...c, refreshedAt: next.refreshedAt }))
                : SubscriptionRef.set(ref, next)
            }),
            Effect.forever,
            Effect.forkScoped
          )
          return ref
        }),
      idleTimeToLive: options?.idleTimeToLive ?? "10 seconds"
    })

    const watch = (record: string): Stream.Stream<Entry> =>
      Stream.unwrap(Effect.map(RcMap.get(watches, record), SubscriptionRef.changes))

    const addrOf = (record: string): Stream.Stream<Addr.Addr> =>
      watch(record).pipe(Stream.map((e) => e.addr), Stream.changesWith(Addr.equals))

    const lookup = (path: Path.Path): Stream.Stream<NameTree.NameTree<Name.Name>> => {
      const [record, ...residual] = path.labels
      if (record === undefined || record === "") return Name.constant(NameTree.neg)
      return watch(record).pipe(
        Stream.map((e) => e.addr._tag === "Neg"),
        Stream.changes,
        Stream.map((neg): NameTree.NameTree<Name.Name> =>
          neg ? NameTree.neg : NameTree.leaf(Name.bound(Path.make(record), addrOf(record), Path.fromLabels(residual)))
        )
      )
    }

    const enumerate = Effect.sync(() => [...open.keys()].sort().map((r) => Path.make(r)))

    const state = Effect.sync((): DnsSrvState => {
      const records: Record<string, RecordState> = {}
      for (const record of [...open.keys()].sort()) {
        const e = SubscriptionRef.getUnsafe(open.get(record)!)
        records[record] = {
          state: e.addr._tag === "Bound" ? "bound" : e.addr._tag === "Neg" ? "neg" : "failed",
          ...(e.addr._tag === "Bound"
            ? { addresses: e.addr.addresses.map((a) => ({ ip: a.host, port: a.port, weight: a.weight })) }
            : {}),
          ...(e.error !== undefined ? { error: e.error } : {}),
          lastRefresh: new Date(e.refreshedAt).toISOString()
        }
      }
      return { kind, dnsHosts, refreshIntervalMs: Duration.toMillis(interval), records }
    })

    return { ...Namer.make(lookup), enumerate, state }
  })
