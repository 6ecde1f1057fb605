/**
 * The machinery every balancer shares (Finagle's `Balancer` + `Updating`): it watches a stream of
 * address sets, keeps one node per `Address.key` (so load state survives updates), asks the
 * algorithm's distributor for picks, skips nodes that are not `Open` for up to `maxEffort` picks and
 * then sends anyway (panic mode), and records the balancer's stats. Algorithms (`P2C`, `P2CEwma`,
 * `RoundRobin`, `Heap`, `Aperture`) only supply a load metric and a distributor.
 *
 * Users normally go through `Balancer` (the `Balancer.Factory` param).
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { Address } from "../Address.js"
import { key as addressKey } from "../Address.js"
import * as Endpoint from "../Endpoint.js"
import type { Overloaded } from "../Failure.js"
import { NoBrokersAvailable, RequestTimeout } from "../Failure.js"
import { InvalidOption } from "../resilience/InvalidOption.js"
import { callOn, type Service, type Status } from "../Service.js"
import type { StatsReceiver } from "../Stats.js"
import { Receiver } from "../Stats.js"
import * as Load from "./Load.js"
import * as P2CPick from "./P2CPick.js"

/**
 * What a distributor sees of a node.
 *
 * @since 0.1.0
 * @category model
 */
export interface Node {
  readonly key: string
  readonly address: Address
  /** Relative share of traffic (the address weight, `1` by default). */
  readonly weight: number
  /** A random number drawn when the node was created; stable for the node's life. */
  readonly token: number
  readonly status: Status
  /** The load metric's current value. */
  readonly load: number
  /** Requests in flight. */
  readonly pending: number
}

/**
 * Read on every pick: time in milliseconds (from Effect's `Clock`, so `TestClock` drives it) and
 * random numbers (from Effect's `Random`, so a seed makes picks reproducible). Both are captured
 * when the balancer is built.
 *
 * @since 0.1.0
 * @category model
 */
export interface Env {
  readonly now: () => number
  /** A double in [0, 1). */
  readonly nextDouble: () => number
  /** An integer in [0, n). */
  readonly nextInt: (n: number) => number
  readonly stats: StatsReceiver
}

/**
 * The picking half of an algorithm. `rebuild` is called with the whole node vector (never empty)
 * whenever it changes; `pick` chooses one node of the last vector given to `rebuild`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Distributor<N extends Node = Node> {
  readonly rebuild: (nodes: ReadonlyArray<N>) => void
  readonly pick: () => N
  /** Whether the vector should be rebuilt (a node changed status since the last build). */
  readonly needsRebuild?: (() => boolean) | undefined
  /** A request starts on `node` (after its metric was told). */
  readonly onStart?: ((node: N) => void) | undefined
  /** A request on `node` ended (after its metric was told). */
  readonly onEnd?: ((node: N) => void) | undefined
  /** The balancer closed (unregister gauges). */
  readonly close?: (() => void) | undefined
}

/**
 * An algorithm: a name for stats, a load metric per node and a distributor.
 *
 * @since 0.1.0
 * @category model
 */
export interface Algorithm {
  /** Finagle's stats label, e.g. `p2c_least_loaded`. */
  readonly name: string
  /** Picks tried while looking for an `Open` node before panicking. */
  readonly maxEffort: number
  readonly metric: Load.MetricFactory
  readonly distributor: (env: Env) => Distributor
}

/**
 * Options for one balancer instance.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** The destination's name, used in `NoBrokersAvailable` (Finagle's `ErrorLabel`). Defaults to `"balancer"`. */
  readonly label?: string | undefined
  /**
   * How long a request waits for the first address set. By default it waits as long as it takes
   * (the caller's own timeout bounds it); when given, it fails with `RequestTimeout` (`binding`).
   */
  readonly bindingTimeout?: Duration.Input | undefined
  /** Where stats go (under `loadbalancer/`). Defaults to the `Stats.Receiver` param. */
  readonly stats?: StatsReceiver | undefined
  /**
   * For a response that is still streaming when its call returns (an HTTP/2 stream), when it ends:
   * the node's load counts it until then (`Endpoint.Hooks.loadUntil`). Defaults to none (a request
   * counts until its call returns).
   */
  readonly loadUntil?: ((response: unknown) => PromiseLike<unknown> | undefined) | undefined
}

/**
 * What a balancer reports about one of its nodes.
 *
 * @since 0.1.0
 * @category model
 */
export interface NodeInfo {
  readonly key: string
  readonly address: Address
  readonly status: Status
  readonly load: number
  readonly pending: number
}

/**
 * A balanced service: a `Service` over the current address set, plus a view of its nodes.
 * Its status is the best of its nodes' statuses (`Closed` when empty).
 *
 * @since 0.1.0
 * @category model
 */
export interface Balanced<in Req, out Rep, out E = never, out R = never>
  extends Service<Req, Rep, E | Overloaded | NoBrokersAvailable | RequestTimeout, R>
{
  /** The balancer's algorithm (stats label). */
  readonly algorithm: string
  /** The current nodes, in the balancer's order. */
  readonly nodes: () => ReadonlyArray<NodeInfo>
  /** Whether an address set has arrived yet. */
  readonly ready: boolean
}

/**
 * Builds balancers of one kind; supplied as the `Balancer.Factory` param.
 *
 * @since 0.1.0
 * @category model
 */
export interface Factory {
  /** linkerd's `loadBalancer.kind`: `roundRobin`, `p2c`, `ewma`, `heap` or `aperture`. */
  readonly kind: string
  readonly make: <Req, Rep, E, R, EA = never, RA = never, RE = never>(
    addresses: Stream.Stream<ReadonlyArray<Address>, EA, RA>,
    endpoint: (address: Address) => Effect.Effect<Service<Req, Rep, E, R>, never, Scope.Scope | RE>,
    options?: Options
  ) => Effect.Effect<Balanced<Req, Rep, E, R>, never, Scope.Scope | RA | RE>
}

interface LiveNode<Req, Rep, E, R> extends Node {
  address: Address
  weight: number
  readonly endpoint: Endpoint.Endpoint<Req, Rep, E, R>
  readonly metric: Load.Metric
  readonly scope: Scope.Closeable
}

/**
 * Checks a balancer option when the balancer is configured, never at request time: throws
 * `InvalidOption` naming the constructor and the option when `valid` is false.
 *
 * @since 0.1.0
 * @category validation
 */
export const check = <A>(module: string, option: string, value: A, valid: boolean, expected: string): A => {
  if (!valid) throw new InvalidOption({ module, option, expected, actual: value })
  return value
}

/**
 * `maxEffort` checked (an integer ≥ 0); defaults to `5`, linkerd's value.
 *
 * @since 0.1.0
 * @category validation
 */
export const checkMaxEffort = (module: string, maxEffort: number | undefined): number =>
  maxEffort === undefined
    ? 5
    : check(module, "maxEffort", maxEffort, Number.isInteger(maxEffort) && maxEffort >= 0, "an integer >= 0")

/**
 * A duration option in milliseconds, checked (finite and ≥ 0, or > 0 when `positive`).
 *
 * @since 0.1.0
 * @category validation
 */
export const checkMillis = (
  module: string,
  option: string,
  input: Duration.Input | undefined,
  fallback: number,
  positive = false
): number => {
  if (input === undefined) return fallback
  const ms = Option.getOrUndefined(Option.map(Duration.fromInput(input), Duration.toMillis))
  const ok = ms !== undefined && Number.isFinite(ms) && (positive ? ms > 0 : ms >= 0)
  check(module, option, input, ok, positive ? "a positive finite duration" : "a finite duration >= 0")
  return ms!
}

/**
 * The pick loop: up to `maxEffort` picks looking for an `Open` node; if none is found, `onPanic`
 * and one more pick, used whatever its status (panic mode fails open). `rebuild` runs when the
 * distributor asks for it.
 *
 * @since 0.1.0
 * @category picking
 */
export const pickWithEffort = <N extends Node>(
  dist: Distributor<N>,
  maxEffort: number,
  onPanic: () => void,
  rebuild: () => void
): N => {
  for (let i = 0; i < maxEffort; i++) {
    const node = dist.pick()
    if (node.status === "Open") {
      if (dist.needsRebuild?.() === true) rebuild()
      return node
    }
  }
  onPanic()
  if (dist.needsRebuild?.() === true) rebuild()
  return dist.pick()
}

/**
 * Turns an algorithm into a balancer `Factory` of the given kind.
 *
 * @since 0.1.0
 * @category constructors
 */
export const factory = (kind: string, algorithm: Algorithm): Factory => ({
  kind,
  make: (addresses, endpoint, options) => make(algorithm, addresses, endpoint, options)
})

/**
 * Builds one balancer. The address stream is consumed in a fiber of the current scope; each
 * endpoint lives in its own child scope, closed (after draining) when its address leaves the set or
 * the balancer's scope closes. A failure of the address stream keeps the last set (and is logged);
 * a stream that ends or fails before its first set leaves the balancer empty.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R, EA, RA, RE>(
  algorithm: Algorithm,
  addresses: Stream.Stream<ReadonlyArray<Address>, EA, RA>,
  endpoint: (address: Address) => Effect.Effect<Service<Req, Rep, E, R>, never, Scope.Scope | RE>,
  options?: Options
): Effect.Effect<Balanced<Req, Rep, E, R>, never, Scope.Scope | RA | RE> =>
  Effect.gen(function*() {
    const clock = yield* Clock.Clock
    const random = yield* Random.Random
    const receiver = options?.stats ?? (yield* Receiver)
    const stats = receiver.scope("loadbalancer")
    const label = options?.label ?? "balancer"
    const maxEffort = algorithm.maxEffort
    const env: Env = {
      now: () => Number(clock.monotonicTimeNanosUnsafe()) / 1e6,
      nextDouble: () => random.nextDoubleUnsafe(),
      nextInt: (n) => Math.floor(random.nextDoubleUnsafe() * n),
      stats
    }
    const dist = algorithm.distributor(env) as unknown as Distributor<LiveNode<Req, Rep, E, R>>
    const balancerScope = yield* Effect.scope

    let nodes: Array<LiveNode<Req, Rep, E, R>> = []
    const byKey = new Map<string, LiveNode<Req, Rep, E, R>>()
    let ready = false
    const readyLatch = yield* Deferred.make<void>()

    const panicked = stats.counter("panicked")
    const adds = stats.counter("adds")
    const removes = stats.counter("removes")
    const updates = stats.counter("updates")
    const rebuilds = stats.counter("rebuilds")
    const count = (status: Status) => () => {
      let n = 0
      for (const node of nodes) if (node.endpoint.status === status) n++
      return n
    }
    const unregister = [
      stats.gauge(["size"], () => nodes.length),
      stats.gauge(["available"], count("Open")),
      stats.gauge(["busy"], count("Busy")),
      stats.gauge(["closed"], count("Closed")),
      stats.gauge(["load"], () => {
        let total = 0
        for (const node of nodes) total += node.metric.load()
        return total
      })
    ]
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        unregister.forEach((f) => f())
        dist.close?.()
      })
    )

    const rebuild = () => {
      rebuilds.incr()
      if (nodes.length > 0) dist.rebuild(nodes)
    }

    const newNode = Effect.fnUntraced(function*(address: Address) {
      const scope = yield* Scope.fork(balancerScope, "sequential")
      const metric = algorithm.metric(env.now)
      const token = random.nextIntUnsafe()
      let node: LiveNode<Req, Rep, E, R> | undefined = undefined
      const hooks: Endpoint.Hooks = {
        onStart: () => {
          const stamp = metric.start()
          if (node !== undefined) dist.onStart?.(node)
          return stamp
        },
        onEnd: (stamp) => {
          metric.end(stamp)
          if (node !== undefined) dist.onEnd?.(node)
        },
        loadUntil: options?.loadUntil
      }
      const service = yield* Scope.provide(endpoint(address), scope)
      const ep = yield* Scope.provide(Endpoint.make(address, service, hooks), scope)
      const created: LiveNode<Req, Rep, E, R> = {
        key: ep.key,
        address,
        weight: address.weight,
        token,
        endpoint: ep,
        metric,
        scope,
        get status() {
          return ep.status
        },
        get load() {
          return metric.load()
        },
        get pending() {
          return ep.pending
        }
      }
      node = created
      return created
    })

    const update = Effect.fnUntraced(function*(next: ReadonlyArray<Address>) {
      updates.incr()
      const seen = new Map<string, Address>()
      for (const address of next) seen.set(addressKey(address), address)
      let changed = false
      const kept: Array<LiveNode<Req, Rep, E, R>> = []
      const removed: Array<LiveNode<Req, Rep, E, R>> = []
      for (const node of nodes) {
        const address = seen.get(node.key)
        if (address === undefined) {
          removed.push(node)
          continue
        }
        if (address.weight !== node.weight || address !== node.address) {
          if (address.weight !== node.weight) changed = true
          node.address = address
          node.weight = address.weight
        }
        kept.push(node)
        seen.delete(node.key)
      }
      for (const address of seen.values()) {
        kept.push(yield* newNode(address))
        adds.incr()
        changed = true
      }
      for (const node of removed) {
        byKey.delete(node.key)
        removes.incr()
        changed = true
      }
      for (const node of kept) byKey.set(node.key, node)
      nodes = kept
      if (changed) rebuild()
      if (!ready) {
        ready = true
        yield* Deferred.succeed(readyLatch, undefined)
      }
      for (const node of removed) {
        yield* Effect.forkIn(Scope.close(node.scope, Exit.void), balancerScope)
      }
    })

    const markReady = Effect.suspend(() => {
      if (ready) return Effect.void
      ready = true
      return Deferred.succeed(readyLatch, undefined)
    })

    yield* addresses.pipe(
      Stream.runForEach(update),
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.failCause(cause)
          : Effect.logWarning(`load balancer ${label}: address stream failed; keeping the last set`, cause)
      ),
      Effect.ensuring(markReady),
      Effect.forkIn(balancerScope)
    )

    const noBrokers = new NoBrokersAvailable({ name: label })

    const onPanic = () => panicked.incr()
    const pickNode = (): LiveNode<Req, Rep, E, R> => pickWithEffort(dist, maxEffort, onPanic, rebuild)

    const dispatch = (request: Req): Effect.Effect<Rep, E | Overloaded | NoBrokersAvailable, R> =>
      Effect.suspend((): Effect.Effect<Rep, E | Overloaded | NoBrokersAvailable, R> =>
        nodes.length === 0 ? Effect.fail(noBrokers) : pickNode().endpoint.call(request)
      )

    const bindingTimeout = options?.bindingTimeout === undefined
      ? undefined
      : Option.getOrUndefined(Duration.fromInput(options.bindingTimeout))
    const waitReady: Effect.Effect<void, RequestTimeout> = bindingTimeout === undefined
      ? Deferred.await(readyLatch)
      : Deferred.await(readyLatch).pipe(
        Effect.timeoutOrElse({
          duration: bindingTimeout,
          orElse: () => Effect.fail(new RequestTimeout({ scope: "binding", timeout: bindingTimeout }))
        })
      )

    const balanced: Balanced<Req, Rep, E, R> = {
      algorithm: algorithm.name,
      get ready() {
        return ready
      },
      get status(): Status {
        if (!ready) return "Busy"
        let best: Status = "Closed"
        for (const node of nodes) {
          const status = node.endpoint.status
          if (status === "Open") return status
          if (status === "Busy") best = status
        }
        return best
      },
      nodes: () =>
        nodes.map((node) => ({
          key: node.key,
          address: node.address,
          status: node.endpoint.status,
          load: node.metric.load(),
          pending: node.endpoint.pending
        })),
      call: (request) => ready ? dispatch(request) : Effect.flatMap(waitReady, () => dispatch(request)),
      // a caller on its fiber (`Service.callOn`, the requeue filter): the pick happens now, and the
      // endpoint's stack reads the same fiber
      callOn: (request, fiber) =>
        !ready
          ? Effect.flatMap(waitReady, () => dispatch(request))
          : nodes.length === 0
          ? Effect.fail(noBrokers)
          : callOn(pickNode().endpoint, request, fiber)
    }
    return balanced
  })

/**
 * The default algorithm: P2C over least loaded, `maxEffort` 5 (linkerd's `p2c`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultAlgorithm: Algorithm = {
  name: "p2c_least_loaded",
  maxEffort: 5,
  metric: Load.leastLoaded,
  distributor: P2CPick.distributor
}

/**
 * The balancer kind clients build with. Defaults to `p2c` (least loaded, `maxEffort` 5), linkerd's
 * default. Provide another with an algorithm module's `layer` (`P2CEwma.layer(...)`) or
 * `Balancer.layer`.
 *
 * @since 0.1.0
 * @category params
 */
export const Factory = Context.Reference<Factory>("weir/loadbalancer/Balancer/Factory", {
  defaultValue: () => factory("p2c", defaultAlgorithm)
})

/**
 * A layer supplying the `Factory` param.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (self: Factory): Layer.Layer<never> => Layer.succeed(Factory, self)
