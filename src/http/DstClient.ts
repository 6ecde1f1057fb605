/**
 * The client of one bound destination (a bound id such as `/$/inet/127.0.0.1/8080` or
 * `/#/io.l5d.fs/books`): `ProxyStack.client` — `ClientStack`'s client and endpoint stacks over a
 * balancer of the destination's live address set — with a pooled `Upstream` per endpoint and the
 * HTTP modules inserted by role. Routers cache one per bound id and close it when it has been idle
 * for a while. The order is `ClientStack`'s table; HTTP adds:
 *
 * - `Stats` is replaced by the same stats filter counting `status/<code>` and `status/<N>XX` too
 *   (`rt/<router>/client/<id>/`: `requests`, `success`, `failures`, `failures/<tag>`, `status/…`,
 *   `request_latency_ms`, `pending`; plus `connections`, `connects`).
 * - `DeadlineHeader` at the bottom of the endpoint stack writes the request's deadline (set by the
 *   timeouts above, or inherited) as `l5d-ctx-deadline` for the next hop.
 *
 * Success, for stats and failure accrual, is the request's own classifier (its service's
 * `responseClassifier`, installed by the path stack), linkerd's `nonRetryable5XX` otherwise.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import type { Address } from "../Address.js"
import { key as addressKey } from "../Address.js"
import type { Failure } from "../Failure.js"
import type * as Balancer from "../loadbalancer/Balancer.js"
import * as Name from "../naming/Name.js"
import * as ProxyStack from "../ProxyStack.js"
import * as Deadline from "../resilience/Deadline.js"
import type * as FailureAccrual from "../resilience/FailureAccrual.js"
import type * as RetryBudget from "../resilience/RetryBudget.js"
import type { Service, Status } from "../Service.js"
import * as Stack from "../Stack.js"
import type { StatsReceiver } from "../Stats.js"
import * as StatsFilter from "../StatsFilter.js"
import * as Classifiers from "./Classifiers.js"
import type { HttpRequest, HttpResponse } from "./transport/Message.js"
import { streamEnd } from "./transport/Message.js"
import * as Upstream from "./transport/Upstream.js"

/**
 * Per-destination client parameters, as core values (linkerd's `client` section, interpreted).
 *
 * @since 0.1.0
 * @category model
 */
export interface Params {
  readonly balancer: Balancer.Factory
  readonly failureAccrual: FailureAccrual.Policy
  readonly requeueBudget: RetryBudget.Options
  /** Per attempt; `undefined` for none. */
  readonly attemptTimeout: Duration.Duration | undefined
  /** Connection pool settings. */
  readonly pool: Upstream.Options
}

/**
 * linkerd's client defaults (`ProxyStack.defaultClientParams`) and the default pool.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultParams: Params = { ...ProxyStack.defaultClientParams, pool: {} }

/**
 * The client of one destination.
 *
 * @since 0.1.0
 * @category model
 */
export interface DstClient extends Service<HttpRequest, HttpResponse, Failure> {
  /** The bound id, shown. */
  readonly id: string
  /** The current addresses (`ip:port`). */
  readonly addresses: () => ReadonlyArray<string>
  /** The roles of its client and endpoint stacks, top first. */
  readonly roles: { readonly client: ProxyStack.Roles; readonly endpoint: ProxyStack.Roles }
  /** A read-only view of its balancer and endpoints now (`/client_state.json`). */
  readonly inspect: () => Inspection
}

/**
 * What a client shows of itself: its balancer's kind and, per endpoint, the balancer's view (load,
 * weight, requests in flight, status), the failure accrual state and the open connections (and, on
 * HTTP/2, streams).
 *
 * @since 0.1.0
 * @category model
 */
export interface Inspection {
  readonly balancer: string
  readonly endpoints: ReadonlyArray<{
    /** `ip:port`. */
    readonly address: string
    readonly weight: number
    readonly load: number
    readonly pending: number
    readonly status: Status
    /** `undefined` when the client runs no failure accrual. */
    readonly accrual: FailureAccrual.State | undefined
    readonly connections: number
    /** Streams open, for an upstream that multiplexes (HTTP/2). */
    readonly streams?: number | undefined
  }>
}

/**
 * Builds the pooled connection to one address: `Upstream.make` unless replaced.
 *
 * @since 0.1.0
 * @category model
 */
export type UpstreamMaker = (
  address: Address,
  options?: Upstream.Options
) => Effect.Effect<Upstream.Upstream, never, Scope.Scope>

/**
 * The upstream maker routers build their clients with, read once when a router is made. Defaults to
 * `Upstream.make` (real connections). A testing and benchmarking seam: `bench/router` replaces it
 * with an in-memory upstream to measure the router's own per-request cost without sockets.
 *
 * @since 0.1.0
 * @category params
 */
export const UpstreamMaker = Context.Reference<UpstreamMaker>("weir/http/DstClient/UpstreamMaker", {
  defaultValue: () => Upstream.make
})

/** linkerd's default classification (`nonRetryable5XX`: errors and 5XX fail) where no path installed one. */
const defaultClassifier = Classifiers.httpClassifier(Classifiers.defaultKind)

/**
 * The `DeadlineHeader` module: writes the request's deadline as `l5d-ctx-deadline`; at the bottom of
 * the endpoint stack, so it carries the earliest of the timeouts above and the inherited deadline.
 *
 * @since 0.1.0
 * @category modules
 */
export const deadlineHeaderModule = (): Stack.Module<HttpRequest, HttpResponse, Failure, never> =>
  Stack.module(
    "DeadlineHeader",
    "Writes the request's deadline as l5d-ctx-deadline for the next hop; nearest the transport so it carries the earliest deadline.",
    (next) => {
      const callOn = (request: HttpRequest, fiber: Fiber.Fiber<unknown, unknown>) => {
        const deadline = fiber.getRef(Deadline.Current)
        if (deadline !== undefined) request.headers[Deadline.headerName] = Deadline.encode(deadline)
        return next.call(request)
      }
      return Effect.succeed({
        call: (request: HttpRequest) => Effect.withFiber((fiber) => callOn(request, fiber)),
        callOn,
        get status() {
          return next.status
        }
      })
    }
  )

/**
 * `ClientStack`'s client and endpoint stacks with the HTTP modules: `Stats` counting status codes,
 * `DeadlineHeader` at the bottom.
 *
 * @since 0.1.0
 * @category stacks
 */
export const stacks = (
  defaults: ProxyStack.ClientStacks<HttpRequest, HttpResponse, Failure, never>
): ProxyStack.ClientStacks<HttpRequest, HttpResponse, Failure, never> => ({
  client: Stack.replace(
    defaults.client,
    "Stats",
    StatsFilter.module<HttpRequest, HttpResponse, Failure, never>({ status: (r) => r.status })
  ),
  endpoint: Stack.append(defaults.endpoint, deadlineHeaderModule())
})

/**
 * Builds the client of `bound` in the current scope, recording under `stats`
 * (`rt/<router>/client/<id>`). Endpoints connect with `makeUpstream` (defaults to `Upstream.make`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  bound: Name.Bound,
  params: Params,
  stats: StatsReceiver,
  makeUpstream: UpstreamMaker = Upstream.make
): Effect.Effect<DstClient, never, Scope.Scope> =>
  Effect.gen(function*() {
    const id = Name.idString(bound)
    const upstreams = new Map<string, Upstream.Upstream>()
    let connectsBefore = 0
    const gauges: Array<() => void> = []
    yield* Effect.addFinalizer(() => Effect.sync(() => gauges.forEach((f) => f())))
    gauges.push(stats.gauge(["connections"], () => {
      let n = 0
      for (const u of upstreams.values()) n += u.connections()
      return n
    }))
    gauges.push(stats.gauge(["connects"], () => {
      let n = connectsBefore
      for (const u of upstreams.values()) n += u.connects()
      return n
    }))
    const connect = (address: Address) =>
      Effect.gen(function*() {
        const key = addressKey(address)
        const up = yield* makeUpstream(address, params.pool)
        upstreams.set(key, up)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            connectsBefore += up.connects()
            upstreams.delete(key)
          })
        )
        return up as Service<HttpRequest, HttpResponse, Failure>
      })
    const built = yield* ProxyStack.client<HttpRequest, HttpResponse, Failure, never>({
      label: id,
      addresses: Name.addresses(bound),
      connect,
      params,
      classifier: defaultClassifier,
      stats,
      stacks,
      loadUntil: streamEnd,
      settle: streamEnd
    })
    const client: DstClient = {
      id,
      call: built.call,
      get status() {
        return built.status
      },
      addresses: () => built.nodes().map((n) => n.key),
      roles: built.roles,
      inspect: () => ({
        balancer: built.balancer,
        endpoints: built.nodes().map((n) => {
          const up = upstreams.get(n.key) as (Upstream.Upstream & { readonly streams?: () => number }) | undefined
          return {
            address: n.key,
            weight: n.address.weight,
            load: n.load,
            pending: n.pending,
            status: n.status,
            accrual: built.accrual(n.key),
            connections: up?.connections() ?? 0,
            ...(typeof up?.streams === "function" ? { streams: up.streams() } : {})
          }
        })
      })
    }
    return client
  })
