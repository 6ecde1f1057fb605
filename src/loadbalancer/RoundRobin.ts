/**
 * Round robin (linkerd's `kind: roundRobin`, Finagle's `Balancers.roundRobin`, stats label
 * `round_robin`): nodes are taken in turn. Each build splits the vector into nodes that were `Open`
 * and the rest; picks cycle over the open ones (over the rest only when none is open), and the
 * vector is rebuilt as soon as a picked node turns out not `Open` or a skipped one is `Open` again.
 * Unequal weights use smooth weighted round robin (each node gets its weight's share, interleaved).
 * Round robin ignores load, so it will keep sending to a slow node; prefer `p2c` or `ewma`.
 *
 * ```yaml
 * loadBalancer:
 *   kind: roundRobin
 *   maxEffort: 5
 * ```
 *
 * @since 0.1.0
 */
import type * as Layer from "effect/Layer"
import * as Engine from "./Engine.js"
import * as Load from "./Load.js"

/**
 * Options of the `roundRobin` balancer.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** Picks tried for an `Open` node before sending anyway. Defaults to `5`. */
  readonly maxEffort?: number | undefined
}

/**
 * The round-robin distributor.
 *
 * @since 0.1.0
 * @category constructors
 */
export const distributor = (): Engine.Distributor => {
  let up: ReadonlyArray<Engine.Node> = []
  let down: ReadonlyArray<Engine.Node> = []
  let current: ReadonlyArray<Engine.Node> = []
  let weighted = false
  let credit: Array<number> = []
  let total = 0
  let counter = 0
  let sawDown = false
  return {
    rebuild: (nodes) => {
      up = nodes.filter((n) => n.status === "Open")
      down = nodes.filter((n) => n.status !== "Open")
      current = up.length > 0 ? up : down
      const w0 = current[0]!.weight
      weighted = current.some((n) => n.weight !== w0)
      credit = current.map(() => 0)
      total = current.reduce((sum, n) => sum + Math.max(0, n.weight), 0)
      sawDown = false
    },
    pick: () => {
      let node: Engine.Node
      if (weighted && total > 0) {
        let best = 0
        for (let i = 0; i < current.length; i++) {
          credit[i]! += Math.max(0, current[i]!.weight)
          if (credit[i]! > credit[best]!) best = i
        }
        credit[best]! -= total
        node = current[best]!
      } else {
        node = current[counter % current.length]!
        counter = (counter + 1) % 0x40000000
      }
      if (node.status !== "Open") sawDown = true
      return node
    },
    needsRebuild: () => sawDown || (up.length > 0 && down.some((n) => n.status === "Open"))
  }
}

/**
 * The algorithm: no load metric (loads read as requests in flight, for stats), round-robin picks.
 *
 * @since 0.1.0
 * @category constructors
 */
export const algorithm = (options?: Options): Engine.Algorithm => ({
  name: "round_robin",
  maxEffort: Engine.checkMaxEffort("RoundRobin", options?.maxEffort),
  metric: Load.leastLoaded,
  distributor: () => distributor()
})

/**
 * A `roundRobin` balancer factory.
 *
 * @since 0.1.0
 * @category constructors
 */
export const factory = (options?: Options): Engine.Factory => Engine.factory("roundRobin", algorithm(options))

/**
 * Supplies `Balancer.Factory` with `roundRobin`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<never> => Engine.layer(factory(options))
