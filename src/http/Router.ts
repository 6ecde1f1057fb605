/**
 * One HTTP/1.1 router's data path, as linkerd 1.x runs it:
 *
 * ```
 * server (per servers[] entry)
 *   → admission (maxConcurrentRequests, maxPending) · server stats · clearContext · Via loop check
 *   → context headers (l5d-ctx-dtab, l5d-dtab, l5d-ctx-deadline) · hop-by-hop stripping
 *   → identifier list → logical name (/svc/…)
 *   → path stack, per name (`PathStack`): service stats · the name's classifier · total timeout
 *     · classified retries (budget, backoff; a retryable 5XX's body read first)
 *     → live binding of (router dtab ++ local dtab, name), cached, bindingTimeout
 *     → union pick by weight → l5d-dst-* headers
 *     → destination client, per bound id (`DstClient`, cached): stats · requeues · balancer
 *       → endpoint: attempt span · failure accrual · attempt timeout · l5d-ctx-deadline · pooled connections (Upstream)
 * ```
 *
 * With `tracing` (a tracing telemeter configured), each request the router samples gets a server
 * span named after its logical name, the parent of one span per attempt (`TraceFilter`); trace
 * context is read and written as `HttpTracing` describes.
 *
 * The path stack and the destination clients are `ClientStack`'s stacks in its documented order
 * (built by `ProxyStack`, as the simulator builds its own); server admission is
 * `resilience/Admission`.
 *
 * An HTTP/1.1 `Upgrade` (WebSocket and others) is routed like any request; a `101` from the
 * destination comes back carrying its connection, which the server splices with the client's
 * (`transport/Tunnel`), within the router's tunnel limits and with the client's `tunnel/` metrics
 * (`TunnelStats`). `CONNECT` is refused (405) unless `connectEnabled`; then it is routed by its
 * authority and tunnels to the chosen endpoint.
 *
 * Requests that cannot be delivered get linkerd's error responses (`Errors`); an upstream response,
 * a 5XX included, is passed through (after retries) with `l5d-success-class`.
 *
 * Metrics (linkerd's names, under the given receiver): `rt/<label>/server/<ip>/<port>/…`,
 * `rt/<label>/service/<name>/…`, `rt/<label>/client/<id>/…`.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Random from "effect/Random"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import * as Failure from "../Failure.js"
import * as IdleCache from "../IdleCache.js"
import * as WeightedUnion from "../loadbalancer/WeightedUnion.js"
import * as BindingCache from "../naming/BindingCache.js"
import * as Dentry from "../naming/Dentry.js"
import * as Dtab from "../naming/Dtab.js"
import type * as Interpreter from "../naming/Interpreter.js"
import * as Name from "../naming/Name.js"
import type * as NameTree from "../naming/NameTree.js"
import * as Path from "../naming/Path.js"
import * as Admission from "../resilience/Admission.js"
import * as Deadline from "../resilience/Deadline.js"
import * as Stats from "../Stats.js"
import type * as RecentRequests from "../telemetry/RecentRequests.js"
import * as Tracing from "../telemetry/Tracing.js"
import * as TraceFilter from "../TraceFilter.js"
import type * as AccessLog from "./AccessLog.js"
import * as DstClient from "./DstClient.js"
import * as Errors from "./Errors.js"
import * as Forwarded from "./Forwarded.js"
import * as H2Server from "./h2/Server.js"
import type * as H2Settings from "./h2/Settings.js"
import * as H2Upstream from "./h2/Upstream.js"
import * as Headers from "./Headers.js"
import * as HttpTracing from "./HttpTracing.js"
import * as Identifiers from "./Identifiers.js"
import * as PathStack from "./PathStack.js"
import * as RequestCapture from "./RequestCapture.js"
import type { HttpRequest, HttpResponse } from "./transport/Message.js"
import { empty, header } from "./transport/Message.js"
import * as Server from "./transport/Server.js"
import type * as Tunnel from "./transport/Tunnel.js"
import * as Upstream from "./transport/Upstream.js"
import * as TunnelStats from "./TunnelStats.js"

/**
 * One `servers[]` entry: where to listen and the server-side policies.
 *
 * @since 0.1.0
 * @category model
 */
export interface ServerConfig extends Server.Options, H2Settings.H2Settings {
  /** Strip every `l5d-*` header from requests and responses (an edge). Defaults to `false`. */
  readonly clearContext?: boolean | undefined
  /** Requests handled at once; more are queued up to `maxPending`, then rejected with 503. Defaults to unlimited. */
  readonly maxConcurrentRequests?: number | undefined
  /** Requests waiting for a slot under `maxConcurrentRequests`. Defaults to `0` (reject at once, as linkerd). */
  readonly maxPending?: number | undefined
  /**
   * A header set on every forwarded request to the time the request arrived, in milliseconds since
   * the epoch (linkerd's `timestampHeader`, e.g. `X-Request-Start`). Defaults to none.
   */
  readonly timestampHeader?: string | undefined
  /**
   * Appends an RFC 7239 `Forwarded` element (`by` this server, `for` the client) to every forwarded
   * request (linkerd's `addForwardedHeader`; see `Forwarded`). Defaults to none.
   */
  readonly addForwardedHeader?: Forwarded.Options | undefined
}

/**
 * Per-service (logical name) parameters (see `PathStack.Params`).
 *
 * @since 0.1.0
 * @category model
 */
export type ServiceParams = PathStack.Params

/**
 * A router's options, already decoded.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** The router's name in stats (`rt/<label>/…`). */
  readonly label: string
  /**
   * `http` (HTTP/1.1, the default) or `h2` (HTTP/2, prior knowledge or over TLS with ALPN `h2` on
   * either side: `h2/Server.ts` serves, `h2/Upstream.ts` connects unless `DstClient.UpstreamMaker` is
   * replaced; the default identifier reads `:authority`).
   */
  readonly protocol?: "http" | "h2" | undefined
  /** Where to listen; at least one. Port defaults to `4140`, ip to `127.0.0.1`. */
  readonly servers: ReadonlyArray<ServerConfig>
  /** The router's base dtab. Defaults to empty. */
  readonly dtab?: Dtab.Dtab | undefined
  /** Identifiers, tried in order. Defaults to `io.l5d.header.token` on `Host`. */
  readonly identifiers?: ReadonlyArray<Identifiers.Config> | undefined
  /** A built identifier (any kind of the identifier registry); used instead of `identifiers` when given. */
  readonly identify?: Identifiers.Identifier | undefined
  /** Prefix of every identified name. Defaults to `/svc`. */
  readonly dstPrefix?: Path.Path | undefined
  /** How long a request waits for its name to bind. Defaults to 10 seconds. */
  readonly bindingTimeout?: Duration.Input | undefined
  /** How long unused bindings, path stacks and clients are kept. Defaults to 10 minutes. */
  readonly cacheIdleTtl?: Duration.Input | undefined
  /** Binds names. */
  readonly interpreter: Interpreter.NameInterpreter
  /**
   * Client parameters for a bound id (apply per-prefix configs here); keys left out take linkerd's
   * defaults (`DstClient.defaultParams`).
   */
  readonly client?: ((id: Path.Path) => Partial<DstClient.Params>) | undefined
  /** Service parameters for a logical name; keys left out take `PathStack.defaultParams`. */
  readonly service?: ((name: Path.Path) => Partial<ServiceParams>) | undefined
  /** Where metrics go. Defaults to the `Stats.Receiver` reference. */
  readonly stats?: Stats.StatsReceiver | undefined
  /** Most `Via` entries a request may carry before it is a loop (400). Defaults to `1000`. */
  readonly maxCallDepth?: number | undefined
  /** 5XX response bodies up to this size are buffered so the request can be retried. Defaults to 64 KiB. */
  readonly retryBufferBytes?: number | undefined
  /**
   * Where each attempt that reached a client is logged (linkerd's `httpAccessLog`), on the response
   * it produced, or on the error response the router answers with when it failed. Defaults to none.
   */
  readonly accessLog?: AccessLog.AccessLog | undefined
  /**
   * The proxy's tracing (its tracing telemeters): requests it samples get a server span and
   * attempt spans. Defaults to none: no span is made and only `l5d-ctx-trace` is propagated.
   */
  readonly tracing?: Tracing.Tracing | undefined
  /**
   * Keeps a sample of the requests served (`io.l5d.recentRequests`, see `RequestCapture`). Defaults
   * to none: no request pays for it.
   */
  readonly recorder?: RecentRequests.Recorder | undefined
  /**
   * Tunnel `CONNECT` requests (weir's; linkerd 1.x had no CONNECT). The request is routed by its
   * authority (`host:port`, which becomes its `Host`) through the identifiers and the dtab like any
   * other, and the chosen endpoint gets a plain TCP connection. Off by default, since a router
   * that tunnels wherever its dtab binds is an open proxy to all of those: a `CONNECT` is then
   * answered 405 with `l5d-err`. Defaults to `false`.
   */
  readonly connectEnabled?: boolean | undefined
  /** A tunnel (upgrade or CONNECT) with no byte either way for this long is closed. Defaults to 1 hour. */
  readonly tunnelIdleTimeout?: Duration.Input | undefined
  /** A tunnel is closed this long after it opened. Defaults to none. */
  readonly tunnelMaxDuration?: Duration.Input | undefined
}

/**
 * A running router.
 *
 * @since 0.1.0
 * @category model
 */
export interface Router {
  readonly label: string
  /** The servers, with the addresses they actually bound. */
  readonly servers: ReadonlyArray<Server.Server>
  /** Routes one request as a server with default settings would (no admission, no clearContext). */
  readonly route: (request: HttpRequest) => Effect.Effect<HttpResponse>
  /** Stops accepting on every server and lets requests in flight finish within `grace`. */
  readonly drain: (grace?: Duration.Input) => Effect.Effect<void>
  /** The destination clients open now (built on first use, closed when idle). */
  readonly clients: () => ReadonlyArray<DstClient.DstClient>
}

type Routed = PathStack.Routed

type RouteError = PathStack.RouteError

interface Branch {
  readonly weight: number
  readonly bound: Name.Bound
}

const flattenInto = (tree: NameTree.NameTree<Name.Bound>, weight: number, out: Array<Branch>): void => {
  switch (tree._tag) {
    case "Leaf":
      out.push({ weight, bound: tree.value })
      return
    case "Union": {
      let total = 0
      for (const w of tree.trees) if (w.weight > 0) total += w.weight
      if (total === 0) return
      for (const w of tree.trees) if (w.weight > 0) flattenInto(w.tree, (weight * w.weight) / total, out)
      return
    }
    case "Alt": {
      for (const t of tree.trees) {
        const sub: Array<Branch> = []
        flattenInto(t, weight, sub)
        if (sub.length > 0) {
          out.push(...sub)
          return
        }
        if (t._tag === "Fail") return
      }
      return
    }
    default:
      return
  }
}

const flattened = new WeakMap<object, ReadonlyArray<Branch>>()

/** The bound names a tree can route to, with their share of traffic; memoized per tree value. */
const branchesOf = (tree: NameTree.NameTree<Name.Bound>): ReadonlyArray<Branch> => {
  let b = flattened.get(tree)
  if (b === undefined) {
    const out: Array<Branch> = []
    flattenInto(tree, 1, out)
    b = out
    flattened.set(tree, b)
  }
  return b
}

const statsName = (shown: string): string => shown.startsWith("/") ? shown.slice(1) : shown

const boundIds = new WeakMap<Name.Bound, string>()

/** `Name.idString`, memoized per bound name (bound trees are cached, so their names are reused). */
const idOf = (bound: Name.Bound): string => {
  let id = boundIds.get(bound)
  if (id === undefined) {
    id = Name.idString(bound)
    boundIds.set(bound, id)
  }
  return id
}

const residuals = new WeakMap<Name.Bound, string>()

/** The residual path shown, memoized per bound name. */
const residualOf = (bound: Name.Bound): string => {
  let r = residuals.get(bound)
  if (r === undefined) {
    r = Path.show(bound.residual)
    residuals.set(bound, r)
  }
  return r
}

/** A response's headers as the server will write them (its writers leave the framing headers out). */
const withoutHopByHop = (response: HttpResponse): HttpResponse => {
  const headers = Headers.withoutHopByHop(response.headers, undefined, true)
  return headers === response.headers ? response : { ...response, headers }
}

/** Absolute-form request targets (`GET http://host:8080/p?q`, from `http_proxy` users) become origin-form with that Host. */
const proxyRewrite = (request: HttpRequest): HttpRequest => {
  const m = /^https?:\/\/([^/?#]*)([^#]*)/i.exec(request.url)
  if (m === null) return request
  const path = m[2] === "" ? "/" : m[2]!.startsWith("?") ? "/" + m[2] : m[2]!
  request.headers["host"] = m[1]!
  return { ...request, url: path }
}

const dentryLines = (dtab: Dtab.Dtab): Array<string> => dtab.dentries.map((d) => Dentry.show(d).replace("=>", " => "))

const serverMetrics = (s: Stats.StatsReceiver) => {
  const success = s.counter("success")
  const failures = s.counter("failures")
  const latency = s.histogram("request_latency_ms")
  const status = Stats.statusCounters(s)
  return {
    requests: s.counter("requests"),
    overloaded: s.counter("failures", "Overloaded"),
    status,
    record: (response: HttpResponse, ms: number) => {
      latency.add(ms)
      status(response.status)
      const sc = response.headers[Headers.names.successClass]
      // the router writes "1.0" or "0.0"; anything else is parsed
      const ok = sc === "1.0"
        ? true
        : sc === "0.0"
        ? false
        : typeof sc === "string"
        ? Number(sc) > 0
        : response.status < 500
      if (ok && !Errors.isRouterError(response)) success.incr()
      else failures.incr()
    }
  }
}

type ServerMetrics = ReturnType<typeof serverMetrics>

const recorded = (response: HttpResponse, metrics: ServerMetrics | undefined, start: number): HttpResponse => {
  if (metrics !== undefined) metrics.record(response, performance.now() - start)
  return response
}

interface Core {
  /** Routes one request with no admission and no server stats. */
  readonly route: (request: HttpRequest) => Effect.Effect<HttpResponse>
  readonly clients: () => ReadonlyArray<DstClient.DstClient>
  /** The handler of one server; `setStats` moves its server metrics (once the port is known). */
  readonly serverHandler: (config: ServerConfig) => {
    readonly handler: (request: HttpRequest) => Effect.Effect<HttpResponse>
    readonly status: (code: number) => void
    /** A request waited `ms` for a slice of the event loop (the transport server's `onQueued`). */
    readonly queued: (ms: number) => void
    readonly setStats: (stats: Stats.StatsReceiver) => void
    /** The address the server bound (`ip:port`), the `by` of `Forwarded`. */
    readonly setLocal: (address: string) => void
  }
}

/** An h2 router's default identifier: `io.l5d.header.token` on `:authority`. */
const h2Identifier: Identifiers.Config = { kind: "io.l5d.header.token", header: ":authority" }

/**
 * The request path of a router without its servers: identification, binding, path stacks and
 * clients, in the current scope.
 */
const makeCore = (options: Omit<Options, "servers">): Effect.Effect<Core, never, Scope.Scope> =>
  Effect.gen(function*() {
    const label = options.label
    const rootStats = options.stats ?? (yield* Stats.Receiver)
    const rt = rootStats.scope("rt", label)
    const baseDtab = options.dtab ?? Dtab.empty
    const dstPrefix = options.dstPrefix ?? Path.make("svc")
    const identify = options.identify ?? Identifiers.fromConfigs(
      options.identifiers ?? (options.protocol === "h2" ? [h2Identifier] : undefined),
      dstPrefix
    )
    const bindingTimeout = Duration.fromInputUnsafe(options.bindingTimeout ?? Duration.seconds(10))
    const ttl = options.cacheIdleTtl ?? Duration.minutes(10)
    const maxCallDepth = options.maxCallDepth ?? 1000
    const retryBufferBytes = options.retryBufferBytes ?? 64 * 1024
    const clientOf = options.client
    const serviceOf = options.service
    const clientParams = (id: Path.Path): DstClient.Params =>
      clientOf === undefined ? DstClient.defaultParams : { ...DstClient.defaultParams, ...clientOf(id) }
    const serviceParams = (name: Path.Path): ServiceParams =>
      serviceOf === undefined ? PathStack.defaultParams : { ...PathStack.defaultParams, ...serviceOf(name) }

    const bindings = yield* BindingCache.make(options.interpreter, { idleTimeToLive: ttl })
    const random = yield* Random.Random
    const configuredUpstream = yield* DstClient.UpstreamMaker
    const recorder = options.recorder
    const protocolUpstream: DstClient.UpstreamMaker = options.protocol === "h2" && configuredUpstream === Upstream.make
      ? H2Upstream.make
      : configuredUpstream
    const makeUpstream = recorder === undefined ? protocolUpstream : RequestCapture.upstreamMaker(protocolUpstream)

    const tracing = options.tracing
    const clients = yield* IdleCache.make({
      id: idOf,
      lookup: (bound: Name.Bound) => {
        const id = idOf(bound)
        const idPath = typeof bound.id === "string"
          ? Result.getOrElse(Path.parse(bound.id), () => Path.make(id))
          : bound.id
        const made = DstClient.make(bound, clientParams(idPath), rt.scope("client", statsName(id)), makeUpstream)
        return tracing === undefined
          ? Effect.provideService(made, TraceFilter.Enabled, false)
          : Effect.provideService(made, TraceFilter.CurrentHooks, HttpTracing.hooks)
      },
      idleTimeToLive: ttl
    })

    const bindingTimedOut = new Failure.RequestTimeout({ scope: "binding", timeout: bindingTimeout })

    /** Binds `routed.name` under `routed.dtab` (= base ++ local) when the binding has no value yet, within `bindingTimeout`. */
    const bindSlow = (routed: Routed): Effect.Effect<Interpreter.BoundTree, RouteError> => {
      const bind = Effect.flatMap(
        Effect.timeoutOption(
          bindings.bindLocal(baseDtab, routed.localDtab, routed.name, routed.service),
          bindingTimeout
        ),
        (o) => o._tag === "Some" ? Effect.succeed(o.value) : Effect.fail(bindingTimedOut)
      )
      // a traced request's binding miss is a span: a slow namer shows in the trace
      return routed.span === undefined
        ? bind
        : HttpTracing.withBindSpan(bind, routed.service, Dtab.show(routed.localDtab))
    }

    const pickClient = (
      branches: ReadonlyArray<Branch>
    ): Effect.Effect<readonly [DstClient.DstClient, Name.Bound], RouteError> => {
      if (branches.length === 1) {
        const bound = branches[0]!.bound
        return Effect.map(clients.get(bound), (c) => [c, bound] as const)
      }
      return Effect.map(Effect.forEach(branches, (b) => clients.get(b.bound)), (cs) => {
        const i = WeightedUnion.pick(
          cs.map((service, j) => ({ weight: branches[j]!.weight, service })),
          random.nextDoubleUnsafe()
        )
        const j = i < 0 ? 0 : i
        return [cs[j]!, branches[j]!.bound] as const
      })
    }

    const accessLog = options.accessLog
    // an h2 CONNECT (RFC 8441's extended CONNECT included) is another mechanism, not tunnelled here
    const connectEnabled = (options.connectEnabled ?? false) && options.protocol !== "h2"
    // the tunnels' limits run on this router's Clock (TestClock in tests), as its timeouts do
    const clock = yield* Clock.Clock
    const runFork = Effect.runForkWith(yield* Effect.context<never>())
    const tunnelClock: Tunnel.Clock = {
      now: () => clock.currentTimeMillisUnsafe(),
      schedule: (ms, f) => {
        const fiber = runFork(Effect.andThen(Effect.sleep(Duration.millis(ms)), Effect.sync(f)))
        return () => fiber.interruptUnsafe()
      }
    }
    const tunnelLimits: Tunnel.Limits = {
      idleTimeoutMs: Duration.toMillis(Duration.fromInputUnsafe(options.tunnelIdleTimeout ?? Duration.hours(1))),
      maxDurationMs: options.tunnelMaxDuration === undefined
        ? undefined
        : Duration.toMillis(Duration.fromInputUnsafe(options.tunnelMaxDuration)),
      clock: tunnelClock
    }
    const tunnelStats = new Map<string, TunnelStats.TunnelStats>()
    yield* Effect.addFinalizer(() => Effect.sync(() => tunnelStats.forEach((t) => t.close())))
    /** A tunnel answered by `client` gets the router's limits and the client's tunnel metrics. */
    const withTunnel = (client: DstClient.DstClient, response: HttpResponse): HttpResponse => {
      const tunnel = response.tunnel
      if (tunnel === undefined) return response
      let t = tunnelStats.get(client.id)
      if (t === undefined) {
        t = TunnelStats.make(rt.scope("client", statsName(client.id)))
        tunnelStats.set(client.id, t)
      }
      return { ...response, tunnel: { ...tunnel, limits: tunnelLimits, observer: t.observer } }
    }

    /** Logs the attempt `call` once its response (or the router's answer to its failure) is known. */
    const logged = (
      log: AccessLog.AccessLog,
      call: Effect.Effect<HttpResponse, RouteError>,
      routed: Routed
    ): Effect.Effect<HttpResponse, RouteError> =>
      Effect.onExit(call, (exit) => {
        if (exit._tag === "Success") log.log(routed.http, exit.value)
        else {
          const error = Cause.findErrorOption(exit.cause)
          if (error._tag === "Some") log.log(routed.http, errorResponse(error.value, routed, PathStack.defaultParams))
        }
        return Effect.void
      })

    // the path stack reads a retryable 5XX's body (its `Retries`), so the call returns the client's response as is
    const boundCall = () => {
      const callClient = (
        routed: Routed,
        client: DstClient.DstClient,
        bound: Name.Bound
      ): Effect.Effect<HttpResponse, RouteError> => {
        Headers.writeOutbound(routed.http.headers, {
          service: routed.service,
          client: client.id,
          residual: residualOf(bound),
          localDtab: routed.localDtab,
          requestId: routed.requestId,
          trace: routed.trace
        })
        if (routed.span !== undefined) routed.span.attribute("weir.bound", client.id)
        const http = routed.http
        const sent = http.upgrade === undefined && http.method !== "CONNECT"
          ? client.call(http)
          : Effect.map(client.call(http), (response) => withTunnel(client, response))
        const call = recorder === undefined ? sent : RequestCapture.attempt(sent, client.id, http)
        return accessLog === undefined ? call : logged(accessLog, call, routed)
      }
      const send = (routed: Routed, tree: Interpreter.BoundTree): Effect.Effect<HttpResponse, RouteError> => {
        const branches = branchesOf(tree)
        if (branches.length === 0) return Effect.fail(new Failure.NoBrokersAvailable({ name: routed.service }))
        if (branches.length === 1) {
          // the common case: one destination whose client is open — no Effect until the call itself
          const bound = branches[0]!.bound
          const client = clients.getNow(bound)
          if (client !== undefined) return callClient(routed, client, bound)
        }
        return Effect.flatMap(pickClient(branches), ([client, bound]) => callClient(routed, client, bound))
      }
      return (routed: Routed): Effect.Effect<HttpResponse, RouteError> => {
        const tree = bindings.current(baseDtab, routed.localDtab, routed.name, routed.service)
        return tree !== undefined ? send(routed, tree) : Effect.flatMap(bindSlow(routed), (t) => send(routed, t))
      }
    }

    const paths = yield* IdleCache.make({
      id: (name: string) => name,
      lookup: (name: string) =>
        PathStack.make({
          params: serviceParams(Path.parseUnsafe(name)),
          stats: rt.scope("service", statsName(name)),
          retryBufferBytes,
          bound: boundCall()
        }),
      idleTimeToLive: ttl
    })

    const errorResponse = (error: RouteError, routed: Routed, params: ServiceParams): HttpResponse => {
      switch (error._tag) {
        case "NoBrokersAvailable":
          return Errors.noRoute({
            service: routed.service,
            baseDtab: dentryLines(baseDtab),
            localDtab: dentryLines(routed.localDtab)
          })
        case "RequestTimeout":
          if (error.scope === "binding") return Errors.bindingTimeout(error.timeout, routed.service)
          if (error.scope === "attempt") return Errors.attemptTimeout(error.timeout, routed.service)
          return Errors.totalTimeout(params.totalTimeout ?? error.timeout, routed.service)
        case "Overloaded":
          return Errors.overloaded(error.message)
        case "RetryBudgetExhausted": {
          const cause = error.cause
          return Failure.isFailure(cause) || (cause as { _tag?: unknown })?._tag === "BindingError"
            ? errorResponse(cause as RouteError, routed, params)
            : Errors.other(Failure.describe(cause), false)
        }
        case "ConnectionFailed":
          if (!error.written) {
            const client = header(routed.http.headers, Headers.names.dstClient) ?? "unknown"
            return Errors.connectionFailed({
              address: error.address,
              service: routed.service,
              client,
              addresses: [error.address],
              detail: error.reason === "tls" ? error.detail : undefined
            })
          }
          return Errors.other(error.message, false)
        case "ResponseFailure":
          return Errors.other(error.message, error.retryable)
        case "BindingError":
          return Errors.noRoute({
            service: routed.service,
            baseDtab: dentryLines(baseDtab),
            localDtab: dentryLines(routed.localDtab)
          })
      }
    }

    const callPath = (
      entry: PathStack.PathStack,
      routed: Routed,
      finish: (response: HttpResponse) => HttpResponse
    ): Effect.Effect<HttpResponse> =>
      Effect.match(entry.service.call(routed), {
        onSuccess: (response) => {
          const c = entry.classify(routed, Exit.succeed(response))
          response.headers[Headers.names.successClass] = c._tag === "Success" ? "1.0" : "0.0"
          if (routed.span !== undefined) traced(routed.span, response, c._tag === "Success" ? "success" : "failure")
          return finish(response)
        },
        onFailure: (error) => {
          const response = errorResponse(error, routed, entry.params)
          if (routed.span !== undefined) traced(routed.span, response, "failure")
          return finish(response)
        }
      })

    const traced = (span: Tracer.Span, response: HttpResponse, verdict: string) => {
      HttpTracing.recordResponse(span, response)
      span.attribute("weir.response_class", verdict)
    }

    /** Runs `run` for `routed` in a server span when `decision` samples it. */
    const withServerSpan = (
      tracing: Tracing.Tracing,
      decision: HttpTracing.Decision,
      routed: Routed,
      run: (routed: Routed) => Effect.Effect<HttpResponse>
    ): Effect.Effect<HttpResponse> => {
      if (!decision.sampled) return run(routed)
      HttpTracing.markTraced(routed.http)
      const parent = decision.parent
      const options = {
        kind: "server",
        sampled: true,
        root: parent === undefined,
        ...(parent !== undefined
          ? { parent: Tracer.externalSpan({ traceId: parent.traceId, spanId: parent.spanId, sampled: true }) }
          : {}),
        annotations: Context.make(Tracing.Origin, { traceId: decision.traceId, forced: decision.forced }),
        attributes: HttpTracing.serverAttributes(
          routed.http,
          label,
          routed.service,
          Dtab.show(routed.localDtab),
          Dtab.show(routed.dtab)
        )
      } as const
      return Effect.withTracer(
        Effect.useSpan(
          routed.service,
          options,
          (span) => Effect.withParentSpan(run({ ...routed, span }), span, { captureStackTrace: false })
        ),
        tracing.tracer
      )
    }

    const routeIdentified = (
      request: HttpRequest,
      context: Headers.Context,
      finish: (response: HttpResponse) => HttpResponse,
      capture: RecentRequests.Capture | undefined
    ): Effect.Effect<HttpResponse> => {
      const { deadline, localDtab, trace } = context
      const identified = identify(request)
      if (identified._tag === "Unidentified") {
        return Effect.succeed(finish(Errors.unknownDestination(request, identified.reason)))
      }
      const name = identified.name
      const service = identified.shown ?? Path.show(name)
      const decision = tracing === undefined
        ? undefined
        : HttpTracing.decide(tracing, identified.request, trace, context.sample)
      const span = decision === undefined ? Headers.childSpan(trace) : undefined
      const routed: Routed = {
        http: identified.request,
        name,
        service,
        dtab: Dtab.concat(baseDtab, localDtab),
        localDtab,
        requestId: span !== undefined ? span.traceId : decision!.requestId,
        trace: span !== undefined ? Headers.encodeTrace(span) : decision!.l5d
      }
      if (capture !== undefined) {
        capture.service = service
        RequestCapture.track(routed.http, capture)
      }
      const runRouted = (routed: Routed) => {
        const entry = paths.getNow(service)
        return entry !== undefined
          ? callPath(entry, routed, finish)
          : Effect.flatMap(paths.get(service), (e) => callPath(e, routed, finish))
      }
      const run = decision === undefined ? runRouted(routed) : withServerSpan(tracing!, decision, routed, runRouted)
      return deadline === undefined ? run : Deadline.withDeadline(run, deadline)
    }

    /**
     * Routes one request; `metrics` (with the request's start time) records the response, whichever
     * way it is produced. The one place where the recorder samples requests, HTTP/1.1 and HTTP/2 alike.
     */
    const route = (
      original: HttpRequest,
      clearContext: boolean,
      metrics: ServerMetrics | undefined,
      start: number
    ): Effect.Effect<HttpResponse> => {
      if (original.method === "CONNECT") {
        if (!connectEnabled) return Effect.succeed(recorded(Errors.connectDisabled(label), metrics, start))
        // the authority is where the tunnel goes: it is what identification reads
        original.headers["host"] = original.url
      }
      if (recorder === undefined) return routeCaptured(original, clearContext, metrics, start, undefined)
      const capture = RequestCapture.begin(recorder, label, original)
      return capture === undefined
        ? routeCaptured(original, clearContext, metrics, start, undefined)
        : RequestCapture.around(recorder, capture, routeCaptured(original, clearContext, metrics, start, capture))
    }

    const routeCaptured = (
      original: HttpRequest,
      clearContext: boolean,
      metrics: ServerMetrics | undefined,
      start: number,
      capture: RecentRequests.Capture | undefined
    ): Effect.Effect<HttpResponse> => {
      const rewritten = original.url.charCodeAt(0) === 47 ? original : proxyRewrite(original)
      if (clearContext) {
        Headers.stripL5d(rewritten.headers)
        HttpTracing.clearTraceContext(rewritten.headers)
      }
      if (Headers.viaCount(rewritten.headers) > maxCallDepth) {
        return Effect.succeed(recorded(Errors.maxCallDepth(maxCallDepth), metrics, start))
      }
      const ctx = Headers.readContext(rewritten.headers)
      if (Result.isFailure(ctx)) {
        return Effect.succeed(recorded(Errors.badDtab(ctx.failure.header, ctx.failure.detail), metrics, start))
      }
      const headers = Headers.withoutHopByHop(rewritten.headers, "expect")
      const request = headers === rewritten.headers ? rewritten : { ...rewritten, headers }
      Headers.appendVia(headers, request.version)
      return routeIdentified(request, ctx.success, (upstream) => {
        const response = Errors.isRouterError(upstream) ? upstream : withoutHopByHop(upstream)
        const rh = response.headers
        Headers.appendVia(rh, request.version)
        if (capture !== undefined) capture.error = header(rh, Headers.names.err)
        if (clearContext) {
          const wasError = rh[Headers.names.err] !== undefined
          Headers.stripL5d(rh)
          if (wasError) {
            rh["content-length"] = "0"
            return recorded({ ...response, body: empty }, metrics, start)
          }
        }
        return recorded(response, metrics, start)
      }, capture)
    }

    const serverHandler = (config: ServerConfig) => {
      const clearContext = config.clearContext ?? false
      const timestampHeader = config.timestampHeader?.toLowerCase()
      const forwarded = config.addForwardedHeader === undefined ? undefined : Forwarded.make(config.addForwardedHeader)
      let local = `${config.ip ?? "127.0.0.1"}:${config.port ?? 4140}`
      const maxConcurrent = config.maxConcurrentRequests ?? Infinity
      let metrics = serverMetrics(Stats.noop)
      // how long admitted requests waited for a slot under maxConcurrentRequests (no queue without it)
      let queue = Stats.noop.histogram("queue_latency_ms")
      // how long requests waited for a slice of the event loop (past 64 starts in one turn; Server's
      // `onQueued`): registered when the first one waits
      let serverStats: Stats.StatsReceiver = Stats.noop
      let loopQueue: Stats.Histogram | undefined
      const rejected = Errors.overloaded(`too many requests (maxConcurrentRequests ${maxConcurrent})`)
      const reject = (m: ServerMetrics, start: number): HttpResponse => {
        m.overloaded.incr()
        const r = { ...rejected, headers: { ...rejected.headers } }
        if (clearContext) {
          Headers.stripL5d(r.headers)
          return recorded({ ...r, body: empty }, m, start)
        }
        return recorded(r, m, start)
      }
      // linkerd's maxConcurrentRequests/maxPending: the core admission filter, a full queue rejected with 503
      const admission = maxConcurrent === Infinity
        ? undefined
        : Admission.makeUnsafe<HttpRequest, HttpResponse, never, never>(
          { maxConcurrency: maxConcurrent, maxPending: config.maxPending ?? 0 },
          Stats.noop
        )
      const stamps = timestampHeader !== undefined || forwarded !== undefined
      const handler = (incoming: HttpRequest): Effect.Effect<HttpResponse> => {
        const start = performance.now()
        // the client's Connection-listed headers go before weir adds its own: `Connection: forwarded`
        // must not strip this hop's Forwarded element (route strips them again, finding none)
        const clean = stamps ? Headers.withoutHopByHop(incoming.headers, "expect") : incoming.headers
        const request = clean === incoming.headers ? incoming : { ...incoming, headers: clean }
        if (timestampHeader !== undefined) request.headers[timestampHeader] = String(Date.now())
        if (forwarded !== undefined) forwarded(request, local)
        const m = metrics
        m.requests.incr()
        if (admission === undefined) return route(request, clearContext, m, start)
        const q = queue
        return Effect.catch(
          admission.apply(request, {
            call: (r) => {
              q.add(performance.now() - start)
              return route(r, clearContext, m, start)
            },
            status: "Open"
          }),
          () => Effect.succeed(reject(m, start))
        )
      }
      return {
        handler,
        status: (code: number) => metrics.status(code),
        queued: (ms: number) => (loopQueue ??= serverStats.histogram("loop_queue_latency_ms")).add(ms),
        setStats: (stats: Stats.StatsReceiver) => {
          metrics = serverMetrics(stats)
          serverStats = stats
          loopQueue = undefined
          if (admission !== undefined) queue = stats.histogram("queue_latency_ms")
        },
        setLocal: (address: string) => {
          local = address
        }
      }
    }

    const core: Core = {
      route: (request) => route(request, false, undefined, 0),
      clients: clients.values,
      serverHandler
    }
    return core
  })

/**
 * The handler one server of a router would run, without the server: requests go through admission,
 * server stats (under `rt/<label>/server/<ip>/<port>/`, `port` defaulting to `4140`), identification,
 * the path stack and the clients exactly as behind `make`'s servers. A testing and benchmarking seam
 * (`bench/router` drives it with the upstreams replaced through `DstClient.UpstreamMaker`); `servers`
 * is ignored.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeHandler = (
  options: Omit<Options, "servers">,
  server?: ServerConfig
): Effect.Effect<(request: HttpRequest) => Effect.Effect<HttpResponse>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const rootStats = options.stats ?? (yield* Stats.Receiver)
    const core = yield* makeCore({ ...options, stats: rootStats })
    const config = server ?? {}
    const h = core.serverHandler(config)
    h.setStats(rootStats.scope("rt", options.label, "server", config.ip ?? "127.0.0.1", String(config.port ?? 4140)))
    return h.handler
  })

/**
 * Starts a router: binds every server, serves until the scope closes (which drains).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Router, Server.ListenError, Scope.Scope> =>
  Effect.gen(function*() {
    const label = options.label
    const rootStats = options.stats ?? (yield* Stats.Receiver)
    const rt = rootStats.scope("rt", label)
    const core = yield* makeCore({ ...options, stats: rootStats })
    const servers: Array<Server.Server> = []
    for (const config of options.servers) {
      const ip = config.ip ?? "127.0.0.1"
      const h = core.serverHandler(config)
      const serverOptions = {
        ...config,
        ip,
        onClientError: (status: number, code: string) => {
          h.status(status)
          config.onClientError?.(status, code)
        },
        onQueued: (ms: number) => {
          h.queued(ms)
          config.onQueued?.(ms)
        }
      }
      const server = options.protocol === "h2"
        ? yield* H2Server.make(serverOptions, h.handler)
        : yield* Server.make(serverOptions, h.handler)
      const s = rt.scope("server", ip, String(server.port))
      h.setStats(s)
      h.setLocal(`${server.ip}:${server.port}`)
      const unregister = [
        s.gauge(["pending"], () => server.inFlight()),
        s.gauge(["connections"], () => server.connections())
      ]
      yield* Effect.addFinalizer(() => Effect.sync(() => unregister.forEach((f) => f())))
      servers.push(server)
    }

    const router: Router = {
      label,
      servers,
      route: core.route,
      clients: core.clients,
      drain: (grace) => Effect.asVoid(Effect.all(servers.map((s) => s.drain(grace)), { concurrency: "unbounded" }))
    }
    return router
  })
