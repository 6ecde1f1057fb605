/**
 * Identifiers turn an HTTP request into the logical name it is routed by (`/svc/books`). A router
 * has a list of them, tried in order; the first that identifies the request wins, and when none
 * does the request fails with 400 `Unknown destination` (linkerd's `UnknownDst`).
 *
 * The kinds, as in linkerd 1.x (every name starts with the router's `dstPrefix`, `/svc` by default):
 *
 * ```yaml
 * identifier:
 *   - kind: io.l5d.header.token   # default; /svc/<Host>, the header value as one label
 *     header: Host
 *   - kind: io.l5d.methodAndHost  # /svc/1.1/GET/<host>[/uri] or /svc/1.0/GET[/uri]
 *     httpUriInDst: false
 *   - kind: io.l5d.path           # /svc/<first N path segments>; consume drops them from the URI
 *     segments: 1
 *     consume: false
 *   - kind: io.l5d.header         # /svc ++ the header value parsed as a path
 *     header: l5d-name
 *   - kind: io.l5d.static         # always /svc ++ path
 *     path: /books
 * ```
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Path from "../naming/Path.js"
import type { HttpRequest } from "./transport/Message.js"
import { header as headerOf } from "./transport/Message.js"

/**
 * The outcome of identification: a name and the request to forward (an identifier may rewrite it,
 * as `io.l5d.path` with `consume` does), or the reason the request was not identified.
 *
 * @since 0.1.0
 * @category model
 */
export type Identification =
  | {
    readonly _tag: "Identified"
    readonly name: Path.Path
    readonly request: HttpRequest
    /** `Path.show(name)`, when the identifier already has it. */
    readonly shown?: string | undefined
  }
  | { readonly _tag: "Unidentified"; readonly reason: string }

/**
 * Maps a request to a name. Pure and synchronous: it runs on every request.
 *
 * @since 0.1.0
 * @category model
 */
export type Identifier = (request: HttpRequest) => Identification

/**
 * The decoded configuration of one identifier, by `kind`.
 *
 * @since 0.1.0
 * @category model
 */
export type Config =
  | { readonly kind: "io.l5d.header.token"; readonly header?: string | undefined }
  | { readonly kind: "io.l5d.methodAndHost"; readonly httpUriInDst?: boolean | undefined }
  | { readonly kind: "io.l5d.path"; readonly segments?: number | undefined; readonly consume?: boolean | undefined }
  | { readonly kind: "io.l5d.header"; readonly header?: string | undefined }
  | { readonly kind: "io.l5d.static"; readonly path: Path.Path }

/**
 * The identifier used when a router configures none: `io.l5d.header.token` on `Host`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultConfig: Config = { kind: "io.l5d.header.token", header: "Host" }

const identified = (name: Path.Path, request: HttpRequest): Identification => ({ _tag: "Identified", name, request })
const unidentified = (reason: string): Identification => ({ _tag: "Unidentified", reason })

const splitPath = (url: string): { readonly segments: Array<string>; readonly query: string } => {
  const q = url.indexOf("?")
  const pathPart = q < 0 ? url : url.slice(0, q)
  const query = q < 0 ? "" : url.slice(q)
  return { segments: pathPart.split("/").filter((s) => s !== ""), query }
}

/**
 * `io.l5d.header.token`: the value of `header` (default `Host`) as one label under `prefix`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const headerToken = (prefix: Path.Path, header = "Host"): Identifier => {
  const name = header.toLowerCase()
  // the name (and its shown form) of each recent header value, so a request for a known host builds
  // no path and no string (the same string each time also lets later maps skip hashing it); bounded,
  // emptied when full
  const names = new Map<string, { readonly path: Path.Path; readonly shown: string }>()
  return (request) => {
    const value = headerOf(request.headers, name)
    if (value === undefined || value === "") return unidentified(`${header} header is absent`)
    if (value.length > maxMemoLength) return identified(Path.fromLabels([...prefix.labels, value]), request)
    let known = names.get(value)
    if (known === undefined) {
      if (names.size >= maxMemo) names.clear()
      const path = Path.fromLabels([...prefix.labels, value])
      known = { path, shown: Path.show(path) }
      names.set(value, known)
    }
    return { _tag: "Identified", name: known.path, request, shown: known.shown }
  }
}

/** Most header values `headerToken` remembers the name of, and the longest it remembers. */
const maxMemo = 1024
const maxMemoLength = 256

/**
 * `io.l5d.methodAndHost`: `/1.1/<METHOD>/<host lower-cased>` (HTTP/1.1) or `/1.0/<METHOD>`
 * (HTTP/1.0) under `prefix`, followed by the URI path segments when `httpUriInDst`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const methodAndHost = (prefix: Path.Path, httpUriInDst = false): Identifier => (request) => {
  const uri = httpUriInDst ? splitPath(request.url).segments : []
  if (request.version === "1.0") {
    return identified(Path.fromLabels([...prefix.labels, "1.0", request.method, ...uri]), request)
  }
  const host = headerOf(request.headers, "host")
  if (host === undefined || host === "") return unidentified("HTTP/1.1 request missing hostname")
  return identified(Path.fromLabels([...prefix.labels, "1.1", request.method, host.toLowerCase(), ...uri]), request)
}

/**
 * `io.l5d.path`: the first `segments` (default `1`) URI path segments under `prefix`; with
 * `consume` (default `false`) they are removed from the forwarded URI, query and trailing slash kept.
 *
 * @since 0.1.0
 * @category constructors
 */
export const path = (prefix: Path.Path, segments = 1, consume = false): Identifier => (request) => {
  const { query, segments: all } = splitPath(request.url)
  if (all.length < segments) return unidentified("not enough segments in path")
  const name = Path.fromLabels([...prefix.labels, ...all.slice(0, segments)])
  if (!consume) return identified(name, request)
  const q = request.url.indexOf("?")
  const pathPart = q < 0 ? request.url : request.url.slice(0, q)
  const rest = all.slice(segments)
  const trailing = pathPart.endsWith("/") && rest.length > 0 ? "/" : ""
  const url = "/" + rest.join("/") + trailing + query
  return identified(name, { ...request, url })
}

/**
 * `io.l5d.header`: the value of `header` (default `l5d-name`), parsed as a path, under `prefix`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const header = (prefix: Path.Path, header = "l5d-name"): Identifier => {
  const name = header.toLowerCase()
  return (request) => {
    const value = headerOf(request.headers, name)
    if (value === undefined || value === "") return unidentified(`${header} header is absent`)
    const parsed = Path.parse(value)
    if (Result.isFailure(parsed)) return unidentified(`${header} header is not a path: ${parsed.failure.message}`)
    return identified(Path.concat(prefix, parsed.success), request)
  }
}

/**
 * `io.l5d.static`: always `prefix ++ path`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const constant = (prefix: Path.Path, path: Path.Path): Identifier => {
  const name = Path.concat(prefix, path)
  return (request) => identified(name, request)
}

/**
 * The identifier for a decoded config, under `prefix` (a router's `dstPrefix`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromConfig = (config: Config, prefix: Path.Path): Identifier => {
  switch (config.kind) {
    case "io.l5d.header.token":
      return headerToken(prefix, config.header)
    case "io.l5d.methodAndHost":
      return methodAndHost(prefix, config.httpUriInDst)
    case "io.l5d.path":
      return path(prefix, config.segments, config.consume)
    case "io.l5d.header":
      return header(prefix, config.header)
    case "io.l5d.static":
      return constant(prefix, config.path)
  }
}

/**
 * Tries identifiers in order; the first `Identified` wins. When all fail, the reasons are joined
 * with `; `. An empty list identifies nothing.
 *
 * @since 0.1.0
 * @category combinators
 */
export const firstOf = (identifiers: ReadonlyArray<Identifier>): Identifier => {
  if (identifiers.length === 1) return identifiers[0]!
  return (request) => {
    const reasons: Array<string> = []
    for (const identify of identifiers) {
      const r = identify(request)
      if (r._tag === "Identified") return r
      reasons.push(r.reason)
    }
    return unidentified(reasons.length === 0 ? "no identifier configured" : reasons.join("; "))
  }
}

/**
 * The identifier for a router's config list (the default when empty or absent), under `prefix`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromConfigs = (configs: ReadonlyArray<Config> | undefined, prefix: Path.Path): Identifier =>
  firstOf((configs === undefined || configs.length === 0 ? [defaultConfig] : configs).map((c) => fromConfig(c, prefix)))
