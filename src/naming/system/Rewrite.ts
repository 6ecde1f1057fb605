/**
 * linkerd's rewriting system namers. Each turns a path into another path (which re-enters the
 * dtab), or `Neg` when the segment it inspects does not match:
 *
 * | name | rewrite |
 * | --- | --- |
 * | `io.buoyant.http.anyMethod/<METHOD>/r…` | `/r…` (METHOD is `[A-Z]+`) |
 * | `io.buoyant.http.anyMethodPfx/<pfx>/<METHOD>/r…` | `/<pfx>/r…` |
 * | `io.buoyant.http.anyHost/<host>/r…` | `/r…` |
 * | `io.buoyant.http.anyHostPfx/<pfx>/<host>/r…` | `/<pfx>/r…` |
 * | `io.buoyant.http.domainToPath/<a.b.c>/r…` | `/c/b/a/r…` |
 * | `io.buoyant.http.domainToPathPfx/<pfx>/<a.b.c>/r…` | `/<pfx>/c/b/a/r…` |
 * | `io.buoyant.http.subdomainOf/<domain>/<sub.domain>/r…` | `/<sub>/r…` |
 * | `io.buoyant.http.subdomainOfPfx/<domain>/<pfx>/<sub.domain>/r…` | `/<pfx>/<sub>/r…` |
 * | `io.buoyant.hostportPfx/<pfx>/<host>:<port>/r…` | `/<pfx>/<host>/<port>/r…` |
 * | `io.buoyant.porthostPfx/<pfx>/<host>:<port>/r…` | `/<pfx>/<port>/<host>/r…` |
 *
 * Host ports (`:8080`) are ignored by the domain rewrites. For hostport/porthost the segment must
 * split on `:` into exactly two parts and the port must be a DNS label (so `http` works; IPv6 does not).
 *
 * @since 0.1.0
 */
import type * as Name from "../Name.js"
import * as NameTree from "../NameTree.js"
import * as Path from "../Path.js"

type Rewrite = (labels: ReadonlyArray<string>) => ReadonlyArray<string> | undefined

const method = /^[A-Z]+$/
const hostRe = /^[A-Za-z0-9.:_-]+$/
const dnsLabel = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/

const stripPort = (host: string): string => {
  const i = host.indexOf(":")
  return i < 0 ? host : host.slice(0, i)
}

const domainToPath = (host: string): ReadonlyArray<string> | undefined => {
  const labels = stripPort(host).split(".")
  return labels.some((l) => l === "") ? undefined : labels.reverse()
}

const subdomain = (domain: string, host: string): string | undefined => {
  const h = stripPort(host)
  const suffix = "." + domain
  return h.endsWith(suffix) && h.length > suffix.length ? h.slice(0, h.length - suffix.length) : undefined
}

const splitHostPort = (segment: string): readonly [string, string] | undefined => {
  const parts = segment.split(":")
  if (parts.length !== 2) return undefined
  const [host, port] = parts as [string, string]
  return host !== "" && port.length <= 63 && dnsLabel.test(port) ? [host, port] : undefined
}

/**
 * The rewrites by namer name (the label after `/$/`).
 *
 * @since 0.1.0
 * @category lookup
 */
export const rewrites: Readonly<Record<string, Rewrite>> = {
  "io.buoyant.http.anyMethod": ([m, ...rest]) => m !== undefined && method.test(m) ? rest : undefined,
  "io.buoyant.http.anyMethodPfx": ([pfx, m, ...rest]) =>
    pfx !== undefined && m !== undefined && method.test(m) ? [pfx, ...rest] : undefined,
  "io.buoyant.http.anyHost": ([h, ...rest]) => h !== undefined && hostRe.test(h) ? rest : undefined,
  "io.buoyant.http.anyHostPfx": ([pfx, h, ...rest]) =>
    pfx !== undefined && h !== undefined && hostRe.test(h) ? [pfx, ...rest] : undefined,
  "io.buoyant.http.domainToPath": ([h, ...rest]) => {
    const d = h === undefined ? undefined : domainToPath(h)
    return d === undefined ? undefined : [...d, ...rest]
  },
  "io.buoyant.http.domainToPathPfx": ([pfx, h, ...rest]) => {
    const d = pfx === undefined || h === undefined ? undefined : domainToPath(h)
    return d === undefined ? undefined : [pfx!, ...d, ...rest]
  },
  "io.buoyant.http.subdomainOf": ([domain, h, ...rest]) => {
    const sub = domain === undefined || h === undefined ? undefined : subdomain(domain, h)
    return sub === undefined ? undefined : [sub, ...rest]
  },
  "io.buoyant.http.subdomainOfPfx": ([domain, pfx, h, ...rest]) => {
    const sub = domain === undefined || pfx === undefined || h === undefined ? undefined : subdomain(domain, h)
    return sub === undefined ? undefined : [pfx!, sub, ...rest]
  },
  "io.buoyant.hostportPfx": ([pfx, hp, ...rest]) => {
    const s = pfx === undefined || hp === undefined ? undefined : splitHostPort(hp)
    return s === undefined ? undefined : [pfx!, s[0], s[1], ...rest]
  },
  "io.buoyant.porthostPfx": ([pfx, hp, ...rest]) => {
    const s = pfx === undefined || hp === undefined ? undefined : splitHostPort(hp)
    return s === undefined ? undefined : [pfx!, s[1], s[0], ...rest]
  }
}

/**
 * Applies the rewrite named `name` to `labels`: a `Leaf` path, `Neg` when it does not match, or
 * `undefined` when there is no rewriting namer of that name.
 *
 * @since 0.1.0
 * @category lookup
 */
export const rewrite = (name: string, labels: ReadonlyArray<string>): NameTree.NameTree<Name.Name> | undefined => {
  const f = rewrites[name]
  if (f === undefined) return undefined
  const out = labels.length === 0 ? undefined : f(labels)
  return out === undefined ? NameTree.neg : NameTree.leaf(Path.fromLabels(out))
}
