/**
 * The metrics of a proxy running several worker processes (`workers: N`), as one: each worker keeps
 * its own registry, and the admin server reports their sum plus every worker's own values under
 * `worker/<k>/…` (the label `worker="k"` in the Prometheus form, `Metrics.parseName`).
 *
 * How the workers' values combine:
 * - counters add up (requests, failures, bytes);
 * - gauges add up (open connections, requests pending), except the ones that describe a process
 *   rather than a share of the traffic (`process/event_loop_lag_ms/…`), which take the largest;
 * - histograms add their counts and sums (so `avg` is the mean over every worker's samples) and take
 *   the smallest `min` and the largest `max`; a percentile is the largest of the workers' (an upper
 *   bound: the exact value would need every worker's samples).
 *
 * @since 0.1.0
 */
import type * as Stats from "../Stats.js"
import type * as Metrics from "./Metrics.js"

/**
 * One worker's snapshot, by worker index (`0` runs the admin server).
 *
 * @since 0.1.0
 * @category model
 */
export interface WorkerSnapshot {
  readonly worker: number
  readonly snapshot: Metrics.Snapshot
}

/**
 * The scope that holds one worker's own metrics: `worker/<k>`.
 *
 * @since 0.1.0
 * @category model
 */
export const scopeOf = (worker: number): string => `worker/${worker}`

/**
 * Whether a gauge describes a whole process (combined by taking the largest) rather than a share of
 * the traffic (combined by adding up).
 *
 * @since 0.1.0
 * @category model
 */
export const isProcessGauge = (name: string): boolean => name.startsWith("process/")

const percentiles = ["p50", "p90", "p95", "p99", "p9990", "p9999"] as const

/**
 * Two histogram summaries as one (see the module's rules).
 *
 * @since 0.1.0
 * @category combinators
 */
export const combineHistograms = (
  a: Stats.HistogramSummary,
  b: Stats.HistogramSummary
): Stats.HistogramSummary => {
  if (a.count === 0) return b
  if (b.count === 0) return a
  const count = a.count + b.count
  const sum = a.sum + b.sum
  const out: { -readonly [K in keyof Stats.HistogramSummary]: number } = {
    count,
    sum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    avg: sum / count,
    p50: 0,
    p90: 0,
    p95: 0,
    p99: 0,
    p9990: 0,
    p9999: 0
  }
  for (const p of percentiles) out[p] = Math.max(a[p], b[p])
  return out
}

/**
 * The workers' snapshots as one (see the module's rules); empty for none.
 *
 * @since 0.1.0
 * @category combinators
 */
export const merge = (snapshots: ReadonlyArray<Metrics.Snapshot>): Metrics.Snapshot => {
  const counters = new Map<string, number>()
  const gauges = new Map<string, number>()
  const histograms = new Map<string, Stats.HistogramSummary>()
  for (const s of snapshots) {
    for (const [k, v] of s.counters) counters.set(k, (counters.get(k) ?? 0) + v)
    for (const [k, v] of s.gauges) {
      const prev = gauges.get(k)
      gauges.set(k, prev === undefined ? v : isProcessGauge(k) ? Math.max(prev, v) : prev + v)
    }
    for (const [k, h] of s.histograms) {
      const prev = histograms.get(k)
      histograms.set(k, prev === undefined ? h : combineHistograms(prev, h))
    }
  }
  return { counters, gauges, histograms }
}

const prefixed = <A>(into: Map<string, A>, scope: string, from: ReadonlyMap<string, A>): void => {
  for (const [k, v] of from) into.set(`${scope}/${k}`, v)
}

/**
 * What the admin server of a proxy with workers reports: the sum of every worker's metrics under
 * their usual names, and each worker's own under `worker/<k>/`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const combine = (workers: ReadonlyArray<WorkerSnapshot>): Metrics.Snapshot => {
  const total = merge(workers.map((w) => w.snapshot))
  const counters = new Map(total.counters)
  const gauges = new Map(total.gauges)
  const histograms = new Map(total.histograms)
  for (const w of [...workers].sort((a, b) => a.worker - b.worker)) {
    const scope = scopeOf(w.worker)
    prefixed(counters, scope, w.snapshot.counters)
    prefixed(gauges, scope, w.snapshot.gauges)
    prefixed(histograms, scope, w.snapshot.histograms)
  }
  return { counters, gauges, histograms }
}
