/**
 * Power of two choices over least loaded (linkerd's `kind: p2c`, Finagle's `Balancers.p2c`, stats
 * label `p2c_least_loaded`): each pick draws two distinct nodes at random and sends to the one with
 * fewer requests in flight (per unit of weight). It is Finagle's default balancer; the gap between
 * any two nodes' loads stays within `O(ln ln n)`.
 *
 * ```yaml
 * loadBalancer:
 *   kind: p2c
 *   maxEffort: 5
 * ```
 *
 * @since 0.1.0
 */
import type * as Layer from "effect/Layer"
import * as Engine from "./Engine.js"
import * as Load from "./Load.js"
import * as P2CPick from "./P2CPick.js"

/**
 * Options of the `p2c` balancer.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** Picks tried for an `Open` node before sending anyway. Defaults to `5`. */
  readonly maxEffort?: number | undefined
}

/**
 * The algorithm: least-loaded metric, P2C distributor.
 *
 * @since 0.1.0
 * @category constructors
 */
export const algorithm = (options?: Options): Engine.Algorithm => ({
  name: "p2c_least_loaded",
  maxEffort: Engine.checkMaxEffort("P2C", options?.maxEffort),
  metric: Load.leastLoaded,
  distributor: P2CPick.distributor
})

/**
 * A `p2c` balancer factory.
 *
 * @since 0.1.0
 * @category constructors
 */
export const factory = (options?: Options): Engine.Factory => Engine.factory("p2c", algorithm(options))

/**
 * Supplies `Balancer.Factory` with `p2c`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<never> => Engine.layer(factory(options))
