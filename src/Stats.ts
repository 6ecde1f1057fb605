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
 * Histograms keep their samples since the last `resetHistograms` (the proxy resets them on each
 * export window); percentiles are nearest-rank.
 *
 * @since 0.1.0
 * @category model
 */
export interface InMemory extends StatsReceiver {
  readonly counters: ReadonlyMap<string, number>
  readonly counterValue: (name: string) => number
  readonly gaugeValues: () => Map<string, number>
  readonly histogramSummaries: () => Map<string, HistogramSummary>
  readonly samples: (name: string) => ReadonlyArray<number>
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
 * Summarizes samples.
 *
 * @since 0.1.0
 * @category utils
 */
export const summarize = (values: ReadonlyArray<number>): HistogramSummary => {
  const sorted = Float64Array.from(values).sort()
  const arr = Array.from(sorted)
  let sum = 0
  for (const v of arr) sum += v
  return {
    count: arr.length,
    sum,
    min: arr.length === 0 ? 0 : arr[0]!,
    max: arr.length === 0 ? 0 : arr[arr.length - 1]!,
    avg: arr.length === 0 ? 0 : sum / arr.length,
    p50: percentile(arr, 0.5),
    p90: percentile(arr, 0.9),
    p95: percentile(arr, 0.95),
    p99: percentile(arr, 0.99),
    p9990: percentile(arr, 0.999),
    p9999: percentile(arr, 0.9999)
  }
}

/**
 * A fresh in-memory receiver.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeInMemory = (): InMemory => {
  const counters = new Map<string, number>()
  const histograms = new Map<string, Array<number>>()
  const gauges = new Map<string, Set<() => number>>()
  const join = (segments: ReadonlyArray<string>) => segments.filter((s) => s !== "").join("/")
  const at = (prefix: ReadonlyArray<string>): StatsReceiver => ({
    prefix,
    counter: (...name) => {
      const full = join([...prefix, ...name])
      if (!counters.has(full)) counters.set(full, 0)
      return { incr: (n = 1) => counters.set(full, (counters.get(full) ?? 0) + n) }
    },
    histogram: (...name) => {
      const full = join([...prefix, ...name])
      let samples = histograms.get(full)
      if (samples === undefined) {
        samples = []
        histograms.set(full, samples)
      }
      const s = samples
      return { add: (v) => void s.push(v) }
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
    counterValue: (name) => counters.get(name) ?? 0,
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
      for (const [name, samples] of histograms) out.set(name, summarize(samples))
      return out
    },
    samples: (name) => histograms.get(name) ?? [],
    resetHistograms: () => {
      for (const samples of histograms.values()) samples.length = 0
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
