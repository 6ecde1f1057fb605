/**
 * Transformers that keep only the addresses on some hosts: `localhost` (linkerd's
 * `io.l5d.localhost`: the addresses of this machine), `specificHost` (`io.l5d.specificHost`: the
 * addresses of one given host), and `subnet` (addresses on the same /24 network as a given IP,
 * linkerd's test for "the same Kubernetes node" when pods get a /24 per node) and `metadata`
 * (addresses whose metadata key has a value, e.g. `nodeName`). A bound set left empty is `Neg`.
 *
 * @since 0.1.0
 */
import * as net from "node:net"
import * as os from "node:os"
import type * as Address from "../../Address.js"
import * as Path from "../Path.js"
import * as Transformer from "./Transformer.js"

/**
 * The IP addresses of this machine's network interfaces (loopback included).
 *
 * @since 0.1.0
 * @category getters
 */
export const localAddresses = (): ReadonlyArray<string> =>
  Object.values(os.networkInterfaces()).flatMap((xs) => (xs ?? []).map((x) => x.address))

const normalize = (ip: string): string => ip.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, "$1")

/**
 * Keeps the addresses whose host is one of `hosts` (IP strings; IPv4-mapped IPv6 compares as IPv4).
 *
 * @since 0.1.0
 * @category constructors
 */
export const onHosts = (name: string, prefix: Path.Path, hosts: ReadonlyArray<string>): Transformer.Transformer => {
  const set = new Set(hosts.map(normalize))
  return Transformer.filter(name, prefix, (a) => set.has(normalize(a.host)))
}

/**
 * `io.l5d.localhost`: keeps the addresses of this machine. Ids become `/%/io.l5d.localhost/<id>`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const localhost = (options?: {
  /** This machine's addresses. Defaults to `localAddresses()`. */
  readonly addresses?: ReadonlyArray<string> | undefined
  /** Defaults to `/io.l5d.localhost`. */
  readonly prefix?: Path.Path | undefined
}): Transformer.Transformer =>
  onHosts(
    "io.l5d.localhost",
    options?.prefix ?? Path.make("io.l5d.localhost"),
    options?.addresses ?? localAddresses()
  )

/**
 * `io.l5d.specificHost`: keeps the addresses of `host` (whose IPs are `addresses`). Ids become
 * `/%/io.l5d.specificHost/<id>`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const specificHost = (options: {
  /** The host as configured (names the prefix). */
  readonly host: string
  /** Its IP addresses (the host itself when it is an IP). */
  readonly addresses: ReadonlyArray<string>
  /** Defaults to `/io.l5d.specificHost`. */
  readonly prefix?: Path.Path | undefined
}): Transformer.Transformer =>
  onHosts(
    "io.l5d.specificHost",
    options.prefix ?? Path.make("io.l5d.specificHost"),
    options.addresses
  )

/**
 * Whether two IPv4 addresses are on the same /24 network. Other pairs (IPv6, names) are not.
 *
 * @since 0.1.0
 * @category predicates
 */
export const sameSubnet24 = (a: string, b: string): boolean => {
  const x = normalize(a)
  const y = normalize(b)
  if (!net.isIPv4(x) || !net.isIPv4(y)) return false
  return x.split(".").slice(0, 3).join(".") === y.split(".").slice(0, 3).join(".")
}

/**
 * Keeps the addresses on the same /24 network as `ip`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const subnet = (name: string, prefix: Path.Path, ip: string): Transformer.Transformer =>
  Transformer.filter(name, prefix, (a) => sameSubnet24(a.host, ip))

/**
 * Keeps the addresses whose metadata `key` is `value` (an address without the key is dropped).
 *
 * @since 0.1.0
 * @category constructors
 */
export const metadata = (name: string, prefix: Path.Path, key: string, value: unknown): Transformer.Transformer =>
  Transformer.filter(name, prefix, (a: Address.Address) => key in a.meta && a.meta[key] === value)
