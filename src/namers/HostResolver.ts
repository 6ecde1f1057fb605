/**
 * Host name resolution shared by a namer's subscribers: discovery backends (serversets, Curator,
 * Consul, Marathon) may announce host names instead of IPs. Each name is looked up once per
 * time-to-live however many names, subscribers and updates mention it (concurrent lookups of one
 * name share one query), and the addresses it answers replace it. An IP is used as is; a name that
 * does not resolve is kept as a name (connecting then resolves it again, and fails on its own if it
 * still does not resolve), with a warning.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as dns from "node:dns"
import * as net from "node:net"
import * as Address from "../Address.js"

/**
 * A shared resolver.
 *
 * @since 0.1.0
 * @category models
 */
export interface HostResolver {
  /** The IPs of `host` (`[host]` itself when it is an IP or does not resolve). */
  readonly resolve: (host: string) => Effect.Effect<ReadonlyArray<string>>
  /** Replaces each address whose host is a name by one address per IP (weight and metadata kept). */
  readonly addresses: (xs: ReadonlyArray<Address.Address>) => Effect.Effect<ReadonlyArray<Address.Address>>
  /** Queries sent so far (not counting answers served from the cache). */
  readonly queries: () => number
}

/**
 * How one name is looked up.
 *
 * @since 0.1.0
 * @category models
 */
export type Lookup = (host: string) => Promise<ReadonlyArray<string>>

const systemLookup: Lookup = async (host) => (await dns.promises.lookup(host, { all: true })).map((a) => a.address)

/**
 * Builds a resolver; answers are kept for `ttl` (default 5 seconds).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: {
  readonly ttl?: Duration.Input | undefined
  readonly lookup?: Lookup | undefined
  readonly label?: string | undefined
}): HostResolver => {
  const ttl = Duration.toMillis(Duration.fromInputUnsafe(options?.ttl ?? "5 seconds"))
  const lookup = options?.lookup ?? systemLookup
  const cache = new Map<string, { readonly at: number; readonly ips: Promise<ReadonlyArray<string>> }>()
  let queries = 0
  const resolve = (host: string): Effect.Effect<ReadonlyArray<string>> =>
    net.isIP(host) !== 0 ? Effect.succeed([host]) : Effect.flatMap(Clock.currentTimeMillis, (now) => {
      let entry = cache.get(host)
      if (entry === undefined || now - entry.at >= ttl) {
        queries++
        const ips = lookup(host).then(
          (xs) => (xs.length === 0 ? [host] : [...xs].sort()),
          () => {
            cache.delete(host)
            return [host]
          }
        )
        entry = { at: now, ips }
        cache.set(host, entry)
        for (const [h, e] of cache) if (now - e.at >= ttl) cache.delete(h)
      }
      const ips = entry.ips
      return Effect.tap(
        Effect.promise(() => ips),
        (xs) =>
          xs.length === 1 && xs[0] === host
            ? Effect.logWarning(`${options?.label ?? "namer"}: host ${host} does not resolve; using the name`)
            : Effect.void
      )
    })
  const addresses = (xs: ReadonlyArray<Address.Address>) =>
    xs.every((a) => net.isIP(a.host) !== 0) ? Effect.succeed(xs) : Effect.map(
      Effect.forEach(
        xs,
        (a) =>
          Effect.map(
            resolve(a.host),
            (ips) => ips.map((ip) => Address.make(ip, a.port, { weight: a.weight, meta: a.meta }))
          )
      ),
      (nested) => nested.flat()
    )
  return { resolve, addresses, queries: () => queries }
}
