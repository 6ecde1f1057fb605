/**
 * Load balancers. A balancer turns a stream of address sets (what a namer yields) and an endpoint
 * factory (the per-endpoint stack: connection, failure accrual, per-attempt timeout) into one
 * `Service` in a `Scope`:
 *
 * - Endpoints are keyed by `Address.key`: an address that stays keeps its endpoint and load state,
 *   a changed weight is updated in place. New addresses get an endpoint in a child scope; removed
 *   ones get no new requests, finish those in flight, then their scope closes.
 * - Each request picks a node with the algorithm; nodes that are not `Open` are skipped for up to
 *   `maxEffort` picks (default 5, as linkerd), then the last pick is used anyway (panic mode,
 *   counter `panicked`): the balancer fails open rather than refusing locally.
 * - An empty set fails with `NoBrokersAvailable` (not retryable). Before the first set arrives,
 *   requests wait for it; with `bindingTimeout` they fail with `RequestTimeout` (`binding`) instead.
 * - Status is the best of the nodes' statuses (`Closed` when empty, `Busy` before the first set).
 * - Stats under `loadbalancer/`: gauges `size`, `available`, `busy`, `closed`, `load`; counters
 *   `panicked`, `adds`, `removes`, `updates` (address sets received), `rebuilds`.
 * - Time and randomness come from Effect's `Clock` and `Random`, read when the balancer is built, so
 *   `TestClock` and `Random.withSeed` make every pick reproducible.
 *
 * Algorithms: `RoundRobin`, `P2C` (the default), `P2CEwma`, `Heap`, `Aperture`. Each module has a
 * `factory(options)` and a `layer(options)` supplying the `Balancer.Factory` param that clients read
 * when they build. linkerd's `loadBalancer` config is decoded and turned into a factory by the
 * balancer plugins (`config/balancer/`). Source: Finagle's load balancer guide and
 * `finagle-core/.../loadbalancer`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { Address } from "../Address.js"
import type { Service } from "../Service.js"
import * as Engine from "./Engine.js"

/**
 * A balanced service (see `Engine.Balanced`).
 *
 * @since 0.1.0
 * @category model
 */
export type Balanced<Req, Rep, E = never, R = never> = Engine.Balanced<Req, Rep, E, R>

/**
 * Options for one balancer instance: `label` (for `NoBrokersAvailable`), `bindingTimeout`, `stats`.
 *
 * @since 0.1.0
 * @category model
 */
export type Options = Engine.Options

/**
 * What a balancer reports about one node.
 *
 * @since 0.1.0
 * @category model
 */
export type NodeInfo = Engine.NodeInfo

/**
 * Builds balancers of one kind (`kind` + `make(addresses, endpoint, options)`).
 *
 * @since 0.1.0
 * @category model
 */
export type Factory = Engine.Factory

/**
 * The balancer kind clients build with (a `Context.Reference`). Defaults to `p2c` with
 * `maxEffort` 5, linkerd's default.
 *
 * @since 0.1.0
 * @category params
 */
export const Factory = Engine.Factory

/**
 * Builds a balancer with the kind in the `Factory` param.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R, EA = never, RA = never, RE = never>(
  addresses: Stream.Stream<ReadonlyArray<Address>, EA, RA>,
  endpoint: (address: Address) => Effect.Effect<Service<Req, Rep, E, R>, never, Scope.Scope | RE>,
  options?: Options
): Effect.Effect<Balanced<Req, Rep, E, R>, never, Scope.Scope | RA | RE> =>
  Effect.flatMap(Effect.service(Factory), (factory) => factory.make(addresses, endpoint, options))

/**
 * A layer supplying the `Factory` param.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (factory: Factory) => Layer.Layer<never> = Engine.layer
