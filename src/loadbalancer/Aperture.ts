/**
 * Random aperture (linkerd's `kind: aperture`, Finagle's `Balancers.aperture`, stats label
 * `aperture_least_loaded`): the balancer talks to a window ("aperture") of the nodes only, and
 * sizes the window from the offered load. Each node draws a random token when it is created; the
 * vector is ordered by token and then stably partitioned `Open`, `Busy`, `Closed`, and the aperture
 * is its first `n` nodes. Picks are P2C (least loaded per unit of weight) inside the aperture, with
 * the first draw weighted by address weight.
 *
 * The `LoadBand` controller: on every request start and end, the number of requests in flight is
 * folded into a moving average with time constant `smoothWindow`; when that average divided by the
 * aperture is at least `highLoad` the aperture widens by one, when it is at most `lowLoad` it
 * narrows by one, between `min(minAperture, size)` and `size`. Defaults are linkerd 1.x's
 * (`smoothWindowMs` 5000, `lowLoad` 0.5, `highLoad` 2.0, `minAperture` 1); Finagle later moved to
 * 15 s and [0.875, 1.125]. Unlike Finagle, a rebuild keeps the current aperture (clamped) instead of
 * restarting at the minimum.
 *
 * `deterministic` gives Finagle's deterministic aperture instead: peers that know their instance
 * id and count each take a fixed slice of the server ring, sized so every server is covered.
 *
 * ```yaml
 * loadBalancer:
 *   kind: aperture
 *   maxEffort: 5
 *   smoothWindowMs: 5000
 *   lowLoad: 0.5
 *   highLoad: 2.0
 *   minAperture: 1
 * ```
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Layer from "effect/Layer"
import { statusRank } from "../Service.js"
import * as Engine from "./Engine.js"
import * as Load from "./Load.js"
import * as P2CPick from "./P2CPick.js"

/**
 * Options of the `aperture` balancer.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** Picks tried for an `Open` node before sending anyway. Defaults to `5`. */
  readonly maxEffort?: number | undefined
  /** Time constant of the offered-load average. Defaults to 5 seconds. */
  readonly smoothWindow?: Duration.Input | undefined
  /** Narrow when load per aperture node is at most this. Defaults to `0.5`. */
  readonly lowLoad?: number | undefined
  /** Widen when load per aperture node is at least this. Defaults to `2.0`. */
  readonly highLoad?: number | undefined
  /** The smallest aperture (capped by the number of nodes). Defaults to `1`. */
  readonly minAperture?: number | undefined
}

/**
 * The aperture's state, for tests and the admin view.
 *
 * @since 0.1.0
 * @category model
 */
export interface State {
  readonly aperture: number
  readonly offeredLoad: number
}

const byStatus = (nodes: ReadonlyArray<Engine.Node>): Array<Engine.Node> =>
  [...nodes].sort((a, b) => statusRank(b.status) - statusRank(a.status) || a.token - b.token)

const checkOptions = (options: Options | undefined) => {
  const smoothWindow = Engine.checkMillis("Aperture", "smoothWindow", options?.smoothWindow, 5_000)
  const lowLoad = options?.lowLoad ?? 0.5
  const highLoad = options?.highLoad ?? 2.0
  const minAperture = options?.minAperture ?? 1
  Engine.check("Aperture", "lowLoad", lowLoad, Number.isFinite(lowLoad) && lowLoad >= 0, "a finite number >= 0")
  Engine.check(
    "Aperture",
    "highLoad",
    highLoad,
    Number.isFinite(highLoad) && highLoad > lowLoad,
    "a finite number > lowLoad"
  )
  Engine.check(
    "Aperture",
    "minAperture",
    minAperture,
    Number.isInteger(minAperture) && minAperture >= 1,
    "an integer >= 1"
  )
  return { smoothWindow, lowLoad, highLoad, minAperture }
}

/**
 * The random-aperture distributor with its load band. `onState` receives the state after every
 * change of the aperture (for tests).
 *
 * @since 0.1.0
 * @category constructors
 */
export const distributor = (options?: Options, onState?: (state: State) => void) => (env: Engine.Env) => {
  const { highLoad, lowLoad, minAperture, smoothWindow } = checkOptions(options)
  const widen = env.stats.counter("loadband", "widen")
  const narrow = env.stats.counter("loadband", "narrow")
  const ema = Load.makeEma(smoothWindow)
  let vec: ReadonlyArray<Engine.Node> = []
  let cumulative: Array<number> = []
  let builtOpen: Array<boolean> = []
  let downIndices: Array<number> = []
  let aperture = 1
  let total = 0
  let offered = 0
  const unregister = env.stats.gauge(["loadband", "offered_load_ema"], () => offered)
  const bounds = () => [Math.min(minAperture, vec.length), vec.length] as const
  const refreshCumulative = () => {
    let sum = 0
    cumulative = vec.map((n) => (sum += Math.max(0, n.weight)))
  }
  const band = (delta: number) => {
    total += delta
    offered = ema.update(env.now(), total)
    const [min, max] = bounds()
    const avg = offered / aperture
    if (avg >= highLoad && aperture < max) {
      aperture++
      widen.incr()
      onState?.({ aperture, offeredLoad: offered })
    } else if (avg <= lowLoad && aperture > min) {
      aperture--
      narrow.incr()
      onState?.({ aperture, offeredLoad: offered })
    }
  }
  const pickOne = (): number => {
    const limit = cumulative[aperture - 1]!
    if (!(limit > 0)) return env.nextInt(aperture)
    const p = env.nextDouble() * limit
    let lo = 0
    let hi = aperture - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! > p) hi = mid
      else lo = mid + 1
    }
    return lo
  }
  const distributor: Engine.Distributor & { readonly state: () => State } = {
    state: () => ({ aperture, offeredLoad: offered }),
    rebuild: (nodes) => {
      vec = byStatus(nodes)
      builtOpen = vec.map((n) => n.status === "Open")
      downIndices = []
      builtOpen.forEach((open, i) => open ? undefined : downIndices.push(i))
      refreshCumulative()
      const [min, max] = bounds()
      aperture = Math.max(min, Math.min(max, aperture))
    },
    pick: () => {
      if (aperture <= 1 || vec.length === 1) return vec[0]!
      const a = pickOne()
      let b = a
      for (let i = 0; i < 5 && b === a; i++) b = pickOne()
      if (b === a) b = (a + 1) % aperture
      return P2CPick.better(vec[a]!, vec[b]!)
    },
    needsRebuild: () => {
      for (let i = 0; i < aperture; i++) if (builtOpen[i] === true && vec[i]!.status !== "Open") return true
      for (const i of downIndices) if (vec[i]!.status === "Open") return true
      return false
    },
    onStart: () => band(1),
    onEnd: () => band(-1),
    close: unregister
  }
  return distributor
}

/**
 * The random-aperture algorithm.
 *
 * @since 0.1.0
 * @category constructors
 */
export const algorithm = (options?: Options, onState?: (state: State) => void): Engine.Algorithm => ({
  name: "aperture_least_loaded",
  maxEffort: Engine.checkMaxEffort("Aperture", options?.maxEffort),
  metric: Load.leastLoaded,
  distributor: (checkOptions(options), distributor(options, onState))
})

/**
 * An `aperture` balancer factory.
 *
 * @since 0.1.0
 * @category constructors
 */
export const factory = (options?: Options): Engine.Factory => Engine.factory("aperture", algorithm(options))

/**
 * Supplies `Balancer.Factory` with `aperture`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<never> => Engine.layer(factory(options))

/**
 * Options of the deterministic aperture: this process's place among its peers.
 *
 * @since 0.1.0
 * @category model
 */
export interface DeterministicOptions {
  /** This peer's index, `0 ≤ instanceId < totalInstances`; peers must use contiguous ids from 0. */
  readonly instanceId: number
  /** How many peers share the servers. */
  readonly totalInstances: number
  /** The aperture each peer wants, capped by the number of servers. Defaults to `12`, Finagle's. */
  readonly minAperture?: number | undefined
  /** Picks tried for an `Open` node before sending anyway. Defaults to `5`. */
  readonly maxEffort?: number | undefined
}

/**
 * The share of each ring position inside the slice `[offset, offset + width)` of the unit ring,
 * where position `i` owns the arc of its normalised weight. Finagle's `WeightedAperture.adjustWeights`.
 *
 * @since 0.1.0
 * @category deterministic
 */
export const sliceWeights = (weights: ReadonlyArray<number>, offset: number, width: number): Array<number> => {
  const total = weights.reduce((sum, w) => sum + Math.max(0, w), 0)
  const out = weights.map(() => 0)
  if (total <= 0 || width <= 0) return out
  const segments: Array<readonly [number, number]> = offset + width <= 1
    ? [[offset, offset + width]]
    : [[offset, 1], [0, offset + width - 1]]
  let start = 0
  for (let i = 0; i < weights.length; i++) {
    const end = start + Math.max(0, weights[i]!) / total
    for (const [a, b] of segments) out[i]! += Math.max(0, Math.min(end, b) - Math.max(start, a))
    start = end
  }
  return out
}

/**
 * The width of each peer's slice of the server ring: the smallest whole number of peer slices
 * (`1 / totalInstances` each) that covers `aperture` servers' arcs, at most the whole ring.
 *
 * @since 0.1.0
 * @category deterministic
 */
export const sliceWidth = (totalInstances: number, servers: number, aperture: number): number => {
  const local = 1 / totalInstances
  const n = Math.ceil((aperture * (1 / servers)) / local - 1e-9)
  return Math.min(1, n * local)
}

/**
 * The deterministic-aperture distributor (Finagle's `WeightedAperture`): servers are ordered by
 * address key (the same order on every peer), laid on a unit ring by weight, and this peer uses the
 * slice `[instanceId / totalInstances, + width)`; nodes at the slice's edges count for the part of
 * their arc inside it. Picks are P2C over that distribution. The aperture does not move with load.
 *
 * @since 0.1.0
 * @category constructors
 */
export const deterministicDistributor = (options: DeterministicOptions) => (env: Engine.Env): Engine.Distributor => {
  const total = Math.max(1, Math.floor(options.totalInstances))
  const id = Math.min(total - 1, Math.max(0, Math.floor(options.instanceId)))
  const minAperture = options.minAperture === undefined || options.minAperture <= 1 ? 12 : options.minAperture
  let members: Array<Engine.Node> = []
  let shares: Array<number> = []
  let cumulative: Array<number> = []
  const draw = (): number => {
    const p = env.nextDouble() * cumulative[cumulative.length - 1]!
    let lo = 0
    let hi = cumulative.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid]! > p) hi = mid
      else lo = mid + 1
    }
    return lo
  }
  return {
    rebuild: (nodes) => {
      const ordered = [...nodes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      const aperture = Math.min(minAperture, ordered.length)
      const width = sliceWidth(total, ordered.length, aperture)
      const weights = sliceWeights(ordered.map((n) => n.weight), id / total, width)
      members = []
      shares = []
      for (let i = 0; i < ordered.length; i++) {
        if (weights[i]! > 1e-12) {
          members.push(ordered[i]!)
          shares.push(weights[i]!)
        }
      }
      if (members.length === 0) {
        members = ordered
        shares = ordered.map(() => 1)
      }
      let sum = 0
      cumulative = shares.map((s) => (sum += s))
    },
    pick: () => {
      if (members.length === 1) return members[0]!
      const a = draw()
      let b = a
      for (let i = 0; i < 5 && b === a; i++) b = draw()
      if (b === a) b = (a + 1) % members.length
      const na = members[a]!
      const nb = members[b]!
      if (na.status !== nb.status) return statusRank(na.status) >= statusRank(nb.status) ? na : nb
      return na.load / shares[a]! <= nb.load / shares[b]! ? na : nb
    }
  }
}

/**
 * The deterministic-aperture algorithm (stats label `aperture_least_loaded`, deterministic).
 *
 * @since 0.1.0
 * @category constructors
 */
export const deterministic = (options: DeterministicOptions): Engine.Algorithm => ({
  name: "aperture_least_loaded",
  maxEffort: Engine.checkMaxEffort("Aperture.deterministic", options.maxEffort),
  metric: Load.leastLoaded,
  distributor: deterministicDistributor(options)
})

/**
 * A deterministic-aperture balancer factory (kind `aperture`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const deterministicFactory = (options: DeterministicOptions): Engine.Factory =>
  Engine.factory("aperture", deterministic(options))

/**
 * Supplies `Balancer.Factory` with the deterministic aperture.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDeterministic = (options: DeterministicOptions): Layer.Layer<never> =>
  Engine.layer(deterministicFactory(options))
