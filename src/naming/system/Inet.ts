/**
 * The `/$/inet`, `/$/fixedinet` and `/$/io.buoyant.rinet` system names: bind a host and port.
 *
 * - `/$/inet/<host>/<port>[/residual…]` — id `/$/inet/<host>/<port>`; host names are re-resolved
 *   every 5 seconds (a failed re-resolution keeps the last addresses).
 * - `/$/inet/<port>[/…]` — the unspecified address `0.0.0.0:<port>`.
 * - `/$/fixedinet/…` — like inet, resolved once.
 * - `/$/io.buoyant.rinet/<port>/<host>[/…]` — inet with port first (for dtab prefixes such as
 *   `/ph => /$/io.buoyant.rinet` then `/srv => /ph/80`); fewer than two segments is `Neg`.
 *
 * IPv4 literals in the short forms DNS resolvers accept (`127.1`) are expanded without DNS.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { lookup as dnsLookup } from "node:dns/promises"
import { isIP } from "node:net"
import * as Address from "../../Address.js"
import * as Addr from "../Addr.js"
import * as Name from "../Name.js"
import * as NameTree from "../NameTree.js"
import * as Path from "../Path.js"

/**
 * Resolves a host name to IP addresses.
 *
 * @since 0.1.0
 * @category models
 */
export type Resolve = (host: string) => Effect.Effect<ReadonlyArray<string>, Error>

/**
 * The DNS resolver used by inet names. Defaults to the system resolver (`dns.lookup`, all
 * addresses). Tests provide a fake.
 *
 * @since 0.1.0
 * @category params
 */
export const Resolver = Context.Reference<Resolve>("weir/naming/system/Inet/Resolver", {
  defaultValue: () => (host) =>
    Effect.tryPromise({
      try: () => dnsLookup(host, { all: true }),
      catch: (e) => e instanceof Error ? e : new Error(String(e))
    }).pipe(Effect.map((xs) => xs.map((x) => x.address)))
})

/**
 * How often host names are re-resolved. Defaults to 5 seconds.
 *
 * @since 0.1.0
 * @category params
 */
export const RefreshInterval = Context.Reference<Duration.Duration>("weir/naming/system/Inet/RefreshInterval", {
  defaultValue: () => Duration.seconds(5)
})

/**
 * Parses a decimal port (0–65535) or returns `undefined`.
 *
 * @since 0.1.0
 * @category utils
 */
export const parsePort = (s: string): number | undefined => {
  if (!/^\d{1,5}$/.test(s)) return undefined
  const n = Number(s)
  return n <= 65535 ? n : undefined
}

/**
 * The IP literal a host string denotes without DNS (`127.1` → `127.0.0.1`), or `undefined`.
 *
 * @since 0.1.0
 * @category utils
 */
export const ipLiteral = (host: string): string | undefined => {
  if (isIP(host) !== 0) return host
  if (!/^\d+(\.\d+){0,3}$/.test(host)) return undefined
  const parts = host.split(".").map(Number)
  const last = parts.pop()!
  const bytes: Array<number> = []
  for (const p of parts) {
    if (p > 255) return undefined
    bytes.push(p)
  }
  const rest = 4 - bytes.length
  if (last >= 2 ** (8 * rest)) return undefined
  for (let i = rest - 1; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256)
  return bytes.join(".")
}

/**
 * The live address state of `host:port`: constant for IP literals; otherwise resolved now and,
 * unless `fixed`, every `RefreshInterval`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const addr = (host: string, port: number, fixed = false): Stream.Stream<Addr.Addr> => {
  const literal = ipLiteral(host)
  if (literal !== undefined) return Name.constant<Addr.Addr>(Addr.bound([Address.make(literal, port)]))
  return Stream.unwrap(Effect.gen(function*() {
    const resolve = yield* Effect.service(Resolver)
    const every = yield* Effect.service(RefreshInterval)
    let last: Addr.Addr = Addr.pending
    const once = Effect.suspend(() => resolve(host)).pipe(
      Effect.map((ips): Addr.Addr => Addr.bound(ips.map((ip) => Address.make(ip, port)))),
      Effect.catch((e) => Effect.succeed<Addr.Addr>(Addr.failed(`${host}: ${e.message}`))),
      Effect.map((a) => {
        if (a._tag === "Failed" && last._tag === "Bound") return last
        last = a
        return a
      })
    )
    const states = fixed
      ? Stream.concat(Stream.fromEffect(once), Stream.never)
      : Stream.fromEffectSchedule(once, Schedule.spaced(every))
    return states.pipe(Stream.changesWith(Addr.equals))
  }))
}

const bindInet = (kind: string, host: string, port: number, rest: ReadonlyArray<string>, fixed: boolean) =>
  NameTree.leaf<Name.Name>(
    Name.bound(
      Path.make("$", kind, host, String(port)),
      addr(host === "" ? "0.0.0.0" : host, port, fixed),
      Path.fromLabels(rest)
    )
  )

/**
 * The answer for `/$/inet/…` or `/$/fixedinet/…` given the labels after the namer name, or
 * `undefined` when they do not name an address.
 *
 * @since 0.1.0
 * @category lookup
 */
export const inet = (
  labels: ReadonlyArray<string>,
  fixed = false
): NameTree.NameTree<Name.Name> | undefined => {
  const kind = fixed ? "fixedinet" : "inet"
  const [a, b] = labels
  if (a !== undefined && b !== undefined) {
    const port = parsePort(b)
    if (port !== undefined) return bindInet(kind, a, port, labels.slice(2), fixed)
  }
  if (a !== undefined) {
    const port = parsePort(a)
    if (port !== undefined) {
      return NameTree.leaf(
        Name.bound(Path.make("$", kind, a), addr("0.0.0.0", port, fixed), Path.fromLabels(labels.slice(1)))
      )
    }
  }
  return undefined
}

/**
 * The answer for `/$/io.buoyant.rinet/<port>/<host>/…` given the labels after the namer name.
 *
 * @since 0.1.0
 * @category lookup
 */
export const rinet = (labels: ReadonlyArray<string>): NameTree.NameTree<Name.Name> => {
  const [p, host] = labels
  if (p === undefined || host === undefined) return NameTree.neg
  const port = parsePort(p)
  if (port === undefined) return NameTree.neg
  return NameTree.leaf(
    Name.bound(Path.make("$", "io.buoyant.rinet", p, host), addr(host, port), Path.fromLabels(labels.slice(2)))
  )
}
