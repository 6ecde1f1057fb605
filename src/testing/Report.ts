/**
 * What a simulation measured, per variant: requests, successes and success rate, retries, caller
 * latency percentiles (p50, p90, p95, p99, p99.9, max; nearest rank) and per-endpoint counts — as a
 * value, as JSON (`weir simulate --json`) and as text tables.
 *
 * ```json
 * { "variants": [ { "name": "default", "requests": 60000, "successes": 59940, "successRate": 0.999,
 *   "retries": 0, "latencyMs": { "p50": 167, "p90": 174, "p95": 176, "p99": 181, "p999": 998, "max": 1000 },
 *   "endpoints": [ { "index": 0, "requests": 5455, "failures": 0 } ] } ] }
 * ```
 *
 * @since 0.1.0
 */
import { percentile } from "../Stats.js"

/**
 * Caller-observed latency percentiles, milliseconds.
 *
 * @since 0.1.0
 * @category model
 */
export interface Latency {
  readonly p50: number
  readonly p90: number
  readonly p95: number
  readonly p99: number
  readonly p999: number
  readonly max: number
}

/**
 * What one endpoint served: requests that reached it and the failures it answered.
 *
 * @since 0.1.0
 * @category model
 */
export interface EndpointCounts {
  readonly index: number
  readonly requests: number
  readonly failures: number
}

/**
 * The results of one variant.
 *
 * @since 0.1.0
 * @category model
 */
export interface Variant {
  readonly name: string
  /** Requests the load generator sent. */
  readonly requests: number
  /** Requests the caller saw succeed (classified a success, within the caller's timeout). */
  readonly successes: number
  /** `successes / requests` (0 for no requests). */
  readonly successRate: number
  /** Attempts beyond the first, across all requests (retries and requeues). */
  readonly retries: number
  readonly latencyMs: Latency
  readonly endpoints: ReadonlyArray<EndpointCounts>
}

/**
 * A report: one entry per variant, in scenario order.
 *
 * @since 0.1.0
 * @category model
 */
export interface Report {
  readonly variants: ReadonlyArray<Variant>
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000

/**
 * Latency percentiles of sorted samples (all 0 for none), rounded to the microsecond.
 *
 * @since 0.1.0
 * @category constructors
 */
export const latency = (sorted: ArrayLike<number>): Latency => {
  const arr = sorted as ReadonlyArray<number>
  return {
    p50: round3(percentile(arr, 0.5)),
    p90: round3(percentile(arr, 0.9)),
    p95: round3(percentile(arr, 0.95)),
    p99: round3(percentile(arr, 0.99)),
    p999: round3(percentile(arr, 0.999)),
    max: round3(arr.length === 0 ? 0 : arr[arr.length - 1]!)
  }
}

/**
 * Builds a variant's report from its raw measurements. `latencies` must be sorted ascending.
 *
 * @since 0.1.0
 * @category constructors
 */
export const variant = (options: {
  readonly name: string
  readonly requests: number
  readonly successes: number
  readonly retries: number
  readonly latencies: ArrayLike<number>
  readonly endpoints: ReadonlyArray<EndpointCounts>
}): Variant => ({
  name: options.name,
  requests: options.requests,
  successes: options.successes,
  successRate: options.requests === 0 ? 0 : options.successes / options.requests,
  retries: options.retries,
  latencyMs: latency(options.latencies),
  endpoints: options.endpoints.map((e) => ({ index: e.index, requests: e.requests, failures: e.failures }))
})

/**
 * Backend load of a variant: attempts that reached an endpoint per request sent (1 without retries).
 *
 * @since 0.1.0
 * @category getters
 */
export const amplification = (self: Variant): number => {
  let total = 0
  for (const e of self.endpoints) total += e.requests
  return self.requests === 0 ? 0 : total / self.requests
}

/**
 * The report as JSON (`weir simulate --json`), keys in a fixed order.
 *
 * @since 0.1.0
 * @category rendering
 */
export const toJson = (self: Report, indent = 2): string =>
  JSON.stringify(
    {
      variants: self.variants.map((v) => ({
        name: v.name,
        requests: v.requests,
        successes: v.successes,
        successRate: v.successRate,
        retries: v.retries,
        latencyMs: {
          p50: v.latencyMs.p50,
          p90: v.latencyMs.p90,
          p95: v.latencyMs.p95,
          p99: v.latencyMs.p99,
          p999: v.latencyMs.p999,
          max: v.latencyMs.max
        },
        endpoints: v.endpoints.map((e) => ({ index: e.index, requests: e.requests, failures: e.failures }))
      }))
    },
    null,
    indent
  )

const pad = (s: string, width: number, right: boolean) => right ? s.padStart(width) : s.padEnd(width)

/**
 * Renders rows as an aligned text table (first row is the header; numeric-looking cells align right).
 *
 * @since 0.1.0
 * @category rendering
 */
export const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths: Array<number> = []
  for (const row of rows) row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length))
  const numeric = (s: string) => /^[-+]?[\d.,]+( ?[%x\u00d7])?$/.test(s)
  const lines = rows.map((row) => row.map((cell, i) => pad(cell, widths[i]!, numeric(cell))).join("  ").trimEnd())
  if (lines.length > 1) lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "))
  return lines.join("\n")
}

/**
 * A percentage with enough decimals to tell 99.9 % from 99.94 %.
 *
 * @since 0.1.0
 * @category rendering
 */
export const percent = (fraction: number): string => `${(fraction * 100).toFixed(2)}%`

const ms = (n: number) => n >= 100 ? n.toFixed(0) : n.toFixed(1)

/**
 * The report as text: a comparison table of the variants, then each variant's per-endpoint counts.
 *
 * @since 0.1.0
 * @category rendering
 */
export const toTable = (self: Report): string => {
  const summary = table([
    ["variant", "requests", "success", "retries", "load", "p50", "p90", "p95", "p99", "p99.9", "max"],
    ...self.variants.map((v) => [
      v.name,
      String(v.requests),
      percent(v.successRate),
      String(v.retries),
      `${amplification(v).toFixed(2)}x`,
      ms(v.latencyMs.p50),
      ms(v.latencyMs.p90),
      ms(v.latencyMs.p95),
      ms(v.latencyMs.p99),
      ms(v.latencyMs.p999),
      ms(v.latencyMs.max)
    ])
  ])
  const parts = [summary, "(latencies in ms, as seen by the caller; load = endpoint requests per request sent)"]
  for (const v of self.variants) {
    const total = v.endpoints.reduce((n, e) => n + e.requests, 0)
    parts.push(
      "",
      `${v.name}: requests per endpoint`,
      table([
        ["endpoint", "requests", "share", "failures"],
        ...v.endpoints.map((e) => [
          String(e.index),
          String(e.requests),
          percent(total === 0 ? 0 : e.requests / total),
          String(e.failures)
        ])
      ])
    )
  }
  return parts.join("\n")
}

const ratio = (a: number, b: number) => b === 0 ? "-" : `${(a / b).toFixed(2)}x`

/**
 * The variants against the first one (the baseline): success-rate difference in percentage points,
 * and the ratio of tail latencies and of backend load (`weir simulate --compare`).
 *
 * @since 0.1.0
 * @category rendering
 */
export const toComparison = (self: Report): string => {
  const base = self.variants[0]
  if (base === undefined) return ""
  return [
    `compared with ${base.name}:`,
    table([
      ["variant", "success", "Δ success (pp)", "p99", "p99.9", "load"],
      ...self.variants.map((v) => [
        v.name,
        percent(v.successRate),
        `${((v.successRate - base.successRate) * 100) >= 0 ? "+" : ""}${
          ((v.successRate - base.successRate) * 100).toFixed(2)
        }`,
        ratio(v.latencyMs.p99, base.latencyMs.p99),
        ratio(v.latencyMs.p999, base.latencyMs.p999),
        ratio(amplification(v), amplification(base))
      ])
    ])
  ].join("\n")
}
