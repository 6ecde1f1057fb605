/**
 * The simulation kit as a user's own @effect/vitest test would use it, through the `weir/testing`
 * barrel (the example in docs/testing.md).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Distribution, Report, Simulation } from "../../src/testing/index.js"

describe("weir/testing from a user's test", () => {
  it.effect("peak EWMA avoids a slow server; round robin does not", () =>
    Effect.gen(function*() {
      const { report } = yield* Simulation.simulate({
        durationMs: 10_000,
        load: { kind: "constant", rps: 200 },
        timeoutMs: 500,
        endpoints: [{ count: 4, latency: { kind: "normal", meanMs: 20, sdMs: 2 } }, {
          latency: { kind: "constant", ms: 1000 }
        }],
        client: { failureAccrual: { kind: "none" } },
        variants: [
          { name: "ewma", client: { loadBalancer: { kind: "ewma" } } },
          { name: "rr", client: { loadBalancer: { kind: "roundRobin" } } }
        ]
      })
      const [ewma, rr] = report.variants
      expect(ewma!.successRate).toBeGreaterThan(0.99)
      expect(rr!.successRate).toBeCloseTo(0.8, 2)
      expect(Report.toTable(report)).toContain("ewma")
    }))

  it.effect("a bad scenario is an InvalidScenario with the location of each problem", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Simulation.simulate({
        durationMs: 1000,
        load: { kind: "constant", rps: 10 },
        endpoints: [{ latency: { kind: "normal", meanMs: 10, sdMs: -1 } }]
      }))
      expect(error._tag).toBe("InvalidScenario")
      if (error._tag === "InvalidScenario") {
        expect(error.problems.map((p) => p.path)).toEqual(["endpoints[0].latency.sdMs"])
      }
      expect(Distribution.validate(Distribution.normal(10, -1))).toHaveLength(1)
    }))
})
