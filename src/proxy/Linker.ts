/**
 * Turns a decoded config into a running proxy: the namers, one interpreter, one HTTP router per
 * `routers[]` entry (`http/Router.ts`), the metrics registry and the admin server, all in one
 * `Scope`. The config is validated first (`Validate.validate`), so a config this version cannot
 * run starts nothing; a failure while starting (a port in use) closes whatever had started.
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
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as ClientConfig from "../config/Client.js"
import * as AccessLog from "../http/AccessLog.js"
import type * as DstClient from "../http/DstClient.js"
import * as Forwarded from "../http/Forwarded.js"
import * as Router from "../http/Router.js"
import * as NamerdHttp from "../namerd/HttpInterpreter.js"
import * as Interpreter from "../naming/Interpreter.js"
import type * as Namer from "../naming/Namer.js"
import type * as Path from "../naming/Path.js"
import * as Stats from "../Stats.js"
import * as Admin from "./Admin.js"
import * as Config from "./Config.js"
import * as Delegator from "./Delegator.js"
import * as Metrics from "./Metrics.js"
import * as PathMatcher from "./PathMatcher.js"
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
  /** Stops accepting on every router and waits up to `grace` for requests in flight. */
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
  /** Builds the namer of a config entry; defaults to `Delegator.buildNamer`. For tests. */
  readonly buildNamer?:
    | ((namer: Config.Namer) => Effect.Effect<Namer.Namer, Delegator.NamerUnavailable, Scope.Scope>)
    | undefined
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
 * A client section's parameters for a bound id, in the data path's terms.
 *
 * @since 0.1.0
 * @category params
 */
export const clientParams = (
  configs: ReadonlyArray<Config.PrefixConfig<Config.ClientParams>>,
  id: Path.Path
): DstClient.Params => {
  const p = paramsFor(configs, id)
  const pool = p.hostConnectionPool
  return {
    ...(p.loadBalancer !== undefined ? { loadBalancer: p.loadBalancer } : {}),
    ...(p.failureAccrual !== undefined ? { failureAccrual: p.failureAccrual } : {}),
    ...(p.requeueBudget !== undefined ? { requeueBudget: p.requeueBudget } : {}),
    ...(p.requestAttemptTimeoutMs !== undefined ? { requestAttemptTimeoutMs: p.requestAttemptTimeoutMs } : {}),
    ...(pool !== undefined
      ? {
        hostConnectionPool: {
          ...(pool.maxSize !== undefined ? { maxConnections: pool.maxSize } : {}),
          ...(pool.idleTimeMs !== undefined ? { idleTimeout: pool.idleTimeMs } : {})
        }
      }
      : {})
  }
}

/**
 * A service section's parameters for a logical name, in the data path's terms.
 *
 * @since 0.1.0
 * @category params
 */
export const serviceParams = (
  configs: ReadonlyArray<Config.PrefixConfig<Config.ServiceParams>>,
  name: Path.Path
): Router.ServiceParams => {
  const p = paramsFor(configs, name)
  return {
    ...(p.totalTimeoutMs !== undefined ? { totalTimeoutMs: p.totalTimeoutMs } : {}),
    ...(p.retries !== undefined ? { retries: p.retries } : {}),
    ...(p.responseClassifier !== undefined ? { responseClassifier: p.responseClassifier } : {})
  }
}

/**
 * A router entry's options for `http/Router.make`; `accessLog` is the writer opened for its
 * `httpAccessLog`, if any.
 *
 * @since 0.1.0
 * @category params
 */
export const routerOptions = (
  router: Config.RouterConfig,
  admin: Config.Admin,
  interpreter: Interpreter.NameInterpreter,
  stats: Stats.StatsReceiver,
  accessLog?: AccessLog.AccessLog | undefined
): Router.Options => ({
  label: router.label,
  servers: router.servers.map((s) => ({
    ip: s.ip,
    port: s.port,
    clearContext: s.clearContext,
    ...(s.maxConcurrentRequests !== undefined ? { maxConcurrentRequests: s.maxConcurrentRequests } : {}),
    ...(s.timestampHeader !== undefined ? { timestampHeader: s.timestampHeader } : {}),
    ...(s.addForwardedHeader != null
      ? {
        addForwardedHeader: {
          by: Forwarded.fromConfig(s.addForwardedHeader.by, router.label),
          for: Forwarded.fromConfig(s.addForwardedHeader.for, router.label)
        }
      }
      : {}),
    maxHeaderBytes: (router.maxHeadersKB + router.maxInitialLineKB) * 1024,
    bufferLimit: router.streamingEnabled ? router.streamAfterContentLengthKB * 1024 : 2 ** 31 - 1,
    drainGrace: admin.shutdownGraceMs
  })),
  dtab: router.dtab,
  identifiers: router.identifiers,
  dstPrefix: router.dstPrefix,
  bindingTimeout: router.bindingTimeoutMs,
  cacheIdleTtl: router.bindingCache.idleTtlSecs,
  interpreter,
  client: (id) => clientParams(router.client, id),
  service: (name) => serviceParams(router.service, name),
  stats,
  maxCallDepth: Math.min(...router.servers.map((s) => s.maxCallDepth)),
  ...(accessLog !== undefined ? { accessLog } : {})
})

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
  return Effect.provideService(build(config, registry, options), Stats.Receiver, registry)
}

const build = (
  config: Config.Config,
  registry: Stats.InMemory,
  options: Options | undefined
): Effect.Effect<Linker, LinkerError, Scope.Scope> =>
  Effect.gen(function*() {
    const problems = [...Validate.validate(config), ...Validate.checkEnvironment(config)]
    if (problems.length > 0) return yield* new LinkerError({ problems })
    const exporter = Metrics.makeExporter(registry)
    const window = Duration.fromInputUnsafe(options?.histogramWindow ?? Duration.minutes(1))
    yield* Effect.forkScoped(
      Effect.repeat(Effect.sync(exporter.roll), Schedule.spaced(window)).pipe(Effect.delay(window))
    )

    const build = options?.buildNamer ?? Delegator.buildNamer
    const namers: Array<readonly [Path.Path, Namer.Namer]> = []
    const built: Array<readonly [Config.Namer, Namer.Namer]> = []
    for (const [i, n] of config.namers.entries()) {
      const namer = yield* build(n).pipe(
        Effect.mapError((e) => new LinkerError({ problems: [{ path: `namers[${i}]`, message: e.message }] }))
      )
      for (const mount of Config.namerMounts(n)) namers.push([mount, namer])
      built.push([n, namer])
    }
    const interpreter = yield* Interpreter.make({ namers })

    const routers: Array<Router.Router> = []
    const routerInterpreters = new Map<string, Interpreter.NameInterpreter>()
    for (const [i, r] of config.routers.entries()) {
      if (r.originator) {
        const unregister = registry.gauge(["rt", r.label, "originator"], () => 1)
        yield* Effect.addFinalizer(() => Effect.sync(unregister))
      }
      const accessLog = r.httpAccessLog === undefined ? undefined : yield* AccessLog.make({
        path: r.httpAccessLog,
        append: r.httpAccessLogAppend
      }).pipe(Effect.mapError(startFailure(`routers[${i}].httpAccessLog`)))
      const routerInterpreter = r.interpreter.kind === "io.l5d.namerd.http"
        ? yield* NamerdHttp.make({
          addresses: yield* NamerdHttp.dstAddresses(interpreter, r.interpreter.dst),
          namespace: r.interpreter.namespace,
          retryBase: Duration.seconds(r.interpreter.retry?.baseSeconds ?? 5),
          retryMax: Duration.seconds(r.interpreter.retry?.maxSeconds ?? 600),
          stats: registry.scope("rt", r.label, "namerd")
        })
        : interpreter
      routerInterpreters.set(r.label, routerInterpreter)
      const router = yield* Router.make(routerOptions(r, config.admin, routerInterpreter, registry, accessLog)).pipe(
        Effect.mapError(startFailure(`routers[${i}].servers`))
      )
      routers.push(router)
    }

    const shutdown = yield* Deferred.make<Duration.Duration>()
    const requestShutdown = (grace?: Duration.Duration) =>
      Effect.asVoid(Deferred.succeed(shutdown, grace ?? config.admin.shutdownGraceMs))
    const prometheus = config.telemetry.find((t) => t.kind === "io.l5d.prometheus")
    const admin = yield* Admin.make({
      ip: config.admin.ip,
      port: config.admin.port,
      exporter,
      config: Config.toJson(config),
      routers: config.routers.map((r) => r.label),
      delegate: yield* Delegator.make(config, interpreter, { routerInterpreters }),
      namers: Delegator.adminNamers(built),
      shutdown: (grace) => Effect.runFork(requestShutdown(grace)),
      ...(prometheus !== undefined ? { prometheus: { path: prometheus.path, prefix: prometheus.prefix } } : {})
    }).pipe(Effect.mapError(startFailure("admin")))

    return {
      config,
      registry,
      exporter,
      admin,
      routers,
      interpreter,
      shutdownRequested: Deferred.await(shutdown),
      requestShutdown,
      drain: (grace) =>
        Effect.asVoid(Effect.all(routers.map((r) => r.drain(grace)), { concurrency: "unbounded", discard: true }))
    }
  })
