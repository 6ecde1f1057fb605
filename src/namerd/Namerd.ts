/**
 * A running namerd: the dtab store, the namers, and the interfaces linkers and operators talk to.
 *
 * ```
 * linker ─┐                      ┌─ storage (etcd, ZooKeeper, in memory): dtabs by namespace
 * linker ─┼─► namerd interfaces ─┤
 * linker ─┘   (httpController,   └─ namers (io.l5d.fs, io.l5d.k8s, …): addresses
 *              mesh, thrift)
 * ```
 *
 * Each namespace's binding is the namespace's stored dtab (empty while it does not exist) followed
 * by a request's extra dtab, resolved by one interpreter over the configured namers (mounted as in
 * the proxy, `/#/<prefix>`). A dtab change in the store re-binds every watch at once.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Http from "node:http"
import * as Https from "node:https"
import type { AddressInfo } from "node:net"
import * as ClientConfig from "../config/Client.js"
import * as Namers from "../config/namer/index.js"
import * as TlsConfig from "../config/Tls.js"
import * as Tls from "../http/transport/Tls.js"
import * as Delegation from "../naming/Delegation.js"
import * as Dtab from "../naming/Dtab.js"
import * as Interpreter from "../naming/Interpreter.js"
import type * as Namer from "../naming/Namer.js"
import type * as Path from "../naming/Path.js"
import * as Admin from "../proxy/Admin.js"
import * as ProxyConfig from "../proxy/Config.js"
import * as ConfigJson from "../proxy/ConfigJson.js"
import * as Stats from "../Stats.js"
import * as Metrics from "../telemetry/Metrics.js"
import * as Config from "./Config.js"
import type { DtabStore } from "./DtabStore.js"
import * as HttpController from "./HttpController.js"
import * as MeshInterface from "./MeshInterface.js"
import * as Storage from "./Storage.js"
import * as ThriftInterface from "./ThriftInterface.js"

/**
 * namerd could not start: the config has problems, the store or a namer could not be reached, or
 * an address could not be bound.
 *
 * @since 0.1.0
 * @category errors
 */
export class NamerdError extends Data.TaggedError("NamerdError")<{
  readonly problems: ReadonlyArray<ProxyConfig.Problem>
}> {
  override get message(): string {
    return ClientConfig.formatProblems(this.problems)
  }
}

/**
 * A running namerd.
 *
 * @since 0.1.0
 * @category model
 */
export interface Namerd {
  readonly store: DtabStore
  readonly interpreter: Interpreter.NameInterpreter
  readonly backend: HttpController.Backend
  /** The bound address of each interface, in config order. */
  readonly interfaces: ReadonlyArray<{ readonly kind: string; readonly ip: string; readonly port: number }>
  readonly admin: Admin.Admin
}

/**
 * Options of `make` that are not in the config file.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** Builds the namer of a config entry; defaults to the proxy's namer registry (`Namers.build`). */
  readonly buildNamer?:
    | ((namer: ProxyConfig.Namer) => Effect.Effect<Namer.Namer, { readonly message: string }, Scope.Scope>)
    | undefined
  /** The metrics registry. Defaults to a fresh one. */
  readonly registry?: Stats.InMemory | undefined
}

/**
 * Binding under a store's namespaces: the namespace's dtab, then `extra`, through `interpreter`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const backend = (store: DtabStore, interpreter: Interpreter.NameInterpreter): HttpController.Backend => {
  const dtabOf = (ns: string) => store.observe(ns).pipe(Stream.map((o) => Option.isSome(o) ? o.value.dtab : Dtab.empty))
  return {
    store,
    bindStates: (ns: string, extra: Dtab.Dtab, path: Path.Path) =>
      dtabOf(ns).pipe(
        Stream.changesWith(Dtab.equals),
        Stream.switchMap((dtab) => interpreter.bindStates(Dtab.concat(dtab, extra), path))
      ),
    delegate: (ns, extra, path) =>
      Effect.flatMap(Stream.runHead(store.observe(ns)), (o) => {
        const current = Option.flatten(o)
        return Option.isNone(current)
          ? Effect.succeedNone
          : Effect.asSome(Delegation.explain(interpreter, Dtab.concat(current.value.dtab, extra), path))
      })
  }
}

const capacity = (active: number, inactive: number, ttlSecs: number) => ({
  activeCapacity: active,
  inactiveCapacity: inactive,
  inactiveTtlMillis: ttlSecs * 1000
})

const listen = (ip: string, port: number, listener: Http.RequestListener, tls?: Tls.ServerTls) =>
  Effect.acquireRelease(
    Effect.callback<Http.Server, string>((resume) => {
      const server = tls === undefined ? Http.createServer(listener) : Https.createServer(tls.options, listener)
      const onError = (e: Error) => resume(Effect.fail(`cannot listen on ${ip}:${port}: ${e.message}`))
      server.once("error", onError)
      server.listen({ host: ip, port }, () => {
        server.off("error", onError)
        resume(Effect.succeed(server))
      })
    }),
    (server) =>
      Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
  )

/**
 * Starts everything the config describes in the current scope: the store (waiting for its first
 * answer), the namers, the interfaces and the admin server.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: Config.Config, options?: Options): Effect.Effect<Namerd, NamerdError, Scope.Scope> =>
  Effect.gen(function*() {
    const fail = (path: string, message: string) => new NamerdError({ problems: [{ path, message }] })
    const problems = Config.validate(config)
    if (problems.length > 0) return yield* new NamerdError({ problems })
    const registry = options?.registry ?? Stats.makeInMemory()
    const store = yield* Storage.make(config.storage, registry.scope("storage")).pipe(
      Effect.mapError((e) => fail("storage", e.message))
    )
    const build = options?.buildNamer ?? Namers.build
    const namers: Array<readonly [Path.Path, Namer.Namer]> = []
    for (const [i, n] of config.namers.entries()) {
      const namer = yield* build(n).pipe(Effect.mapError((e) => fail(`namers[${i}]`, e.message)))
      for (const mount of ProxyConfig.namerMounts(n)) namers.push([mount, namer])
    }
    const interpreter = yield* Interpreter.make({ namers })
    const served = backend(store, interpreter)
    const interfaces: Array<{ kind: string; ip: string; port: number }> = []
    for (const [i, iface] of config.interfaces.entries()) {
      const tls = iface.tls === undefined ? undefined : yield* Tls.server(TlsConfig.serverOptions(iface.tls)).pipe(
        Effect.mapError((e) => fail(`interfaces[${i}].tls`, e.message))
      )
      const address = yield* (iface.kind === "io.l5d.thriftNameInterpreter"
        ? ThriftInterface.make(served, {
          ip: iface.ip,
          port: iface.port,
          retryBaseSecs: iface.retryBaseSecs,
          retryJitterSecs: iface.retryJitterSecs,
          binding: capacity(
            iface.cache.bindingCacheActive,
            iface.cache.bindingCacheInactive,
            iface.cache.bindingCacheInactiveTTLSecs
          ),
          addr: capacity(
            iface.cache.addrCacheActive,
            iface.cache.addrCacheInactive,
            iface.cache.addrCacheInactiveTTLSecs
          ),
          stats: registry.scope(iface.kind),
          tls
        }).pipe(Effect.map((s) => ({ address: iface.ip, port: s.port })))
        : iface.kind === "io.l5d.mesh"
        ? MeshInterface.serve({ ip: iface.ip, port: iface.port, backend: served, interpreter, tls })
        : Effect.map(
          listen(iface.ip, iface.port, HttpController.listener(served), tls),
          (server) => server.address() as AddressInfo
        )).pipe(Effect.mapError((m) => fail(`interfaces[${i}]`, m)))
      interfaces.push({ kind: iface.kind, ip: address.address, port: address.port })
    }
    const admin = yield* Admin.make({
      ip: config.admin.ip,
      port: config.admin.port,
      exporter: Metrics.makeExporter(registry),
      config: ConfigJson.toJsonValue(config)
    }).pipe(Effect.mapError((e) => fail("admin", e.message)))
    return { store, interpreter, backend: served, interfaces, admin }
  })
