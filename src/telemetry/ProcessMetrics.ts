/**
 * Metrics of the proxy process itself: how late the event loop runs. Every request a weir process
 * handles waits for the event loop, so a loop that is late by 20 ms adds 20 ms to whatever is ready
 * at that moment; the lag is the first thing to look at when latency grows while the backends stay
 * fast (then more `workers` help).
 *
 * Gauges, measured with `node:perf_hooks`' `monitorEventLoopDelay` over one stats window (the
 * histogram window, one minute by default) and reported for the last complete window (the current
 * one before the first has ended):
 *
 * - `process/event_loop_lag_ms/p50`, `…/p99`, `…/max`, `…/mean`: the delay of the loop's turns beyond
 *   the sampling interval (10 ms), in milliseconds.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks"
import type * as Stats from "../Stats.js"

/**
 * One window's event-loop lag, in milliseconds.
 *
 * @since 0.1.0
 * @category model
 */
export interface Lag {
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

/**
 * The process metrics of a running proxy.
 *
 * @since 0.1.0
 * @category model
 */
export interface ProcessMetrics {
  /** Ends the current window: its values become the reported ones, and a new window starts. */
  readonly roll: () => void
  /** The lag reported now. */
  readonly lag: () => Lag
}

const sampleMs = 10

const read = (h: IntervalHistogram): Lag => {
  // nanoseconds between the sampling timer's runs, the interval included; an empty histogram
  // reports NaN: nothing measured is no lag
  const ms = (ns: number) => Number.isFinite(ns) && h.count > 0 ? Math.max(0, Math.round(ns / 1e4) / 100 - sampleMs) : 0
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) }
}

/**
 * Starts measuring and registers the gauges in `stats` (under `process/event_loop_lag_ms/`) for the
 * lifetime of the scope. The caller rolls the window (the proxy does so with its histograms).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (stats: Stats.StatsReceiver): Effect.Effect<ProcessMetrics, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const h = monitorEventLoopDelay({ resolution: sampleMs })
      h.enable()
      let last: Lag | undefined
      const lag = () => last ?? read(h)
      const scope = stats.scope("process", "event_loop_lag_ms")
      const unregister = [
        scope.gauge(["p50"], () => lag().p50),
        scope.gauge(["p99"], () => lag().p99),
        scope.gauge(["max"], () => lag().max),
        scope.gauge(["mean"], () => lag().mean)
      ]
      const roll = () => {
        last = read(h)
        h.reset()
      }
      return { metrics: { roll, lag }, stop: () => (h.disable(), unregister.forEach((f) => f())) }
    }),
    ({ stop }) => Effect.sync(stop)
  ).pipe(Effect.map(({ metrics }) => metrics))
