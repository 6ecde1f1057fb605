/**
 * linkerd 1.x's `addForwardedHeader` server option: every request a server forwards gets one more
 * RFC 7239 `Forwarded` element describing this hop,
 *
 * ```
 * Forwarded: by=_k3Fz0q;for="[2001:db8::17]:51514";host=web
 * ```
 *
 * `by` labels the server (its listening address), `for` the client that sent the request; `host` is
 * the request's `Host` (or the authority of an absolute-form URI) and `proto` the scheme of an
 * absolute-form URI, each only when known (linkerd writes the same four parameters). An element is
 * appended after the ones earlier proxies wrote (RFC 7239 §4), which are kept as they came.
 *
 * Labelers (linkerd's `kind`s): `ip` (`192.0.2.43`, `"[2001:db8::17]"`), `ip:port`
 * (`"192.0.2.43:8080"`), `connectionRandom` (an obfuscated `_xxxxxx` label chosen once per client
 * connection), `requestRandom` (a new obfuscated label per request, the default: RFC 7239 §6.3 asks
 * for obfuscated identifiers by default), `router` and `static` (a fixed obfuscated label: the
 * router's label, or the one given, with `_` in front when it lacks one). An address that is not
 * known (no peer, a wildcard listening address) is `unknown`.
 *
 * ```yaml
 * servers:
 * - port: 4140
 *   addForwardedHeader:
 *     by: {kind: router}
 *     for: {kind: connectionRandom}
 * ```
 *
 * @since 0.1.0
 */
import { isIP } from "node:net"
import type { Headers, HttpRequest } from "./transport/Message.js"
import { headerAll } from "./transport/Message.js"

// ---------------------------------------------------------------------------------------------
// model
// ---------------------------------------------------------------------------------------------

/**
 * How one side of a hop (`by` or `for`) is named.
 *
 * @since 0.1.0
 * @category model
 */
export type Labeler =
  | { readonly _tag: "Ip" }
  | { readonly _tag: "IpPort" }
  | { readonly _tag: "ConnectionRandom" }
  | { readonly _tag: "RequestRandom" }
  | { readonly _tag: "Static"; readonly label: string }

/**
 * A labeler as the config file writes it (linkerd's `kind`s; `static` carries a `label`, `router`
 * stands for the router's label).
 *
 * @since 0.1.0
 * @category model
 */
export type LabelerConfig =
  | { readonly kind: "ip" | "ip:port" | "connectionRandom" | "requestRandom" | "router" }
  | { readonly kind: "static"; readonly label: string }

/**
 * Settings of `make`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** Names this proxy (the server's listening address). Defaults to `requestRandom`. */
  readonly by?: Labeler | undefined
  /** Names the client. Defaults to `requestRandom`. */
  readonly for?: Labeler | undefined
  /** Source of the random labels, a number in [0, 1). Defaults to `Math.random`. */
  readonly random?: (() => number) | undefined
  /** Client connections whose `connectionRandom` label is remembered (least recently used go first). Defaults to `10000`. */
  readonly connections?: number | undefined
}

/**
 * Adds this hop's element to a request's `Forwarded` header (mutating its headers). `local` is the
 * server's listening address as `ip:port`.
 *
 * @since 0.1.0
 * @category model
 */
export type Stamp = (request: HttpRequest, local: string) => void

// ---------------------------------------------------------------------------------------------
// guards
// ---------------------------------------------------------------------------------------------

const obfuscatedRe = /^_[A-Za-z0-9._-]+$/
const labelRe = /^[A-Za-z0-9._-]+$/
const tokenRe = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

const controlRe = /[\x00-\x08\x0a-\x1f\x7f]/

/**
 * Whether `s` is an RFC 7239 obfuscated identifier: `_` then letters, digits, `.`, `_` or `-`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isObfuscated = (s: string): boolean => obfuscatedRe.test(s)

/**
 * Why `label` cannot be a `static` (or `router`) label, or `undefined` when it can: it must be made
 * of letters, digits, `.`, `_` and `-`, so that with its leading `_` it is an obfuscated identifier.
 *
 * @since 0.1.0
 * @category guards
 */
export const labelProblem = (label: string): string | undefined => {
  if (labelRe.test(label) && label !== "_") return undefined
  const expected = `letters, digits, ".", "_" or "-", an RFC 7239 obfuscated identifier such as "_edge"`
  return `invalid label ${JSON.stringify(label)} (expected ${expected})`
}

// ---------------------------------------------------------------------------------------------
// constructors
// ---------------------------------------------------------------------------------------------

/**
 * The IP address alone: `192.0.2.43`, `"[2001:db8::17]"`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const ip: Labeler = { _tag: "Ip" }

/**
 * The IP address and port: `"192.0.2.43:8080"`, `"[2001:db8::17]:8080"`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const ipPort: Labeler = { _tag: "IpPort" }

/**
 * A random obfuscated label (`_` and six letters or digits) kept for the client connection's life.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connectionRandom: Labeler = { _tag: "ConnectionRandom" }

/**
 * A new random obfuscated label for every request (the default).
 *
 * @since 0.1.0
 * @category constructors
 */
export const requestRandom: Labeler = { _tag: "RequestRandom" }

/**
 * A fixed obfuscated label: `label` with `_` in front when it does not start with one. A label that
 * `labelProblem` rejects has its other characters replaced by `-`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const staticLabel = (label: string): Labeler => {
  const clean = label.replace(/[^A-Za-z0-9._-]/g, "-")
  return { _tag: "Static", label: clean.startsWith("_") && clean.length > 1 ? clean : `_${clean}` }
}

/**
 * The router's label as a fixed obfuscated label (see `staticLabel`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const router = (routerLabel: string): Labeler => staticLabel(routerLabel)

/**
 * The labeler a config entry describes; `routerLabel` is what `router` stands for.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromConfig = (config: LabelerConfig, routerLabel: string): Labeler => {
  switch (config.kind) {
    case "ip":
      return ip
    case "ip:port":
      return ipPort
    case "connectionRandom":
      return connectionRandom
    case "requestRandom":
      return requestRandom
    case "router":
      return router(routerLabel)
    case "static":
      return staticLabel(config.label)
  }
}

// ---------------------------------------------------------------------------------------------
// formatting
// ---------------------------------------------------------------------------------------------

/**
 * A parameter value as RFC 7239 §4 writes it: a token as is, anything else as a quoted string
 * (`"` and `\` escaped).
 *
 * @since 0.1.0
 * @category formatting
 */
export const quote = (value: string): string =>
  tokenRe.test(value) ? value : `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`

const unknown = "unknown"

const splitAddress = (address: string): { readonly host: string; readonly port: string } | undefined => {
  const i = address.lastIndexOf(":")
  if (i <= 0) return undefined
  let host = address.slice(0, i)
  const port = address.slice(i + 1)
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1)
  if (host.toLowerCase().startsWith("::ffff:") && isIP(host.slice(7)) === 4) host = host.slice(7)
  if (!/^\d{1,5}$/.test(port)) return undefined
  return { host, port }
}

/**
 * The RFC 7239 node (§6) of an `ip:port` address, quoted when needed: `192.0.2.43`,
 * `"[2001:db8::17]"`, or with `withPort` `"192.0.2.43:8080"`. IPv4-mapped IPv6 addresses are
 * written as IPv4; a wildcard (`0.0.0.0`, `::`), missing or malformed address is `unknown`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const node = (address: string | undefined, withPort: boolean): string => {
  const a = address === undefined ? undefined : splitAddress(address)
  if (a === undefined) return unknown
  const family = isIP(a.host)
  if (family === 0 || a.host === "0.0.0.0" || a.host === "::") return unknown
  const host = family === 6 ? `[${a.host}]` : a.host
  return quote(withPort ? `${host}:${a.port}` : host)
}

/**
 * One `Forwarded` element: `by=…;for=…`, then `host=…` and `proto=…` when given. `by` and `for` are
 * nodes as `node` or the labelers write them; `host` is quoted when needed (and dropped if it holds
 * control characters).
 *
 * @since 0.1.0
 * @category formatting
 */
export const element = (params: {
  readonly by: string
  readonly for: string
  readonly host?: string | undefined
  readonly proto?: string | undefined
}): string => {
  let out = `by=${params.by};for=${params.for}`
  if (params.host !== undefined && params.host !== "" && !controlRe.test(params.host)) {
    out += `;host=${quote(params.host)}`
  }
  if (params.proto !== undefined) out += `;proto=${params.proto}`
  return out
}

/**
 * Appends an element to the `Forwarded` header (mutating `headers`): earlier values are kept, joined
 * with `, ` into one header, this element last.
 *
 * @since 0.1.0
 * @category formatting
 */
export const append = (headers: Headers, element: string): void => {
  const earlier = headerAll(headers, "forwarded").filter((v) => v.trim() !== "")
  headers["forwarded"] = earlier.length === 0 ? element : `${earlier.join(", ")}, ${element}`
}

const absoluteRe = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/

// ---------------------------------------------------------------------------------------------
// stamping
// ---------------------------------------------------------------------------------------------

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

/**
 * A random obfuscated label: `_` and six letters or digits.
 *
 * @since 0.1.0
 * @category stamping
 */
export const randomLabel = (random: () => number = Math.random): string => {
  let out = "_"
  for (let i = 0; i < 6; i++) out += alphabet[Math.floor(random() * alphabet.length) % alphabet.length]
  return out
}

/** `connection` names the client connection (its `ip:port`), `address` is the side's own address. */
type Side = (connection: string | undefined, address: string | undefined) => string

const side = (labeler: Labeler, random: () => number, connections: number): Side => {
  switch (labeler._tag) {
    case "Static": {
      const label = labeler.label
      return () => label
    }
    case "RequestRandom":
      return (_, address) => address === undefined ? unknown : randomLabel(random)
    case "ConnectionRandom": {
      // keyed by the client's ip:port, which names its connection while it is open
      const labels = new Map<string, string>()
      return (connection) => {
        if (connection === undefined) return unknown
        let label = labels.get(connection)
        if (label !== undefined) {
          labels.delete(connection)
        } else {
          label = randomLabel(random)
          if (labels.size >= connections) labels.delete(labels.keys().next().value!)
        }
        labels.set(connection, label)
        return label
      }
    }
    case "Ip":
    case "IpPort": {
      const withPort = labeler._tag === "IpPort"
      let lastAddress: string | undefined = undefined
      let lastNode = unknown
      return (_, address) => {
        if (address !== lastAddress) {
          lastAddress = address
          lastNode = node(address, withPort)
        }
        return lastNode
      }
    }
  }
}

/**
 * The stamp of one server: labels `by` from the server's listening address and `for` from the
 * request's peer (`HttpRequest.remote`), then appends the element. Each labeler keeps its own state
 * (a `connectionRandom` `by` and `for` get different labels).
 *
 * @since 0.1.0
 * @category stamping
 */
export const make = (options: Options = {}): Stamp => {
  const random = options.random ?? Math.random
  const connections = Math.max(1, options.connections ?? 10_000)
  const by = side(options.by ?? requestRandom, random, connections)
  const forSide = side(options.for ?? requestRandom, random, connections)
  return (request, local) => {
    const remote = request.remote
    const m = request.url.charCodeAt(0) === 47 ? null : absoluteRe.exec(request.url)
    const hostHeader = request.headers["host"]
    const host = m !== null
      ? m[2]!.slice(m[2]!.lastIndexOf("@") + 1)
      : typeof hostHeader === "string"
      ? hostHeader
      : hostHeader?.[0]
    append(
      request.headers,
      element({
        by: by(remote, local),
        for: forSide(remote, remote),
        host,
        proto: m !== null ? m[1]!.toLowerCase() : undefined
      })
    )
  }
}
