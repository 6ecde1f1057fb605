/**
 * `Stats` is where weir's modules record what they do: counters, gauges and latency histograms,
 * under hierarchical names such as `rt/web/client/$/inet/127.0.0.1/8080/retries/requeues`. It is
 * Finagle's `StatsReceiver`: modules read the current receiver from the `Stats.Receiver` reference
 * when they are built and scope it (`scoped(r, "retries")`); the default receiver discards
 * everything, the proxy installs an in-memory registry that the admin server exports.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"

/**
 * A monotonically increasing count.
 *
 * @since 0.1.0
 * @category model
 */
export interface Counter {
  readonly incr: (n?: number) => void
}

/**
 * A distribution of observations (latencies in milliseconds, sizes).
 *
 * @since 0.1.0
 * @category model
 */
export interface Histogram {
  readonly add: (value: number) => void
}

/**
 * A sink for metrics under a name prefix.
 *
 * @since 0.1.0
 * @category model
 */
export interface StatsReceiver {
  /** The name segments this receiver prefixes, outermost first. */
  readonly prefix: ReadonlyArray<string>
  readonly counter: (...name: ReadonlyArray<string>) => Counter
  readonly histogram: (...name: ReadonlyArray<string>) => Histogram
  /** Registers a gauge read on export; returns a function that unregisters it. */
  readonly gauge: (name: ReadonlyArray<string>, read: () => number) => () => void
  readonly scope: (...segments: ReadonlyArray<string>) => StatsReceiver
}

const noopCounter: Counter = { incr: () => {} }
const noopHistogram: Histogram = { add: () => {} }

/**
 * The receiver that records nothing.
 *
 * @since 0.1.0
 * @category constructors
 */
export const noop: StatsReceiver = {
  prefix: [],
  counter: () => noopCounter,
  histogram: () => noopHistogram,
  gauge: () => () => {},
  scope: () => noop
}

/**
 * A memoized family of counters under one name: `counters(r, "failures")("Overloaded")` is the
 * counter `failures/Overloaded`, created on first use and reused after, so a hot path that counts by
 * a dynamic label (a failure tag, a status code) builds each name once.
 *
 * @since 0.1.0
 * @category constructors
 */
export const counters = (receiver: StatsReceiver, ...name: ReadonlyArray<string>): (label: string) => Counter => {
  const cache = new Map<string, Counter>()
  return (label) => {
    let c = cache.get(label)
    if (c === undefined) {
      c = receiver.counter(...name, label)
      cache.set(label, c)
    }
    return c
  }
}

/**
 * The per-status counters of one receiver: `statusCounters(r)(503)` increments `status/503` and
 * `status/5XX`. Each status's pair is created on first use; the last status's pair is kept at hand
 * (most responses have the status of the one before). The one implementation behind every
 * `status/…` metric (server stats, client stats).
 *
 * @since 0.1.0
 * @category constructors
 */
export const statusCounters = (receiver: StatsReceiver): (status: number) => void => {
  const byStatus = new Map<number, readonly [Counter, Counter]>()
  let lastStatus = -1
  let last: readonly [Counter, Counter] | undefined
  return (status) => {
    let c = status === lastStatus ? last : byStatus.get(status)
    if (c === undefined) {
      c = [receiver.counter("status", String(status)), receiver.counter("status", `${Math.floor(status / 100)}XX`)]
      byStatus.set(status, c)
    }
    lastStatus = status
    last = c
    c[0].incr()
    c[1].incr()
  }
}

/**
 * A snapshot of a histogram: count, sum and percentiles of what was recorded.
 *
 * @since 0.1.0
 * @category model
 */
export interface HistogramSummary {
  readonly count: number
  readonly sum: number
  readonly min: number
  readonly max: number
  readonly avg: number
  readonly p50: number
  readonly p90: number
  readonly p95: number
  readonly p99: number
  readonly p9990: number
  readonly p9999: number
}

/**
 * A receiver that keeps every metric in memory, readable by full name (segments joined with `/`).
 * Histograms are bounded: each keeps exact count, sum, min and max plus log-spaced buckets (see
 * `BucketedHistogram`), so a busy proxy's memory does not grow with traffic. They cover what was
 * recorded since the last `resetHistograms` (the proxy resets them on each export window).
 *
 * @since 0.1.0
 * @category model
 */
export interface InMemory extends StatsReceiver {
  readonly counters: ReadonlyMap<string, number>
  readonly counterValue: (name: string) => number
  readonly gaugeValues: () => Map<string, number>
  readonly histogramSummaries: () => Map<string, HistogramSummary>
  /** The summary of one histogram (all zeros when nothing was recorded). */
  readonly histogramSummary: (name: string) => HistogramSummary
  readonly resetHistograms: () => void
}

/**
 * Nearest-rank percentile of sorted values (`q` in [0, 1]); 0 for none.
 *
 * @since 0.1.0
 * @category utils
 */
export const percentile = (sorted: ReadonlyArray<number>, q: number): number => {
  if (sorted.length === 0) return 0
  const rank = Math.max(1, Math.ceil(q * sorted.length))
  return sorted[Math.min(sorted.length, rank) - 1]!
}

/**
 * Summarizes samples exactly.
 *
 * @since 0.1.0
 * @category utils
 */
export const summarize = (values: ReadonlyArray<number>): HistogramSummary => {
  const h = makeBucketedHistogram()
  for (const v of values) h.add(v)
  return h.summary()
}

/**
 * The growth factor between neighbouring histogram buckets: a percentile is reported at most 1 %
 * above the true value (and exactly for the minimum and maximum).
 *
 * @since 0.1.0
 * @category utils
 */
export const bucketGrowth = 1.01

const logGrowth = Math.log(bucketGrowth)
/** Values at or below this (in the recorded unit, usually ms) share the zero bucket. */
const zeroThreshold = 1e-6

/**
 * A histogram of bounded size: observations fall into buckets whose bounds grow by `bucketGrowth`,
 * so 1 µs … 1 hour of milliseconds needs at most about 2,200 buckets whatever the traffic.
 * Percentiles are nearest-rank over buckets, reported as the largest value seen in the chosen bucket:
 * never below the true percentile and at most 1 % above it (exact when a bucket holds one distinct
 * value, as with whole milliseconds). The same idea as Finagle's bucketed histograms.
 *
 * @since 0.1.0
 * @category model
 */
export interface BucketedHistogram extends Histogram {
  readonly summary: () => HistogramSummary
  readonly reset: () => void
}

/**
 * A fresh bucketed histogram.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeBucketedHistogram = (): BucketedHistogram => {
  // buckets above the zero threshold, densely: counts[k] and largest[k] are bucket `base + k`
  // (log-spaced buckets of one metric cluster in a few hundred indices, so arrays beat maps here)
  let base = 0
  let counts: Array<number> = []
  let largest: Array<number> = []
  let zeroCount = 0
  let zeroLargest = Number.NEGATIVE_INFINITY
  let count = 0
  let sum = 0
  let min = Number.POSITIVE_INFINITY
  let max = Number.NEGATIVE_INFINITY
  const grow = (i: number) => {
    if (counts.length === 0) {
      base = i
      counts.push(0)
      largest.push(Number.NEGATIVE_INFINITY)
    } else if (i < base) {
      const n = base - i
      const c: Array<number> = new Array(n).fill(0)
      const l: Array<number> = new Array(n).fill(Number.NEGATIVE_INFINITY)
      counts = c.concat(counts)
      largest = l.concat(largest)
      base = i
    } else {
      while (base + counts.length <= i) {
        counts.push(0)
        largest.push(Number.NEGATIVE_INFINITY)
      }
    }
  }
  return {
    add: (v) => {
      if (!Number.isFinite(v)) return
      if (v <= zeroThreshold) {
        zeroCount++
        if (v > zeroLargest) zeroLargest = v
      } else {
        const i = Math.floor(Math.log(v) / logGrowth)
        let k = i - base
        if (k < 0 || k >= counts.length) {
          grow(i)
          k = i - base
        }
        counts[k]!++
        if (v > largest[k]!) largest[k] = v
      }
      count++
      sum += v
      if (v < min) min = v
      if (v > max) max = v
    },
    reset: () => {
      base = 0
      counts = []
      largest = []
      zeroCount = 0
      zeroLargest = Number.NEGATIVE_INFINITY
      count = 0
      sum = 0
      min = Number.POSITIVE_INFINITY
      max = Number.NEGATIVE_INFINITY
    },
    summary: () => {
      if (count === 0) {
        return { count: 0, sum: 0, min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0, p9990: 0, p9999: 0 }
      }
      const at = (q: number) => {
        const rank = Math.max(1, Math.ceil(q * count))
        let seen = zeroCount
        if (zeroCount > 0 && seen >= rank) return zeroLargest
        for (let k = 0; k < counts.length; k++) {
          if (counts[k] === 0) continue
          seen += counts[k]!
          if (seen >= rank) return largest[k]!
        }
        return max
      }
      return {
        count,
        sum,
        min,
        max,
        avg: sum / count,
        p50: at(0.5),
        p90: at(0.9),
        p95: at(0.95),
        p99: at(0.99),
        p9990: at(0.999),
        p9999: at(0.9999)
      }
    }
  }
}

const emptySummary = makeBucketedHistogram().summary()

/** The counters of an in-memory receiver as a read-only map of their current values. */
class CounterView implements ReadonlyMap<string, number> {
  readonly #cells: Map<string, { n: number }>
  constructor(cells: Map<string, { n: number }>) {
    this.#cells = cells
  }
  get size(): number {
    return this.#cells.size
  }
  get(name: string): number | undefined {
    return this.#cells.get(name)?.n
  }
  has(name: string): boolean {
    return this.#cells.has(name)
  }
  #snapshot(): Map<string, number> {
    const out = new Map<string, number>()
    for (const [name, cell] of this.#cells) out.set(name, cell.n)
    return out
  }
  forEach(f: (value: number, key: string, map: ReadonlyMap<string, number>) => void, thisArg?: unknown): void {
    for (const [name, cell] of this.#cells) f.call(thisArg, cell.n, name, this)
  }
  entries() {
    return this.#snapshot().entries()
  }
  keys() {
    return this.#cells.keys()
  }
  values() {
    return this.#snapshot().values()
  }
  [Symbol.iterator]() {
    return this.#snapshot().entries()
  }
}

/**
 * A fresh in-memory receiver.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeInMemory = (): InMemory => {
  // one mutable cell per counter, so an increment is a field write (no map lookup); `counters` is a
  // read-only view of their values
  const cells = new Map<string, { n: number }>()
  const counters = new CounterView(cells)
  const histograms = new Map<string, BucketedHistogram>()
  const gauges = new Map<string, Set<() => number>>()
  const join = (segments: ReadonlyArray<string>) => segments.filter((s) => s !== "").join("/")
  const at = (prefix: ReadonlyArray<string>): StatsReceiver => ({
    prefix,
    counter: (...name) => {
      const full = join([...prefix, ...name])
      let cell = cells.get(full)
      if (cell === undefined) {
        cell = { n: 0 }
        cells.set(full, cell)
      }
      const c = cell
      return {
        incr: (n = 1) => {
          c.n += n
        }
      }
    },
    histogram: (...name) => {
      const full = join([...prefix, ...name])
      let h = histograms.get(full)
      if (h === undefined) {
        h = makeBucketedHistogram()
        histograms.set(full, h)
      }
      return h
    },
    gauge: (name, read) => {
      const full = join([...prefix, ...name])
      let set = gauges.get(full)
      if (set === undefined) {
        set = new Set()
        gauges.set(full, set)
      }
      set.add(read)
      const s = set
      return () => {
        s.delete(read)
        if (s.size === 0) gauges.delete(full)
      }
    },
    scope: (...segments) => at([...prefix, ...segments])
  })
  return {
    ...at([]),
    counters,
    counterValue: (name) => cells.get(name)?.n ?? 0,
    gaugeValues: () => {
      const out = new Map<string, number>()
      for (const [name, reads] of gauges) {
        let total = 0
        for (const read of reads) total += read()
        out.set(name, total)
      }
      return out
    },
    histogramSummaries: () => {
      const out = new Map<string, HistogramSummary>()
      for (const [name, h] of histograms) out.set(name, h.summary())
      return out
    },
    histogramSummary: (name) => histograms.get(name)?.summary() ?? emptySummary,
    resetHistograms: () => {
      for (const h of histograms.values()) h.reset()
    }
  }
}

/**
 * The receiver modules record into. Defaults to `noop`.
 *
 * @since 0.1.0
 * @category params
 */
export const Receiver = Context.Reference<StatsReceiver>("weir/Stats/Receiver", { defaultValue: () => noop })
