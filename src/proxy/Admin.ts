/**
 * The admin server, as linkerd 1.x's (default `127.0.0.1:9990`): `/admin/ping`,
 * `/admin/metrics.json`, `/admin/metrics/prometheus`, `/config.json`, `/admin/registry.json`,
 * `/admin/server_info`, `/delegator.json` (GET and POST), `/bound-names.json`,
 * `/namer_state/<prefix>.json`, `/logging.json` (GET, and POST to change a level),
 * `/client_state.json`, `POST /admin/shutdown`, an endpoint list at `/admin`, and the pages an
 * operator uses: the dashboard at `/`, the dtab playground at `/delegator`, the log levels at
 * `/logging` and the recent requests at `/requests` and `/requests.json` (kept by the
 * `io.l5d.recentRequests` telemeter).
 *
 * It is served by `node:http` directly: it knows nothing of the config file or of naming; the
 * proxy hands it the metric exporter, the config JSON, a delegation function and a shutdown hook.
 * Every request passes `AdminSecurity`'s checks first: its own `Host` only (else 403), the
 * `admin.security` path lists (else 404), and no cross-site state changes (else 403).
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import * as Https from "node:https"
import type { AddressInfo } from "node:net"
import type * as Tls from "../http/transport/Tls.js"
import * as Metrics from "../telemetry/Metrics.js"
import * as RecentRequests from "../telemetry/RecentRequests.js"
import type * as Telemeter from "../telemetry/Telemeter.js"
import * as AdminSecurity from "./AdminSecurity.js"
import { dashboardHtml } from "./Dashboard.js"
import * as DelegatorPage from "./DelegatorPage.js"
import type * as Logging from "./Logging.js"
import * as LoggingPage from "./LoggingPage.js"
import * as RequestsPage from "./RequestsPage.js"
import * as ServerInfo from "./ServerInfo.js"

/**
 * A delegation request as `/delegator.json` receives it (GET query or POST JSON body). `namespace`
 * is a router label; `dtab` and `path` are unparsed text.
 *
 * @since 0.1.0
 * @category model
 */
export interface DelegateRequest {
  readonly namespace: string | undefined
  readonly dtab: string
  readonly path: string
}

/**
 * An admin HTTP answer.
 *
 * @since 0.1.0
 * @category model
 */
export interface Reply {
  readonly status: number
  readonly contentType: string
  readonly body: string
  readonly headers?: Readonly<Record<string, string>>
}

/**
 * A configured namer as the admin server shows it.
 *
 * @since 0.1.0
 * @category model
 */
export interface NamerInfo {
  /** The configured prefix, e.g. `/io.l5d.fs`; its state is at `/namer_state/io.l5d.fs.json`. */
  readonly prefix: string
  /** The concrete ids the namer knows (`/#/io.l5d.fs/users`); absent when it cannot enumerate. */
  readonly boundNames?: Effect.Effect<ReadonlyArray<string>> | undefined
  /** The namer's JSON-safe internal state; absent when it has none to show. */
  readonly state?: Effect.Effect<unknown> | undefined
}

/**
 * What the admin server serves.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** Address to bind. Defaults to `127.0.0.1`. */
  readonly ip?: string
  /** Port to bind; `0` picks a free one. Defaults to `9990`. */
  readonly port?: number
  /** The metrics registry export. */
  readonly exporter: Metrics.Exporter
  /** The parsed config, already JSON-safe (secrets removed), for `/config.json`. */
  readonly config?: unknown
  /**
   * Endpoints the configured telemeters serve (`io.l5d.prometheus` at its `path`, `io.l5d.influxdb`
   * at `/admin/metrics/influxdb`); they take precedence over `/admin/metrics/prometheus`'s default
   * (no prefix). Defaults to none.
   */
  readonly telemeters?: ReadonlyArray<Telemeter.Endpoint> | undefined
  /** Serve HTTPS with these files (`admin.tls`); plain HTTP when absent. */
  readonly tls?: Tls.ServerTls | undefined
  /** Answers `/delegator.json`; absent → 501. */
  readonly delegate?: (request: DelegateRequest) => Effect.Effect<Reply>
  /** Called by `POST /admin/shutdown` with the requested grace (or `undefined` for the default). */
  readonly shutdown?: (grace: Duration.Duration | undefined) => void
  /** Router labels, shown by the dashboard. */
  readonly routers?: ReadonlyArray<string>
  /** The configured namers, for `/bound-names.json` and `/namer_state/<prefix>.json`. Defaults to none. */
  readonly namers?: ReadonlyArray<NamerInfo>
  /** `admin.security`: which paths are served. Defaults to all. */
  readonly security?: AdminSecurity.Settings | undefined
  /** More `Host` values to answer besides the server's own addresses (`name:port`, or `name` for any port). */
  readonly allowedHosts?: ReadonlyArray<string> | undefined
  /** The runtime log levels, for `/logging` and `/logging.json`; absent → those paths answer 404. */
  readonly logging?: Logging.Logging | undefined
  /** When the process started (epoch ms), for `/admin/server_info`. Defaults to the process's start. */
  readonly startedAt?: number | undefined
  /** The requests `io.l5d.recentRequests` keeps, for `/requests` and `/requests.json`; absent → 404. */
  readonly recentRequests?: RecentRequests.RecentRequests | undefined
  /** Answers `/client_state.json` (of one router's clients when a label is given); absent → 404. */
  readonly clientState?: ((router: string | undefined) => unknown) | undefined
  /**
   * Brings the exporter's snapshot up to date before a metrics endpoint answers (`/admin/metrics.json`,
   * `/admin/metrics/prometheus`, the telemeters' endpoints): with `workers: N`, it gathers the other
   * workers' metrics. Defaults to nothing (the snapshot is always current).
   */
  readonly refreshMetrics?: (() => Promise<void>) | undefined
}

/**
 * A running admin server.
 *
 * @since 0.1.0
 * @category model
 */
export interface Admin {
  readonly ip: string
  readonly port: number
}

/**
 * The admin server could not bind its address.
 *
 * @since 0.1.0
 * @category errors
 */
export class AdminError extends Data.TaggedError("AdminError")<{ readonly message: string; readonly cause: unknown }> {}

const endpoints = [
  "/admin",
  "/admin/ping",
  "/admin/metrics.json",
  "/admin/metrics/prometheus",
  "/admin/registry.json",
  "/admin/server_info",
  "/admin/shutdown",
  "/bound-names.json",
  "/config.json",
  "/delegator",
  "/delegator.json"
]
const loggingEndpoints = ["/logging", "/logging.json"]

const text = (status: number, body: string, contentType = "text/plain; charset=utf-8"): Reply => ({
  status,
  contentType,
  body
})

const json = (status: number, value: unknown, pretty = false): Reply =>
  text(status, JSON.stringify(value, null, pretty ? 2 : undefined), "application/json; charset=utf-8")

/**
 * Parses a grace period as `/admin/shutdown?grace=` accepts it: milliseconds as a bare number, or
 * a number with a unit (`500ms`, `5s`, `1m`, `5.seconds`, `100.milliseconds`).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseGrace = (s: string): Duration.Duration | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\.?\s*(ms|milliseconds?|s|seconds?|m|minutes?)?\s*$/.exec(s)
  if (m === null) return undefined
  const n = Number(m[1])
  const unit = m[2] ?? "ms"
  if (unit.startsWith("ms") || unit.startsWith("milli")) return Duration.millis(n)
  if (unit === "s" || unit.startsWith("sec")) return Duration.seconds(n)
  return Duration.minutes(n)
}

const filters = new WeakMap<Options, (path: string) => boolean>()

const pathFilterOf = (options: Options): (path: string) => boolean => {
  let filter = filters.get(options)
  if (filter === undefined) {
    filter = AdminSecurity.pathFilter(options.security)
    filters.set(options, filter)
  }
  return filter
}

const readBody = (req: Http.IncomingMessage, limit: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (c: Buffer) => {
      size += c.length
      if (size > limit) {
        reject(new Error("request body too large"))
        req.destroy()
      } else chunks.push(c)
    })
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

/**
 * Answers one admin request, after the path (`admin.security`, else 404) and cross-site checks
 * (else 403); `make` checks the `Host` header before. Exposed for tests; `make` serves it.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handle = async (
  options: Options,
  method: string,
  rawUrl: string,
  headers: Http.IncomingHttpHeaders,
  body: () => Promise<string>
): Promise<Reply> => {
  let url: URL
  try {
    url = new URL(rawUrl, "http://admin")
  } catch {
    return text(400, "Bad Request\n")
  }
  const path = url.pathname
  const q = url.searchParams
  const allowed = pathFilterOf(options)
  if (!allowed(path)) return text(404, "Not Found\n")
  const refused = AdminSecurity.refuseMutation(method, headers, AdminSecurity.categoryOf(path) === "control")
  if (refused !== undefined) return text(403, `Forbidden: ${refused}\n`)
  if (
    options.refreshMetrics !== undefined &&
    (path === "/admin/metrics.json" || path === "/admin/metrics/prometheus" ||
      options.telemeters?.some((e) => e.path === path) === true)
  ) await options.refreshMetrics()
  switch (path) {
    case "/admin/ping":
      return text(200, "pong")
    case "/admin":
    case "/admin/":
    case "/admin/index.txt":
      return text(
        200,
        [
          ...endpoints,
          ...(options.logging === undefined ? [] : loggingEndpoints),
          ...(options.clientState === undefined ? [] : ["/client_state.json"]),
          ...(options.recentRequests === undefined ? [] : ["/requests", "/requests.json"]),
          ...(options.namers ?? []).filter((n) => n.state !== undefined).map((n) => namerStateUrl(n.prefix))
        ]
          .filter(allowed)
          .join("\n") + "\n"
      )
    case "/admin/metrics.json": {
      const snap = options.exporter.snapshot()
      const pretty = q.get("pretty") === "1" || q.get("pretty") === "true"
      const query = q.get("q")
      if (q.get("tree") === "1" || q.get("tree") === "true" || query !== null) {
        const tree = Metrics.toTree(snap)
        if (query === null) return json(200, tree, pretty)
        const sub = Metrics.subtree(tree, query)
        return sub === undefined ? json(404, { error: `No such subtree: ${query}` }) : json(200, sub, pretty)
      }
      return json(200, Metrics.toJson(snap), pretty)
    }
    case "/admin/shutdown": {
      if (method !== "POST") return { ...text(405, "Method Not Allowed\n"), headers: { allow: "POST" } }
      const graceParam = q.get("grace")
      const grace = graceParam === null ? undefined : parseGrace(graceParam)
      if (graceParam !== null && grace === undefined) return text(400, `Invalid grace: ${graceParam}\n`)
      if (options.shutdown === undefined) return text(501, "shutdown is not available\n")
      const shutdown = options.shutdown
      setImmediate(() => shutdown(grace))
      return text(200, "quitting\n")
    }
    case "/config.json":
      return json(200, options.config ?? {}, q.get("pretty") === "1")
    case "/admin/registry.json":
      return json(200, ServerInfo.registry(options.config), q.get("pretty") !== "0")
    case "/admin/server_info":
      return json(200, ServerInfo.of(options.startedAt ?? Math.round(performance.timeOrigin), Date.now()), true)
    case "/delegator":
      return text(200, DelegatorPage.delegatorHtml(DelegatorPage.routersOf(options.config)), "text/html; charset=utf-8")
    case "/logging":
      if (options.logging === undefined) break
      return text(
        200,
        LoggingPage.loggingHtml(options.logging, allowed("/logging.json")),
        "text/html; charset=utf-8"
      )
    case "/logging.json":
      if (options.logging === undefined) break
      return LoggingPage.json(options.logging, method, headers["content-type"], body, q.get("pretty") === "1")
    case "/delegator.json":
      return delegator(options, method, q, headers, body)
    case "/requests":
      return options.recentRequests === undefined
        ? text(404, RequestsPage.unconfiguredHtml(), "text/html; charset=utf-8")
        : text(200, RequestsPage.requestsHtml(options.recentRequests), "text/html; charset=utf-8")
    case "/requests.json":
      if (options.recentRequests === undefined) break
      return json(200, RecentRequests.toJson(options.recentRequests), q.get("pretty") === "1")
    case "/client_state.json":
      if (options.clientState === undefined) break
      return json(200, options.clientState(q.get("router") ?? undefined), q.get("pretty") === "1")
    case "/bound-names.json":
      return boundNames(options, q.get("pretty") === "1")
    case "/":
    case "/index.html":
    case "/dashboard":
      return text(
        200,
        dashboardHtml(options.routers ?? [], {
          shutdown: allowed("/admin/shutdown") && options.shutdown !== undefined
        }),
        "text/html; charset=utf-8"
      )
  }
  if (path.startsWith("/namer_state/") && path.endsWith(".json")) {
    return namerState(options, path, q.get("pretty") === "1")
  }
  const telemeter = options.telemeters?.find((e) => e.path === path)
  if (telemeter !== undefined) {
    const host = headers["host"]
    return text(200, telemeter.render(Array.isArray(host) ? host[0] : host), telemeter.contentType)
  }
  if (path === "/admin/metrics/prometheus") {
    return text(200, Metrics.toPrometheus(options.exporter.snapshot()), "text/plain; version=0.0.4; charset=utf-8")
  }
  return text(404, "Not Found\n")
}

/**
 * Where a namer's state is served: `/namer_state/<prefix without its leading slash>.json`, e.g.
 * `/namer_state/io.l5d.fs.json` (linkerd's form; a prefix with several labels keeps its slashes).
 *
 * @since 0.1.0
 * @category handlers
 */
export const namerStateUrl = (prefix: string): string => `/namer_state/${prefix.replace(/^\/+/, "")}.json`

const boundNames = async (options: Options, pretty: boolean): Promise<Reply> => {
  const lists = await Promise.all(
    (options.namers ?? []).map((n) => n.boundNames === undefined ? [] : Effect.runPromise(n.boundNames))
  )
  return json(200, Array.from(new Set(lists.flat())).sort(), pretty)
}

const namerState = async (options: Options, path: string, pretty: boolean): Promise<Reply> => {
  let name: string
  try {
    name = decodeURIComponent(path.slice("/namer_state/".length, -".json".length))
  } catch {
    return json(400, { error: `Invalid namer prefix in ${path}` })
  }
  const prefix = "/" + name.replace(/^\/+/, "")
  const namer = (options.namers ?? []).find((n) => n.prefix === prefix)
  if (namer === undefined) return json(404, { error: `No namer with prefix ${prefix}` })
  if (namer.state === undefined) return json(404, { error: `The namer at ${prefix} has no state to show` })
  return json(200, await Effect.runPromise(namer.state), pretty)
}

const delegator = async (
  options: Options,
  method: string,
  q: URLSearchParams,
  headers: Http.IncomingHttpHeaders,
  body: () => Promise<string>
): Promise<Reply> => {
  const request = await DelegatorPage.readRequest(method, q, headers["content-type"], body)
  if ("status" in request) return request
  if (options.delegate === undefined) return text(501, "delegation is not available\n")
  return Effect.runPromise(options.delegate(request))
}

/**
 * Starts the admin server on `ip:port` (defaults `127.0.0.1:9990`) for the lifetime of the scope.
 * Fails with `AdminError` when the address cannot be bound.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Admin, AdminError, Scope.Scope> => {
  let unsubscribe = () => {}
  return Effect.acquireRelease(
    Effect.callback<Http.Server, AdminError>((resume) => {
      let own: ReadonlySet<string> = new Set()
      const handler = (req: Http.IncomingMessage, res: Http.ServerResponse) => {
        if (!AdminSecurity.hostAllowed(req.headers.host, own, options.allowedHosts)) {
          res.writeHead(403, { "content-type": "text/plain; charset=utf-8" })
          res.end(`Forbidden: this admin server does not answer for Host ${JSON.stringify(req.headers.host ?? "")}\n`)
          return
        }
        handle(options, req.method ?? "GET", req.url ?? "/", req.headers, () => readBody(req, 1 << 20)).then(
          (reply) => {
            res.writeHead(reply.status, { ...reply.headers, "content-type": reply.contentType })
            res.end(req.method === "HEAD" ? undefined : reply.body)
          },
          (e: unknown) => {
            res.writeHead(500, { "content-type": "text/plain" })
            res.end(`${e instanceof Error ? e.message : String(e)}\n`)
          }
        )
      }
      const tls = options.tls
      const server = tls === undefined ? Http.createServer(handler) : Https.createServer(tls.options, handler)
      if (tls !== undefined) {
        server.on("tlsClientError", () => {})
        unsubscribe = tls.onReload((o) => (server as Https.Server).setSecureContext(o))
      }
      const ip = options.ip ?? "127.0.0.1"
      const port = options.port ?? 9990
      const onError = (cause: unknown) =>
        resume(Effect.fail(new AdminError({ message: `admin server cannot listen on ${ip}:${port}: ${cause}`, cause })))
      server.once("error", onError)
      server.listen({ host: ip, port }, () => {
        server.off("error", onError)
        const bound = server.address() as AddressInfo
        own = AdminSecurity.ownHosts(bound.address, bound.port)
        resume(Effect.succeed(server))
      })
    }),
    (server) =>
      Effect.callback<void>((resume) => {
        unsubscribe()
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
  ).pipe(
    Effect.map((server) => {
      const address = server.address() as AddressInfo
      return { ip: address.address, port: address.port }
    })
  )
}
