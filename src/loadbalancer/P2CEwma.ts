/**
 * Power of two choices over peak EWMA (linkerd's `kind: ewma`, Finagle's `Balancers.p2cPeakEwma`,
 * stats label `p2c_peak_ewma`): each pick draws two distinct nodes and sends to the cheaper one,
 * where cost = peak-sensitive moving average of round-trip time × (requests in flight + 1). A slow
 * node's cost jumps at once and decays over `decayTime` (default 10 s); a new node with no history is
 * probed with one request and gets no second until the first returns (`Load.Penalty`).
 * Successes and failures are timed alike: pair it with failure accrual so a node that fails fast
 * does not look cheap. Source: "Beyond Round Robin: Load Balancing for Latency" (linkerd, 2016).
 *
 * ```yaml
 * loadBalancer:
 *   kind: ewma
 *   maxEffort: 5
 *   decayTimeMs: 10000
 * ```
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Layer from "effect/Layer"
import * as Engine from "./Engine.js"
import * as Load from "./Load.js"
import * as P2CPick from "./P2CPick.js"

/**
 * Options of the `ewma` balancer.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** Picks tried for an `Open` node before sending anyway. Defaults to `5`. */
  readonly maxEffort?: number | undefined
  /** Time constant of the moving average. Defaults to 10 seconds. */
  readonly decayTime?: Duration.Input | undefined
}

/**
 * The algorithm: peak-EWMA metric, P2C distributor.
 *
 * @since 0.1.0
 * @category constructors
 */
export const algorithm = (options?: Options): Engine.Algorithm => ({
  name: "p2c_peak_ewma",
  maxEffort: Engine.checkMaxEffort("P2CEwma", options?.maxEffort),
  metric: Load.peakEwma(Engine.checkMillis("P2CEwma", "decayTime", options?.decayTime, 10_000, true)),
  distributor: P2CPick.distributor
})

/**
 * An `ewma` balancer factory.
 *
 * @since 0.1.0
 * @category constructors
 */
export const factory = (options?: Options): Engine.Factory => Engine.factory("ewma", algorithm(options))

/**
 * Supplies `Balancer.Factory` with `ewma`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<never> => Engine.layer(factory(options))
