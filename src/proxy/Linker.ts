/**
 * Turns a decoded config into a running proxy: the namers, one interpreter, one HTTP router per
 * `routers[]` entry (`http/Router.ts`), the metrics registry and the admin server, all in one
 * `Scope`. The config is checked first (`Validate.validate`: conflicts between entries and this
 * machine's problems; the rest is found when it is decoded), so a config that cannot run starts
 * nothing; a failure while starting (a port in use) closes whatever had started.
 *
 * ```ts
 * Effect.scoped(Effect.gen(function*() {
 *   const linker = yield* Linker.make(config)
 *   const grace = yield* linker.shutdownRequested   // POST /admin/shutdown
 *   yield* linker.drain(grace)
 * }))
 * ```
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Dns from "node:dns"
import * as Net from "node:net"
import * as Os from "node:os"
import { key as addressKey } from "../Address.js"
import * as ServersetsAnnouncerConfig from "../config/announcer/Serversets.js"
import * as ClientConfig from "../config/Client.js"
import * as H2Settings from "../config/H2Settings.js"
import * as Identifiers from "../config/identifier/index.js"
import * as Interpreters from "../config/interpreter/index.js"
import * as Namers from "../config/namer/index.js"
import * as SocketOptions from "../config/SocketOptions.js"
import * as Telemeters from "../config/telemeter/index.js"
import * as TlsConfig from "../config/Tls.js"
import * as TransformerConfig from "../config/transformer/index.js"
import * as Failure from "../Failure.js"
import * as AccessLog from "../http/AccessLog.js"
import * as DstClient from "../http/DstClient.js"
import * as Forwarded from "../http/Forwarded.js"
import * as H2Upstream from "../http/h2/Upstream.js"
import type * as PathStack from "../http/PathStack.js"
import * as Router from "../http/Router.js"
import * as Tls from "../http/transport/Tls.js"
import * as Upstream from "../http/transport/Upstream.js"
import * as Interpreter from "../naming/Interpreter.js"
import type * as Namer from "../naming/Namer.js"
import * as Path from "../naming/Path.js"
import * as PathMatcher from "../naming/PathMatcher.js"
import * as Transformer from "../naming/transformers/Transformer.js"
import * as Stats from "../Stats.js"
import * as Metrics from "../telemetry/Metrics.js"
import * as ProcessMetrics from "../telemetry/ProcessMetrics.js"
import * as RecentRequests from "../telemetry/RecentRequests.js"
import type * as Telemeter from "../telemetry/Telemeter.js"
import * as Tracing from "../telemetry/Tracing.js"
import * as Admin from "./Admin.js"
import * as ClientState from "./ClientState.js"
import * as Config from "./Config.js"
import * as ConfigJson from "./ConfigJson.js"
import * as Delegator from "./Delegator.js"
import * as Logging from "./Logging.js"
import * as Validate from "./Validate.js"

/**
 * The proxy could not start: the config has problems (each with its location), or starting failed
 * (a port in use).
 *
 * @since 0.1.0
 * @category errors
 */
export class LinkerError extends Data.TaggedError("LinkerError")<{
  readonly problems: ReadonlyArray<Config.Problem>
}> {
  override get message(): string {
    return ClientConfig.formatProblems(this.problems)
  }
}

/**
 * A running proxy.
 *
 * @since 0.1.0
 * @category model
 */
export interface Linker {
  readonly config: Config.Config
  readonly registry: Stats.InMemory
  readonly exporter: Metrics.Exporter
  readonly admin: Admin.Admin
  readonly routers: ReadonlyArray<Router.Router>
  readonly interpreter: Interpreter.NameInterpreter
  /** Completes when a shutdown is requested (`POST /admin/shutdown` or `requestShutdown`), with the grace. */
  readonly shutdownRequested: Effect.Effect<Duration.Duration>
  /** Requests a shutdown; the grace defaults to `admin.shutdownGraceMs`. */
  readonly requestShutdown: (grace?: Duration.Duration) => Effect.Effect<void>
  /**
   * Reads every TLS certificate, key and CA file again (`SIGHUP`): connections made afterwards use
   * them. A file that cannot be used keeps its predecessor and is reported (by location, never by
   * content); the others are reloaded.
   */
  readonly reloadTls: Effect.Effect<void, LinkerError>
  /** Withdraws the routers' announcements, stops accepting on every router and waits up to `grace` for requests in flight. */
  readonly drain: (grace: Duration.Duration) => Effect.Effect<void>
}

/**
 * Options of `make` that are not in the config file.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** The registry metrics are recorded into. Defaults to a fresh one. */
  readonly registry?: Stats.InMemory | undefined
  /** How often histograms are summarized and reset. Defaults to one minute (linkerd's). */
  readonly histogramWindow?: Duration.Input | undefined
  /** Builds the namer of a config entry; defaults to the namer registry's (`Namers.build`). For tests. */
  readonly buildNamer?: ((namer: Config.Namer) => Namers.Build) | undefined
  /** The runtime log levels (`/logging`); defaults to fresh ones with `root` at `INFO`. */
  readonly logging?: Logging.Logging | undefined
  /**
   * How the metrics of this process join those of the other workers (`workers: N`, `Workers.ts`):
   * the exporter the admin server and the telemeters read, made from this process's own, and what
   * brings it up to date before a metrics endpoint answers. Defaults to this process's own metrics.
   */
  readonly metrics?: {
    readonly exporter: (local: Metrics.Exporter) => Metrics.Exporter
    readonly refresh: () => Promise<void>
  } | undefined
}

/**
 * Folds every per-prefix config matching `name`, in order (later keys override earlier ones).
 *
 * @since 0.1.0
 * @category params
 */
export const paramsFor = <P extends object>(
  configs: ReadonlyArray<Config.PrefixConfig<P>>,
  name: Path.Path
): Partial<P> => {
  let out: Partial<P> = {}
  for (const c of configs) if (PathMatcher.matches(c.prefix, name)) out = { ...out, ...c.params }
  return out
}

/**
 * A client section's parameters for a bound id, as the data path's core values (through
 * `config/Client.ts`'s interpretation); keys no matching config sets take linkerd's defaults (p2c,
 * `io.l5d.consecutiveFailures` with 5 failures, the default budget, no attempt timeout).
 *
 * @since 0.1.0
 * @category params
 */
export const clientParams = (
  configs: ReadonlyArray<Config.PrefixConfig<Config.ClientParams>>,
  id: Path.Path,
  tls?: ReadonlyArray<Tls.ClientTls | undefined>
): DstClient.Params => {
  const p = paramsFor(configs, id)
  const base = ClientConfig.clientParamsOf(p)
  const connect = tls === undefined ? undefined : clientTls(configs, id, tls)
  // the HTTP/2 keys ride along with the pool settings (read by the h2 upstream, ignored by HTTP/1.1's)
  return { ...base, pool: { ...base.pool, ...H2Settings.pick(p), ...(connect !== undefined ? { tls: connect } : {}) } }
}

/**
 * How a client connects with TLS to the endpoints of bound id `id`: the `tls` of the last client
 * config matching `id` that has one (`loaded[i]`: config `i`'s files as loaded), its `commonName`
 * with the `{var}`s of that config's prefix substituted; `undefined` for plaintext (also when that
 * `tls` says `enabled: false`).
 *
 * @since 0.1.0
 * @category params
 */
export const clientTls = (
  configs: ReadonlyArray<Config.PrefixConfig<Config.ClientParams>>,
  id: Path.Path,
  loaded: ReadonlyArray<Tls.ClientTls | undefined>
): Tls.Connect | undefined => {
  let out: Tls.Connect | undefined
  configs.forEach((c, i) => {
    const files = loaded[i]
    if (c.params.tls === undefined) return
    const vars = PathMatcher.match(c.prefix, id)
    if (vars === undefined) return
    // `enabled: false`: plaintext for the names this config matches, whatever an earlier one said
    if (!c.params.tls.enabled || files === undefined) {
      out = undefined
      return
    }
    const name = c.params.tls.commonName
    out = files.connect(name === undefined ? undefined : Tls.substitute(name, vars))
  })
  return out
}

/**
 * The TLS files of a router as loaded: per `servers[]` entry and per client config (by index).
 *
 * @since 0.1.0
 * @category params
 */
export interface RouterTls {
  readonly servers: ReadonlyArray<Tls.ServerTls | undefined>
  readonly client: ReadonlyArray<Tls.ClientTls | undefined>
}

/**
 * A service section's parameters for a logical name, as the data path's core values; keys no
 * matching config sets take linkerd's defaults (no total timeout, the default retry budget without
 * backoff, `io.l5d.http.nonRetryable5XX`).
 *
 * @since 0.1.0
 * @category params
 */
export const serviceParams = (
  configs: ReadonlyArray<Config.PrefixConfig<Config.ServiceParams>>,
  name: Path.Path
): PathStack.Params => ClientConfig.serviceParamsOf(paramsFor(configs, name))

/**
 * A router entry's options for `http/Router.make`; `accessLog` is the writer opened for its
 * `httpAccessLog`, if any; `tls` its TLS files as loaded (`loadTls`); `recorder` keeps a sample of
 * its requests (the `io.l5d.recentRequests` telemeters); `identify` its identifiers as built
 * (`config/identifier`'s `build`, which starts what they watch; without it, the router's default
 * identifier).
 *
 * @since 0.1.0
 * @category params
 */
export const routerOptions = (
  router: Config.RouterConfig,
  admin: Config.Admin,
  interpreter: Interpreter.NameInterpreter,
  stats: Stats.StatsReceiver,
  accessLog?: AccessLog.AccessLog | undefined,
  tls?: RouterTls | undefined,
  recorder?: RecentRequests.Recorder | undefined,
  identify?: Router.Options["identify"]
): Router.Options => ({
  label: router.label,
  protocol: router.protocol === "h2" ? "h2" : "http",
  servers: router.servers.map((s, i) => ({
    ...H2Settings.pick(s),
    ip: s.ip,
    ...(tls?.servers[i] !== undefined ? { tls: tls.servers[i] } : {}),
    port: s.port,
    clearContext: s.clearContext,
    ...(s.maxConcurrentRequests !== undefined ? { maxConcurrentRequests: s.maxConcurrentRequests } : {}),
    ...(s.timestampHeader !== undefined ? { timestampHeader: s.timestampHeader } : {}),
    ...(s.socketOptions !== undefined ? { socket: SocketOptions.make(s.socketOptions) } : {}),
    ...(s.addForwardedHeader != null
      ? {
        addForwardedHeader: {
          by: Forwarded.fromConfig(s.addForwardedHeader.by, router.label),
          for: Forwarded.fromConfig(s.addForwardedHeader.for, router.label)
        }
      }
      : {}),
    maxHeaderBytes: (router.maxHeadersKB + router.maxInitialLineKB) * 1024,
    ...(router.protocol === "h2" ? {} : {
      bufferLimit: router.streamingEnabled ? router.streamAfterContentLengthKB * 1024 : 2 ** 31 - 1
    }),
    drainGrace: admin.shutdownGraceMs
  })),
  dtab: router.dtab,
  ...(identify !== undefined ? { identify } : {}),
  dstPrefix: router.dstPrefix,
  bindingTimeout: router.bindingTimeoutMs,
  cacheIdleTtl: router.bindingCache.idleTtlSecs,
  interpreter,
  client: (id) => clientParams(router.client, id, tls?.client),
  service: (name) => serviceParams(router.service, name),
  stats,
  maxCallDepth: Math.min(...router.servers.map((s) => s.maxCallDepth)),
  ...(accessLog !== undefined ? { accessLog } : {}),
  ...(recorder !== undefined ? { recorder } : {}),
  connectEnabled: router.connectEnabled,
  tunnelIdleTimeout: router.tunnelIdleTimeoutMs,
  ...(router.tunnelMaxDurationMs !== undefined ? { tunnelMaxDuration: router.tunnelMaxDurationMs } : {})
})

/** The host a server announces: its IP, or this machine's first external IPv4 when it listens on all. */
const announceHost = (ip: string): string => {
  if (ip !== "0.0.0.0" && ip !== "::") return ip
  for (const addrs of Object.values(Os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address
  }
  return "127.0.0.1"
}

const startFailure = (where: string) => (e: { readonly message: string }) =>
  new LinkerError({ problems: [{ path: where, message: e.message }] })

/**
 * Validates and starts everything the config describes, in the current scope. Fails with a
 * `LinkerError` listing every problem before anything starts, or naming what failed to start (after
 * closing what had started).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: Config.Config, options?: Options): Effect.Effect<Linker, LinkerError, Scope.Scope> => {
  const registry = options?.registry ?? Stats.makeInMemory()
  const logging = options?.logging ?? Logging.make()
  return logging.provide(Effect.provideService(build(config, registry, logging, options), Stats.Receiver, registry))
}

const namerLogger = (n: Config.Namer): string =>
  `weir.namer.${Config.namerMounts(n).map(Path.show)[0]?.replace(/^\/(#\/)?/, "") ?? n.kind}`

const build = (
  config: Config.Config,
  registry: Stats.InMemory,
  logging: Logging.Logging,
  options: Options | undefined
): Effect.Effect<Linker, LinkerError, Scope.Scope> =>
  Effect.gen(function*() {
    const problems = Validate.validate(config)
    if (problems.length > 0) return yield* new LinkerError({ problems })
    logging.declare([
      "weir",
      ...config.routers.map((r) => `weir.router.${r.label}`),
      ...config.namers.map(namerLogger)
    ])
    const local = Metrics.makeExporter(registry)
    const exporter = options?.metrics?.exporter(local) ?? local
    const processMetrics = yield* ProcessMetrics.make(registry)
    const window = Duration.fromInputUnsafe(options?.histogramWindow ?? Duration.minutes(1))
    const roll = () => {
      local.roll()
      processMetrics.roll()
    }
    yield* Effect.forkScoped(
      Effect.repeat(Effect.sync(roll), Schedule.spaced(window)).pipe(Effect.delay(window))
    )

    const build = options?.buildNamer ?? Namers.build
    const namers: Array<readonly [Path.Path, Namer.Namer]> = []
    const built: Array<readonly [Config.Namer, Namer.Namer]> = []
    for (const [i, n] of config.namers.entries()) {
      const raw = yield* build(n).pipe(
        Effect.annotateLogs(Logging.annotation, namerLogger(n)),
        Effect.mapError((e) => new LinkerError({ problems: [{ path: `namers[${i}]`, message: e.message }] }))
      )
      const transformers = yield* TransformerConfig.buildAll(n.transformers ?? []).pipe(
        Effect.mapError((e) => new LinkerError({ problems: [{ path: `namers[${i}]`, message: e.message }] }))
      )
      const namer = Transformer.wrapNamer(raw, transformers)
      for (const mount of Config.namerMounts(n)) namers.push([mount, namer])
      built.push([n, namer])
    }
    const interpreter = yield* Interpreter.make({ namers })

    // telemeters start before the routers: the tracing ones are where the routers' spans go, the
    // recent-requests ones what the routers record into
    const telemeterEndpoints: Array<Telemeter.Endpoint> = []
    const sinks: Array<Tracing.Sink> = []
    const rings: Array<RecentRequests.RecentRequests> = []
    for (const t of config.telemetry) {
      const started = yield* Telemeters.registry.make(t)({ registry, snapshot: exporter.snapshot })
      telemeterEndpoints.push(...started.endpoints)
      if (started.tracer !== undefined) sinks.push(started.tracer)
      if (started.recentRequests !== undefined) rings.push(started.recentRequests)
    }
    const tracing = Tracing.make(sinks)
    // a ring that samples nothing needs no recorder: its routers then do nothing per request for it
    const recorder = RecentRequests.combine(rings.filter((r) => r.sampleRate > 0))

    const reloadable: Array<Reloadable> = []
    const own: Array<OwnAddress> = []
    const upstreamMaker = yield* DstClient.UpstreamMaker
    const routers: Array<Router.Router> = []
    const transformersOf = new Map<string, ReadonlyArray<Transformer.Transformer>>()
    const routerInterpreters = new Map<string, Interpreter.NameInterpreter>()
    for (const [i, r] of config.routers.entries()) {
      // an interpreter's transformers rewrite what it binds, whichever interpreter it is
      const transformers = r.interpreter.transformers !== undefined
        ? yield* TransformerConfig.buildAll(r.interpreter.transformers).pipe(
          Effect.mapError(startFailure(`routers[${i}].interpreter`))
        )
        : []
      transformersOf.set(r.label, transformers)
      if (r.originator) {
        const unregister = registry.gauge(["rt", r.label, "originator"], () => 1)
        yield* Effect.addFinalizer(() => Effect.sync(unregister))
      }
      const accessLog = r.httpAccessLog === undefined ? undefined : yield* AccessLog.make({
        path: r.httpAccessLog,
        append: r.httpAccessLogAppend,
        rollPolicy: r.httpAccessLogRollPolicy,
        rotateCount: r.httpAccessLogRotateCount
      }).pipe(Effect.mapError(startFailure(`routers[${i}].httpAccessLog`)))
      const untransformed = yield* Interpreters.registry.make(r.interpreter)({
        base: interpreter,
        stats: registry.scope("rt", r.label, r.interpreter.kind === "default" ? "interpreter" : "namerd")
      }).pipe(Effect.mapError(startFailure(`routers[${i}].interpreter`)))
      // the delegator explains the transformers itself, over the interpreter they wrap
      routerInterpreters.set(r.label, untransformed)
      const routerInterpreter = Transformer.wrapInterpreter(untransformed, transformers)
      const tls = yield* loadTls(r, i, reloadable)
      const identify = yield* Identifiers.build(r.identifiers, r.dstPrefix)
      const router = yield* Router.make({
        ...routerOptions(r, config.admin, routerInterpreter, registry, accessLog, tls, recorder, identify),
        tracing
      })
        .pipe(
          Effect.provideService(
            DstClient.UpstreamMaker,
            guardSelfRouting(
              r,
              // an h2 router connects with HTTP/2 unless the upstream maker was replaced (tests, benches)
              r.protocol === "h2" && upstreamMaker === Upstream.make ? H2Upstream.make : upstreamMaker,
              () => own
            )
          ),
          Effect.annotateLogs(Logging.annotation, `weir.router.${r.label}`),
          Effect.mapError(startFailure(`routers[${i}].servers`))
        )
      routers.push(router)
      for (const s of router.servers) own.push({ ip: s.ip, port: s.port, what: "server", router: r.label })
    }

    const announcements = yield* Scope.fork(yield* Effect.scope)
    for (const [i, r] of config.routers.entries()) {
      if ((r.announcers ?? []).length === 0) continue
      const announcers = yield* Effect.forEach(
        r.announcers ?? [],
        (a) => Effect.map(ServersetsAnnouncerConfig.build(a), (announcer) => [a, announcer] as const)
      ).pipe(Scope.provide(announcements))
      for (const [j, s] of r.servers.entries()) {
        const bound = routers[i]!.servers[j]!
        for (const name of s.announce ?? []) {
          for (const [a, announcer] of announcers) {
            const zkPath = ServersetsAnnouncerConfig.zkPathOf(a, name)
            if (zkPath === undefined) continue
            yield* announcer.announce(zkPath, announceHost(s.ip), bound.port).pipe(Scope.provide(announcements))
            break
          }
        }
      }
    }

    const shutdown = yield* Deferred.make<Duration.Duration>()
    const requestShutdown = (grace?: Duration.Duration) =>
      Effect.asVoid(Deferred.succeed(shutdown, grace ?? config.admin.shutdownGraceMs))
    const adminTls = config.admin.tls === undefined ? undefined : yield* Tls.server(
      TlsConfig.serverOptions(config.admin.tls)
    ).pipe(Effect.mapError(startFailure("admin.tls")))
    if (adminTls !== undefined) reloadable.push({ where: "admin.tls", tls: adminTls })
    const admin = yield* Admin.make({
      tls: adminTls,
      ip: config.admin.ip,
      port: config.admin.port,
      exporter,
      config: ConfigJson.toJson(config),
      routers: config.routers.map((r) => r.label),
      delegate: yield* Delegator.make(config, interpreter, { transformers: transformersOf, routerInterpreters }),
      namers: Delegator.adminNamers(built),
      shutdown: (grace) => Effect.runFork(requestShutdown(grace)),
      security: config.admin.security,
      allowedHosts: config.admin.allowedHosts,
      telemeters: telemeterEndpoints,
      recentRequests: rings[0],
      clientState: (only) => ClientState.toJson(routers, only),
      logging,
      refreshMetrics: options?.metrics?.refresh
    }).pipe(Effect.mapError(startFailure("admin")))
    own.push({ ip: admin.ip, port: admin.port, what: "admin" })

    return {
      config,
      registry,
      exporter,
      admin,
      routers,
      interpreter,
      shutdownRequested: Deferred.await(shutdown),
      requestShutdown,
      reloadTls: reloadTls(reloadable),
      drain: (grace) =>
        Effect.andThen(
          Scope.close(announcements, Exit.void),
          Effect.asVoid(Effect.all(routers.map((r) => r.drain(grace)), { concurrency: "unbounded", discard: true }))
        )
    }
  })

// ---------------------------------------------------------------------------------------------
// TLS files
// ---------------------------------------------------------------------------------------------

interface Reloadable {
  readonly where: string
  readonly tls: Tls.ServerTls | Tls.ClientTls
}

/** Reads the TLS files of router `r` (entry `i`), adding each to `reloadable`. */
const loadTls = (
  r: Config.RouterConfig,
  i: number,
  reloadable: Array<Reloadable>
): Effect.Effect<RouterTls, LinkerError> =>
  Effect.gen(function*() {
    const servers: Array<Tls.ServerTls | undefined> = []
    for (const [j, s] of r.servers.entries()) {
      const where = `routers[${i}].servers[${j}].tls`
      const tls = s.tls === undefined
        ? undefined
        : yield* Effect.mapError(Tls.server(TlsConfig.serverOptions(s.tls)), startFailure(where))
      if (tls !== undefined) reloadable.push({ where, tls })
      servers.push(tls)
    }
    const client: Array<Tls.ClientTls | undefined> = []
    for (const [j, c] of r.client.entries()) {
      const where = `routers[${i}].client (${c.prefix.pattern}).tls`
      const tls = c.params.tls === undefined || !c.params.tls.enabled
        ? undefined
        : yield* Effect.mapError(Tls.client(TlsConfig.clientOptions(c.params.tls)), startFailure(where))
      if (tls !== undefined) reloadable.push({ where, tls })
      client[j] = tls
    }
    return { servers, client }
  })

const reloadTls = (reloadable: ReadonlyArray<Reloadable>): Effect.Effect<void, LinkerError> =>
  Effect.gen(function*() {
    const problems: Array<Config.Problem> = []
    for (const r of reloadable) {
      const result = yield* Effect.result(Tls.reload(r.tls))
      if (Result.isFailure(result)) problems.push({ path: r.where, message: result.failure.message })
    }
    if (problems.length > 0) return yield* new LinkerError({ problems })
  })

// ---------------------------------------------------------------------------------------------
// self-routing guard
// ---------------------------------------------------------------------------------------------

/**
 * An address this proxy listens on: the admin server or one server of a router.
 *
 * @since 0.1.0
 * @category self-routing
 */
export interface OwnAddress {
  readonly ip: string
  readonly port: number
  /** What listens there. */
  readonly what: "admin" | "server"
  /** The router a server belongs to. */
  readonly router?: string | undefined
}

const canonicalIp = (host: string): string | undefined => {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host
  let hostname: string
  try {
    hostname = new URL(`http://${Net.isIPv6(bare) ? `[${bare}]` : bare}/`).hostname
  } catch {
    return undefined
  }
  const ip = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip)
  if (mapped !== null) return mapped[1]
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ip)
  if (hex !== null) {
    const n = (parseInt(hex[1]!, 16) << 16 | parseInt(hex[2]!, 16)) >>> 0
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".")
  }
  return Net.isIP(ip) === 0 ? undefined : ip
}

const isWildcard = (ip: string): boolean => ip === "0.0.0.0" || ip === "::"

const isLocal = (ip: string): boolean => {
  if (isWildcard(ip) || ip === "::1" || ip.startsWith("127.")) return true
  for (const list of Object.values(Os.networkInterfaces())) {
    for (const i of list ?? []) if (canonicalIp(i.address) === ip) return true
  }
  return false
}

/**
 * The listening address that a connection to `ip:port` would reach, if it is one of `own`: the
 * same IP, a wildcard listener (`0.0.0.0`, `::`) and any local address (loopback included), or a
 * wildcard target and a local listener.
 *
 * @since 0.1.0
 * @category self-routing
 */
export const ownAddressOf = (
  ip: string,
  port: number,
  own: ReadonlyArray<OwnAddress>
): OwnAddress | undefined => {
  const target = canonicalIp(ip)
  if (target === undefined) return undefined
  return own.find((o) => {
    if (o.port !== port) return false
    const listen = canonicalIp(o.ip) ?? o.ip
    return listen === target || (isWildcard(listen) && isLocal(target)) || (isWildcard(target) && isLocal(listen))
  })
}

const resolve = (host: string): Effect.Effect<ReadonlyArray<string>> => {
  const ip = canonicalIp(host)
  if (ip !== undefined) return Effect.succeed([ip])
  return Effect.callback<ReadonlyArray<string>>((resume) => {
    Dns.lookup(
      host,
      { all: true },
      (error, addresses) =>
        resume(Effect.succeed(error === null ? addresses.map((a) => canonicalIp(a.address) ?? a.address) : []))
    )
  }).pipe(Effect.timeoutOrElse({ duration: "5 seconds", orElse: () => Effect.succeed([]) }))
}

/**
 * Wraps `make` so that an address this proxy itself listens on (`own()`, read when the endpoint is
 * made; host names are resolved first) gets an upstream whose every call fails at once with a
 * non-retryable `ConnectionFailed` naming what listens there, instead of a connection: a request
 * that an `l5d-dtab` header sends to `/$/inet/127.0.0.1/9990` never reaches the admin server, and a
 * dtab pointing a router at itself never loops. A router with `allowSelfRouting: true` is left as it is.
 *
 * @since 0.1.0
 * @category self-routing
 */
export const guardSelfRouting = (
  router: Config.RouterConfig,
  make: DstClient.UpstreamMaker,
  own: () => ReadonlyArray<OwnAddress>
): DstClient.UpstreamMaker => {
  if (router.allowSelfRouting) return make
  return (address, options) =>
    Effect.flatMap(resolve(address.host), (ips) => {
      let hit: OwnAddress | undefined
      for (const ip of ips) hit ??= ownAddressOf(ip, address.port, own())
      if (hit === undefined) return make(address, options)
      const failure = new Failure.ConnectionFailed({
        address: addressKey(address),
        reason: "refused",
        written: true,
        detail: `router ${router.label} refuses to route to its own ${hit.what} address ${hit.ip}:${hit.port}` +
          (hit.router === undefined ? "" : ` (a server of router ${hit.router})`) +
          "; set allowSelfRouting: true on the router to allow it"
      })
      const refused: Upstream.Upstream = {
        address,
        call: () => Effect.fail(failure),
        status: "Open",
        connections: () => 0,
        connects: () => 0
      }
      return Effect.succeed(refused)
    })
}
