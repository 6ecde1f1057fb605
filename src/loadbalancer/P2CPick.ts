/**
 * The power-of-two-choices pick shared by `P2C`, `P2CEwma` and `Aperture`: draw two distinct nodes
 * at random, keep the better status, and between equal statuses the lower load per unit of weight
 * (ties go to the first draw). Finagle's `P2CPick` and `WeightedP2CPick`; the "Power of Two Choices
 * in Randomized Load Balancing" paper (Mitzenmacher, 2001) bounds the gap between any two loads by
 * `O(ln ln n)`.
 *
 * @since 0.1.0
 */
import { statusRank } from "../Service.js"
import type { Counter } from "../Stats.js"
import type { Distributor, Env, Node } from "./Engine.js"

const weightEpsilon = 0.0001

const perWeight = (load: number, weight: number): number =>
  weight > 0 ? load / weight : load === 0 ? Number.MAX_VALUE : Number.POSITIVE_INFINITY

/**
 * The better of two nodes: better status first, then lower `load / weight` (raw load when the
 * weights are within 0.0001), `a` on ties. `zero` counts comparisons where both loads were 0.
 *
 * @since 0.1.0
 * @category picking
 */
export const better = <N extends Node>(a: N, b: N, zero?: Counter): N => {
  const sa = a.status
  const sb = b.status
  if (sa !== sb) return statusRank(sa) >= statusRank(sb) ? a : b
  const la = a.load
  const lb = b.load
  if (la === 0 && lb === 0) zero?.incr()
  if (Math.abs(a.weight - b.weight) < weightEpsilon) return la <= lb ? a : b
  return perWeight(la, a.weight) <= perWeight(lb, b.weight) ? a : b
}

/**
 * Two distinct uniform indices in `[0, n)`, `n ≥ 2`: the second skips the first without bias.
 *
 * @since 0.1.0
 * @category picking
 */
export const twoDistinct = (env: Env, n: number): readonly [number, number] => {
  const a = env.nextInt(n)
  let b = env.nextInt(n - 1)
  if (b >= a) b++
  return [a, b]
}

/**
 * A P2C distributor over the whole vector. Records `p2c/zero` under the balancer's stats.
 *
 * @since 0.1.0
 * @category constructors
 */
export const distributor = <N extends Node = Node>(env: Env): Distributor<N> => {
  let vec: ReadonlyArray<N> = []
  const zero = env.stats.counter("p2c", "zero")
  return {
    rebuild: (nodes) => {
      vec = nodes
    },
    pick: () => {
      if (vec.length === 1) return vec[0]!
      const [a, b] = twoDistinct(env, vec.length)
      return better(vec[a]!, vec[b]!, zero)
    }
  }
}
