/**
 * The published results weir's simulator must reproduce (reference: finagle-resilience.md §8.1,
 * §8.3, §3.4, §9.4), run from the full example scenarios in examples/simulations/. Each test asserts
 * the exact numbers the seeded run produces (so any change in the balancers or filters shows up) and
 * that they fall within a tolerance of the published figures.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Report from "../../src/testing/Report.js"
import { runExample } from "./support.js"

// each runs a whole example scenario (about 10 s alone): a generous timeout for a loaded machine
describe("published results", { timeout: 120_000 }, () => {
  it.live("Beyond Round Robin (2016): ≈95 % round robin, ≈99 % least loaded, ≈99.9 % peak EWMA", () =>
    Effect.gen(function*() {
      const v = yield* runExample("beyond-round-robin.yaml")
      const rr = v.get("round-robin")!
      const ll = v.get("least-loaded")!
      const ewma = v.get("peak-ewma")!
      expect([rr.requests, ll.requests, ewma.requests]).toEqual([60000, 60000, 60000])
      expect([rr.successes, ll.successes, ewma.successes]).toEqual([57273, 59436, 59891])
      expect(rr.successRate).toBeCloseTo(0.95, 1)
      expect(Math.abs(rr.successRate - 0.95)).toBeLessThan(0.01)
      expect(Math.abs(ll.successRate - 0.99)).toBeLessThan(0.005)
      expect(Math.abs(ewma.successRate - 0.999)).toBeLessThan(0.0015)
      expect(rr.successRate).toBeLessThan(ll.successRate)
      expect(ll.successRate).toBeLessThan(ewma.successRate)
      // where each curve bends: round robin before p99, least loaded before p99.9, EWMA fast to p99
      expect(rr.latencyMs.p95).toBeLessThan(200)
      expect(rr.latencyMs.p99).toBe(1000)
      expect(ll.latencyMs.p99).toBeLessThan(200)
      expect(ll.latencyMs.p999).toBe(1000)
      expect(ewma.latencyMs.p99).toBeLessThan(ll.latencyMs.p99)
      // the slow server's share: 1/11 under round robin, much less under the latency-aware balancers
      expect(rr.endpoints[0]!.requests).toBe(5455)
      expect(ll.endpoints[0]!.requests).toBe(3272)
      expect(ewma.endpoints[0]!.requests).toBe(1989)
      expect(rr.retries + ll.retries + ewma.retries).toBe(0)
    }))

  it.live("circuit breaking (2017): ≈95 % no accrual, ≈97 % consecutiveFailures(5), ≈99 % successRate(0.9/20)", () =>
    Effect.gen(function*() {
      const v = yield* runExample("circuit-breaking.yaml")
      const none = v.get("none")!
      const consecutive = v.get("consecutive-failures")!
      const successRate = v.get("success-rate")!
      expect([none.successes, consecutive.successes, successRate.successes]).toEqual([57003, 58718, 59689])
      expect(Math.abs(none.successRate - 0.95)).toBeLessThan(0.01)
      expect(Math.abs(consecutive.successRate - 0.97)).toBeLessThan(0.01)
      expect(Math.abs(successRate.successRate - 0.99)).toBeLessThan(0.0075)
      expect(none.successRate).toBeLessThan(consecutive.successRate)
      expect(consecutive.successRate).toBeLessThan(successRate.successRate)
      // only the bad backend fails, and the breakers take traffic away from it
      expect(none.endpoints.slice(0, 4).every((e) => e.failures === 0)).toBe(true)
      expect(none.endpoints[4]!.failures).toBe(none.requests - none.successes)
      expect(successRate.endpoints[4]!.requests).toBeLessThan(consecutive.endpoints[4]!.requests)
      expect(consecutive.endpoints[4]!.requests).toBeLessThan(none.endpoints[4]!.requests)
    }))

  it.live("retry storm, 100 % failure: the budget holds load near 1.2x + reserve, fixed 3 retries give 4x", () =>
    Effect.gen(function*() {
      const v = yield* runExample("retry-storm-100.yaml")
      const budget = v.get("budget")!
      const fixed = v.get("retry-3-times")!
      expect([budget.retries, fixed.retries]).toEqual([1899, 18000])
      // bound: 20 % of 6000 requests + 10 retries/s over 60 s, plus the first window's 100-retry reserve
      const bound = 0.2 * 6000 + 10 * 60 + 10 * 10
      expect(budget.retries).toBeLessThanOrEqual(bound)
      expect(Report.amplification(budget)).toBeCloseTo(1.3, 1)
      expect(Report.amplification(budget)).toBeLessThan(1.2 + 10 / 100 + 0.03)
      expect(Report.amplification(fixed)).toBe(4)
      expect(budget.successes + fixed.successes).toBe(0)
    }))

  it.live("retry storm, 50 % failure: the budget caps load at ≈1.3x, fixed 3 retries give ≈1.875x", () =>
    Effect.gen(function*() {
      const v = yield* runExample("retry-storm-50.yaml")
      const budget = v.get("budget")!
      const fixed = v.get("retry-3-times")!
      expect([budget.retries, fixed.retries]).toEqual([1797, 5118])
      expect([budget.successes, fixed.successes]).toEqual([3935, 5627])
      expect(Math.abs(Report.amplification(budget) - 1.3)).toBeLessThan(0.03)
      expect(Math.abs(Report.amplification(fixed) - 1.875)).toBeLessThan(0.05)
      expect(fixed.successRate).toBeGreaterThan(budget.successRate)
    }))
})
