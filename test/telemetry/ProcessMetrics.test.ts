import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stats from "../../src/Stats.js"
import * as ProcessMetrics from "../../src/telemetry/ProcessMetrics.js"

const names = ["p50", "p99", "max", "mean"].map((f) => `process/event_loop_lag_ms/${f}`)

describe("ProcessMetrics", () => {
  it.live("registers the event-loop lag gauges; a blocked loop shows in the window's max; they go with the scope", () =>
    Effect.gen(function*() {
      const registry = Stats.makeInMemory()
      yield* Effect.scoped(Effect.gen(function*() {
        const pm = yield* ProcessMetrics.make(registry)
        for (const n of names) expect(registry.gaugeValues().get(n)).toBeGreaterThanOrEqual(0)
        // the monitor's first tick only starts its clock
        yield* Effect.sleep("30 millis")
        // the loop cannot run for 100 ms: a sample is at least that late
        const until = performance.now() + 100
        while (performance.now() < until) { /* block the event loop */ }
        yield* Effect.sleep("50 millis")
        pm.roll()
        const lag = pm.lag()
        expect(lag.max).toBeGreaterThanOrEqual(40)
        expect(lag.max).toBeGreaterThanOrEqual(lag.p99)
        expect(lag.p99).toBeGreaterThanOrEqual(lag.p50)
        expect(registry.gaugeValues().get("process/event_loop_lag_ms/max")).toBe(lag.max)
        // reported for the last complete window: the new window's samples do not change it
        yield* Effect.sleep("30 millis")
        expect(pm.lag()).toEqual(lag)
      }))
      for (const n of names) expect(registry.gaugeValues().has(n)).toBe(false)
    }))
})
