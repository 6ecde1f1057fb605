/**
 * Who may use the admin server, and how. Three independent checks, applied in this order:
 *
 * 1. **Host** (DNS rebinding): the `Host` header must name the admin server itself — its bound
 *    `ip:port`, `localhost:port`, `127.0.0.1:port` or `[::1]:port` (every local address when it
 *    binds `0.0.0.0`/`::`), each also without the port — or one of `admin.allowedHosts`. Otherwise
 *    403. A web page whose name was rebound to 127.0.0.1 sends its own name, so it is refused.
 * 2. **Paths** (linkerd's `admin.security`): every path is in one category — `ui` (the dashboard,
 *    `/config.json`, `/admin/metrics.json`, `/delegator`, `/delegator.json`, the `/logging` page),
 *    `control` (`/admin/shutdown`, `/logging.json`: it changes log levels) or `diagnostics`
 *    (everything else: `/admin/server_info`, `/admin/registry.json`, namer state, ...). A path is served iff its category is enabled and no
 *    `pathBlacklist` regex matches it, or its category is disabled and a `pathWhitelist` regex
 *    matches it. Otherwise 404, as linkerd answers. Regexes match the whole path.
 * 3. **Cross-site requests** (CSRF): a request other than GET/HEAD/OPTIONS with `Sec-Fetch-Site:
 *    cross-site` or `same-site`, or with an `Origin` that is not the admin server's own host, is
 *    refused (403). A control request (shutdown) must be a POST with `Content-Type:
 *    application/json` or an `X-Weir-Admin` header: neither is something a page on another origin can
 *    send without a CORS preflight, which the admin server never grants. (`POST /logging.json` further
 *    insists on the JSON content type.)
 *
 * @since 0.1.0
 */
import * as Net from "node:net"
import * as Os from "node:os"

/**
 * The `admin.security` settings, with linkerd's defaults (everything enabled, no lists).
 *
 * @since 0.1.0
 * @category model
 */
export interface Settings {
  readonly uiEnabled?: boolean | undefined
  readonly controlEnabled?: boolean | undefined
  readonly diagnosticsEnabled?: boolean | undefined
  /** Regexes (whole path) that open a path of a disabled category. */
  readonly pathWhitelist?: ReadonlyArray<string> | undefined
  /** Regexes (whole path) that close a path of an enabled category. */
  readonly pathBlacklist?: ReadonlyArray<string> | undefined
}

/**
 * The category of an admin path, as linkerd's security filter sorts them.
 *
 * @since 0.1.0
 * @category model
 */
export type Category = "ui" | "control" | "diagnostics"

/**
 * The header that marks a control request as sent on purpose (any non-empty value).
 *
 * @since 0.1.0
 * @category constants
 */
export const tokenHeader = "x-weir-admin"

const uiPaths = [
  /^\/$/,
  /^\/index\.html$/,
  /^\/dashboard$/,
  /^\/files\/.*$/,
  /^\/config\.json$/,
  /^\/admin\/metrics\.json$/,
  /^\/admin\/metrics$/,
  /^\/delegator$/,
  /^\/delegator\.json$/,
  /^\/logging$/
]
const controlPaths = [/^\/admin\/shutdown$/, /^\/logging\.json$/]

/**
 * The category of `path`.
 *
 * @since 0.1.0
 * @category security
 */
export const categoryOf = (path: string): Category =>
  controlPaths.some((r) => r.test(path)) ? "control" : uiPaths.some((r) => r.test(path)) ? "ui" : "diagnostics"

const whole = (source: string): RegExp => new RegExp(`^(?:${source})$`)

/**
 * Compiles the settings into a path predicate: `true` when `path` may be served.
 *
 * @since 0.1.0
 * @category security
 */
export const pathFilter = (settings: Settings | undefined): (path: string) => boolean => {
  const enabled: Record<Category, boolean> = {
    ui: settings?.uiEnabled ?? true,
    control: settings?.controlEnabled ?? true,
    diagnostics: settings?.diagnosticsEnabled ?? true
  }
  const white = (settings?.pathWhitelist ?? []).map(whole)
  const black = (settings?.pathBlacklist ?? []).map(whole)
  return (path) => enabled[categoryOf(path)] ? !black.some((r) => r.test(path)) : white.some((r) => r.test(path))
}

const bracket = (ip: string): string => (Net.isIPv6(ip) ? `[${ip}]` : ip)

/**
 * The `Host` values the admin server bound at `ip:port` answers: its own address and the loopback
 * names (every local address when `ip` is a wildcard), with and without the port, lower case.
 *
 * @since 0.1.0
 * @category security
 */
export const ownHosts = (ip: string, port: number): ReadonlySet<string> => {
  const names = new Set<string>([bracket(ip), "localhost", "127.0.0.1", "[::1]"])
  if (ip === "0.0.0.0" || ip === "::") {
    for (const list of Object.values(Os.networkInterfaces())) {
      for (const i of list ?? []) names.add(bracket(i.address.replace(/%.*$/, "")))
    }
  }
  const out = new Set<string>()
  for (const n of names) {
    out.add(n.toLowerCase())
    out.add(`${n.toLowerCase()}:${port}`)
  }
  return out
}

const hostPart = (host: string): string => {
  if (host.startsWith("[")) {
    const end = host.indexOf("]")
    return end < 0 ? host : host.slice(0, end + 1)
  }
  const colon = host.lastIndexOf(":")
  return colon < 0 ? host : host.slice(0, colon)
}

/**
 * Whether a `Host` header value names the admin server: one of `own` (see `ownHosts`), or one of
 * `allowed` — an entry with a port matches exactly, an entry without one matches that host on any
 * port. Case-insensitive.
 *
 * @since 0.1.0
 * @category security
 */
export const hostAllowed = (
  host: string | undefined,
  own: ReadonlySet<string>,
  allowed: ReadonlyArray<string> = []
): boolean => {
  if (host === undefined || host === "") return false
  const h = host.trim().toLowerCase()
  if (own.has(h)) return true
  const name = hostPart(h)
  return allowed.some((a) => {
    const entry = a.trim().toLowerCase()
    return entry === h || (hostPart(entry) === entry && entry === name)
  })
}

const single = (v: string | Array<string> | undefined): string | undefined => Array.isArray(v) ? v[0] : v

/**
 * Why a request that may change state must be refused, or `undefined` when it may go on. Requests
 * other than GET/HEAD/OPTIONS must not come from another site (`Sec-Fetch-Site`) or carry an
 * `Origin` other than `http://<Host>`; a control request (`control`) must also be a POST with
 * `Content-Type: application/json` or an `X-Weir-Admin` header.
 *
 * @since 0.1.0
 * @category security
 */
export const refuseMutation = (
  method: string,
  headers: Readonly<Record<string, string | Array<string> | undefined>>,
  control: boolean
): string | undefined => {
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return undefined
  const site = single(headers["sec-fetch-site"])?.toLowerCase()
  if (site === "cross-site" || site === "same-site") return `cross-site request refused (Sec-Fetch-Site: ${site})`
  const origin = single(headers["origin"])
  if (origin !== undefined) {
    const host = single(headers["host"])?.toLowerCase()
    let originHost: string | undefined
    try {
      const url = new URL(origin)
      originHost = url.protocol === "http:" ? url.host.toLowerCase() : undefined
    } catch {
      originHost = undefined
    }
    const own = host === undefined ? undefined : (() => {
      try {
        return new URL(`http://${host}`).host
      } catch {
        return undefined
      }
    })()
    if (originHost === undefined || own === undefined || originHost !== own) {
      return `cross-origin request refused (Origin: ${origin})`
    }
  }
  if (!control) return undefined
  const contentType = (single(headers["content-type"]) ?? "").split(";")[0]!.trim().toLowerCase()
  const token = single(headers[tokenHeader])
  if (contentType !== "application/json" && (token === undefined || token === "")) {
    return `control requests need Content-Type: application/json or an X-Weir-Admin header`
  }
  return undefined
}
