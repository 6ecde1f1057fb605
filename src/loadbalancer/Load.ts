/**
 * Load metrics: how busy one endpoint looks to a balancer. A metric is told when a request starts
 * and ends and answers `load()` on every pick; the balancing algorithm (P2C, heap, aperture) is
 * separate and only compares loads. Two metrics, as in Finagle (`LeastLoaded.scala`,
 * `PeakEwma.scala`):
 *
 * - `leastLoaded`: the number of requests in flight.
 * - `peakEwma`: a peak-sensitive exponentially weighted moving average of round-trip times, times
 *   the requests in flight plus one.
 *
 * Metrics read time through the `now` function they are given (the balancer passes Effect's
 * `Clock`, so they follow `TestClock`).
 *
 * @since 0.1.0
 */

/**
 * The load state of one endpoint.
 *
 * @since 0.1.0
 * @category model
 */
export interface Metric {
  /** The current load (or cost) used to compare endpoints; lower is better. */
  readonly load: () => number
  /** Requests in flight. */
  readonly pending: () => number
  /** A request starts; returns a stamp to hand back to `end`. */
  readonly start: () => number
  /** The request started at `stamp` has ended (success, failure or interruption alike). */
  readonly end: (stamp: number) => void
}

/**
 * Makes a fresh metric for one endpoint.
 *
 * @since 0.1.0
 * @category model
 */
export type MetricFactory = (now: () => number) => Metric

/**
 * The cost of a node that has a request in flight but no round-trip time yet: `2^47 − 1`, as in
 * Finagle (`Long.MaxValue >> 16`). A node with no history is therefore probed with one request
 * and gets no second one until the first completes.
 *
 * @since 0.1.0
 * @category constants
 */
export const Penalty = 2 ** 47 - 1

/**
 * Least loaded: load is the number of requests in flight.
 *
 * @since 0.1.0
 * @category constructors
 */
export const leastLoaded: MetricFactory = () => {
  let pending = 0
  return {
    load: () => pending,
    pending: () => pending,
    start: () => {
      pending++
      return 0
    },
    end: () => {
      pending--
    }
  }
}

/**
 * An exponential moving average over irregular observations with a time constant `window` (the
 * mean lifetime of a sample; the half-life is `window · ln 2`). The first observation sets the
 * average; each next one weighs the old average by `exp(−Δt / window)`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Ema {
  readonly last: () => number
  readonly update: (time: number, value: number) => number
  readonly reset: () => void
}

/**
 * Makes an `Ema` with the given time constant (same unit as the times passed to `update`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeEma = (window: number): Ema => {
  let time = Number.NEGATIVE_INFINITY
  let ema = 0
  return {
    last: () => ema,
    update: (t, x) => {
      if (time === Number.NEGATIVE_INFINITY) {
        time = t
        ema = x
      } else {
        const elapsed = t - time
        time = Math.max(time, t)
        const w = window <= 0 ? 0 : Math.exp(-Math.max(0, elapsed) / window)
        ema = x * (1 - w) + ema * w
      }
      return ema
    },
    reset: () => {
      time = Number.NEGATIVE_INFINITY
      ema = 0
    }
  }
}

/**
 * Peak EWMA (Finagle's `PeakEwma`): a moving average of round-trip times (milliseconds) that jumps
 * straight to any observation above it and otherwise decays with time constant `decayTimeMs`
 * (linkerd's `decayTimeMs`, default 10 000). Reading the load first folds in a zero-latency
 * observation at "now", so an idle node's cost decays towards 0. The load is then
 * `ewma × (pending + 1)`, or `Penalty + pending` for a node with requests in flight and no history.
 *
 * @since 0.1.0
 * @category constructors
 */
export const peakEwma = (decayTimeMs: number): MetricFactory => (now) => {
  const cost = makeEma(decayTimeMs)
  let stamp = now()
  let pending = 0
  const observe = (rtt: number) => {
    const t = now()
    if (t > stamp) stamp = t
    if (rtt > cost.last()) cost.reset()
    cost.update(stamp, rtt)
  }
  return {
    load: () => {
      observe(0)
      const last = cost.last()
      return last === 0 && pending !== 0 ? Penalty + pending : last * (pending + 1)
    },
    pending: () => pending,
    start: () => {
      pending++
      return now()
    },
    end: (started) => {
      pending--
      observe(Math.max(now() - started, 0))
    }
  }
}
