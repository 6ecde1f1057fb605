/**
 * The client of one bound destination (a bound id such as `/$/inet/127.0.0.1/8080` or
 * `/#/io.l5d.fs/books`): a load balancer over the destination's live address set, each endpoint a
 * pooled `Upstream`, under the client stack. Routers cache one per bound id and close it when it has
 * been idle for a while.
 *
 * Client stack, top first (linkerd 1.x's order):
 *
 * 1. stats — `rt/<router>/client/<id>/`: `requests`, `success`, `failures`, `failures/<tag>`,
 *    `status/<code>`, `status/<N>XX`, `request_latency_ms`, `pending`, `connections`, `connects`.
 * 2. attempt timeout (`requestAttemptTimeoutMs`) — bounds one attempt, requeues included.
 * 3. requeues (`requeueBudget`) — resends at once a request that certainly never reached a server
 *    (`ConnectionFailed` with `written: false`, a node that closed under us).
 * 4. load balancer (`loadBalancer`) — picks an endpoint; its stats under `loadbalancer/`.
 * 5. per endpoint: failure accrual (`failureAccrual`), then the pooled connection.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { Address } from "../Address.js"
import { key as addressKey } from "../Address.js"
import type * as ClientConfig from "../config/Client.js"
import type { Failure } from "../Failure.js"
import * as Filter from "../Filter.js"
import * as Aperture from "../loadbalancer/Aperture.js"
import type * as Engine from "../loadbalancer/Engine.js"
import * as Heap from "../loadbalancer/Heap.js"
import * as P2C from "../loadbalancer/P2C.js"
import * as P2CEwma from "../loadbalancer/P2CEwma.js"
import * as RoundRobin from "../loadbalancer/RoundRobin.js"
import * as Name from "../naming/Name.js"
import * as Backoff from "../resilience/Backoff.js"
import * as Deadline from "../resilience/Deadline.js"
import * as FailureAccrual from "../resilience/FailureAccrual.js"
import * as Requeues from "../resilience/Requeues.js"
import type * as ResponseClass from "../resilience/ResponseClass.js"
import * as RetryBudget from "../resilience/RetryBudget.js"
import * as Timeout from "../resilience/Timeout.js"
import type { Service } from "../Service.js"
import type { Counter, StatsReceiver } from "../Stats.js"
import * as Stats from "../Stats.js"
import type { HttpRequest, HttpResponse } from "./Message.js"
import * as Upstream from "./Upstream.js"

/**
 * Per-destination client parameters: linkerd's `client` section keys (decoded by
 * `config/Client.ts`), all optional, plus the connection pool.
 *
 * @since 0.1.0
 * @category model
 */
export interface Params {
  /** Defaults to `{kind: p2c, maxEffort: 5}`. */
  readonly loadBalancer?: ClientConfig.LoadBalancer | undefined
  /** Defaults to 5 consecutive failures with equal-jittered backoff 5 s … 300 s. */
  readonly failureAccrual?: ClientConfig.FailureAccrual | undefined
  /** Defaults to `{ttlSecs: 10, minRetriesPerSec: 10, percentCanRetry: 0.2}`. */
  readonly requeueBudget?: ClientConfig.Budget | undefined
  /** Per-attempt timeout. Defaults to none. */
  readonly requestAttemptTimeoutMs?: Duration.Duration | undefined
  /** Connection pool settings. Defaults as in `Upstream.Options`. */
  readonly hostConnectionPool?: Upstream.Options | undefined
}

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

/**
 * The balancer factory for a `loadBalancer` config.
 *
 * @since 0.1.0
 * @category constructors
 */
export const balancerFactory = (config: ClientConfig.LoadBalancer | undefined): Engine.Factory => {
  if (config === undefined) return P2C.factory()
  switch (config.kind) {
    case "p2c":
      return P2C.factory({ maxEffort: config.maxEffort })
    case "ewma":
      return P2CEwma.factory({ maxEffort: config.maxEffort, decayTime: config.decayTimeMs })
    case "aperture":
      return Aperture.factory({
        maxEffort: config.maxEffort,
        smoothWindow: config.smoothWindowMs,
        lowLoad: config.lowLoad,
        highLoad: config.highLoad,
        minAperture: config.minAperture
      })
    case "heap":
      return Heap.factory()
    case "roundRobin":
      return RoundRobin.factory({ maxEffort: config.maxEffort })
  }
}

/**
 * The failure accrual policy for a `failureAccrual` config.
 *
 * @since 0.1.0
 * @category constructors
 */
export const accrualPolicy = (config: ClientConfig.FailureAccrual | undefined): FailureAccrual.Policy => {
  if (config === undefined) return FailureAccrual.defaultPolicy
  const backoff = (b: ClientConfig.Backoff | undefined): Backoff.Backoff =>
    b === undefined
      ? FailureAccrual.defaultBackoff
      : b.kind === "constant"
      ? Backoff.constant(b.ms)
      : Backoff.decorrelatedJittered(b.minMs, b.maxMs)
  switch (config.kind) {
    case "io.l5d.consecutiveFailures":
      return FailureAccrual.consecutiveFailures({ failures: config.failures, backoff: backoff(config.backoff) })
    case "io.l5d.successRate":
      return FailureAccrual.successRate(config.successRate, config.requests, { backoff: backoff(config.backoff) })
    case "io.l5d.successRateWindowed":
      return FailureAccrual.successRateWindowed(config.successRate, config.window, { backoff: backoff(config.backoff) })
    case "none":
      return FailureAccrual.none
  }
}

/** Failure accrual counts errors and 5XX responses as failures (linkerd's default classification). */
const accrualClassifier: ResponseClass.ResponseClassifier<HttpRequest, HttpResponse, Failure> = (_request, exit) =>
  exit._tag === "Success" && exit.value.status < 500
    ? { _tag: "Success" }
    : { _tag: "Failed", retryable: false }

/**
 * When a response still streaming ends (an h2 response's trailers settle when its stream closes):
 * the balancer counts the stream as load until then.
 */
const streamEnd = (response: unknown): PromiseLike<unknown> | undefined => {
  const r = response as HttpResponse
  return r.body._tag === "Stream" ? r.trailers?.settled : undefined
}

const statusClass = (status: number): string => `${Math.floor(status / 100)}XX`

const statsFilter = (
  stats: StatsReceiver
): readonly [() => void, Filter.Filter<HttpRequest, HttpResponse, Failure, never>] => {
  const requests = stats.counter("requests")
  const success = stats.counter("success")
  const failures = stats.counter("failures")
  const latency = stats.histogram("request_latency_ms")
  const byStatus = new Map<number, readonly [Counter, Counter]>()
  // the last status's counters: most responses of a client have the status of the one before
  let lastStatus = -1
  let last: readonly [Counter, Counter] | undefined
  const countStatus = (status: number) => {
    let c = status === lastStatus ? last : byStatus.get(status)
    if (c === undefined) {
      c = [stats.counter("status", String(status)), stats.counter("status", statusClass(status))]
      byStatus.set(status, c)
    }
    lastStatus = status
    last = c
    c[0].incr()
    c[1].incr()
  }
  const failuresOf = Stats.counters(stats, "failures")
  let pending = 0
  const unregister = stats.gauge(["pending"], () => pending)
  return [
    unregister,
    Filter.make((request, next) => {
      const start = performance.now()
      requests.incr()
      pending++
      // onExitPrimitive: the recording is synchronous, so no finalizer effect is run after it
      return Effect.onExitPrimitive(next.call(request), (exit) => {
        pending--
        latency.add(performance.now() - start)
        if (exit._tag === "Success") {
          const status = exit.value.status
          countStatus(status)
          if (status >= 500) failures.incr()
          else success.incr()
        } else {
          failures.incr()
          const error = exit.cause.reasons.find((r) => r._tag === "Fail")
          const tag = error === undefined
            ? "interrupted"
            : String((error as { error: { _tag?: unknown } }).error?._tag ?? "unknown")
          failuresOf(tag).incr()
        }
        return undefined
      })
    })
  ]
}

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
    const policy = accrualPolicy(params.failureAccrual)
    const accrualStats = stats.scope("failure_accrual")
    const endpoint = (address: Address) =>
      Effect.gen(function*() {
        const key = addressKey(address)
        const up = yield* makeUpstream(address, params.hostConnectionPool)
        upstreams.set(key, up)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            connectsBefore += up.connects()
            upstreams.delete(key)
          })
        )
        if (policy._tag === "None") {
          const leaf: Service<HttpRequest, HttpResponse, Failure> = {
            call: (request) =>
              Effect.withFiber((fiber) => {
                const deadline = fiber.getRef(Deadline.Current)
                if (deadline !== undefined) request.headers[Deadline.headerName] = Deadline.encode(deadline)
                return up.call(request)
              }),
            get status() {
              return up.status
            }
          }
          return leaf
        }
        const accrual = yield* FailureAccrual.makeUnsafe<HttpRequest, HttpResponse, Failure, never>(
          policy,
          accrualClassifier,
          accrualStats
        )
        // failure accrual over the leaf, fused: what `Filter.toService(accrual, leaf)` does (accrual's
        // start, the deadline header, the call, accrual's record on exit) in one step instead of three
        const mapStatus = accrual.status!
        const guarded: Service<HttpRequest, HttpResponse, Failure> = {
          call: (request) =>
            Effect.withFiber((fiber) => {
              accrual.enter()
              const deadline = fiber.getRef(Deadline.Current)
              if (deadline !== undefined) request.headers[Deadline.headerName] = Deadline.encode(deadline)
              return Effect.onExitPrimitive(up.call(request), (exit) => accrual.record(request, exit))
            }),
          get status() {
            return mapStatus(up.status)
          }
        }
        return guarded
      })
    const factory = balancerFactory(params.loadBalancer)
    const balancer = yield* factory.make(Name.addresses(bound), endpoint, { label: id, stats, loadUntil: streamEnd })
    const budget = params.requeueBudget === undefined
      ? RetryBudget.fromSettings(RetryBudget.defaults)
      : RetryBudget.fromSettings({
        ttl: params.requeueBudget.ttlSecs,
        minRetriesPerSec: params.requeueBudget.minRetriesPerSec,
        percentCanRetry: Math.min(1, params.requeueBudget.percentCanRetry)
      })
    const retriesStats = stats.scope("retries")
    gauges.push(retriesStats.gauge(["budget"], () => budget.balanceUnsafe(Date.now())))
    let service: Service<HttpRequest, HttpResponse, Failure> = Filter.toService(
      Requeues.makeUnsafe<HttpRequest, HttpResponse, Failure, never>({
        budget,
        backoff: Backoff.immediate,
        maxRequeuesPerRequest: 0.2,
        classifier: (_request, exit) =>
          exit._tag === "Success" ? { _tag: "Success" } : { _tag: "Failed", retryable: false },
        stats: retriesStats
      }),
      balancer
    )
    const attempt = params.requestAttemptTimeoutMs
    if (attempt !== undefined && Duration.isFinite(attempt)) {
      service = Filter.toService(
        Timeout.makeUnsafe<HttpRequest, HttpResponse, Failure, never>(attempt, "attempt", true, stats),
        service
      )
    }
    const [unregisterPending, top] = statsFilter(stats)
    gauges.push(unregisterPending)
    service = Filter.toService(top, service)
    const client: DstClient = {
      id,
      call: service.call,
      get status() {
        return balancer.status
      },
      addresses: () => balancer.nodes().map((n) => n.key)
    }
    return client
  })
