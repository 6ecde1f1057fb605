import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as Scenario from "../../src/testing/Scenario.js"
import * as Simulation from "../../src/testing/Simulation.js"
import { decodeOrThrow } from "./support.js"

const base = {
  seed: 3,
  durationMs: 2000,
  load: { kind: "constant", rps: 100 },
  endpoints: [{ count: 3, latency: { kind: "normal", meanMs: 20, sdMs: 3 } }],
  client: { failureAccrual: { kind: "none" } }
}

const only = (input: unknown) => Effect.map(Simulation.run(decodeOrThrow(input)), (o) => o.report.variants[0]!)

describe("Simulation", () => {
  it.effect("runs in simulated time with exact latencies", () =>
    Effect.gen(function*() {
      const v = yield* only({ ...base, endpoints: [{ latency: { kind: "constant", ms: 10 } }] })
      expect(v.name).toBe("default")
      expect(v.requests).toBe(200)
      expect(v.successes).toBe(200)
      expect(v.retries).toBe(0)
      expect(v.latencyMs).toEqual({ p50: 10, p90: 10, p95: 10, p99: 10, p999: 10, max: 10 })
      expect(v.endpoints).toEqual([{ index: 0, requests: 200, failures: 0 }])
    }))

  it.effect("the same seed gives the same report; another seed other numbers", () =>
    Effect.gen(function*() {
      const scenario = {
        ...base,
        load: { kind: "poisson", rps: 200 },
        endpoints: [{ count: 4, latency: { kind: "lognormal", meanMs: 20, sdMs: 10 }, failureRate: 0.1 }]
      }
      const a = yield* Simulation.run(decodeOrThrow(scenario))
      const b = yield* Simulation.run(decodeOrThrow(scenario))
      expect(b.report).toEqual(a.report)
      expect(Array.from(b.latencies[0]!.latencies)).toEqual(Array.from(a.latencies[0]!.latencies))
      const c = yield* Simulation.run(decodeOrThrow({ ...scenario, seed: 4 }))
      expect(c.report).not.toEqual(a.report)
      expect(a.report.variants[0]!.requests).toBe(a.report.variants[0]!.endpoints.reduce((n, e) => n + e.requests, 0))
    }))

  it.effect("the caller's timeout caps latency and counts as a failure", () =>
    Effect.gen(function*() {
      const v = yield* only({
        ...base,
        timeoutMs: 50,
        endpoints: [{ latency: { kind: "constant", ms: 10 } }, { latency: { kind: "constant", ms: 500 } }],
        client: { failureAccrual: { kind: "none" }, loadBalancer: { kind: "roundRobin" } }
      })
      expect(v.successes).toBe(100)
      expect(v.latencyMs.max).toBe(50)
      expect(v.latencyMs.p50).toBe(10)
    }))

  it.effect("retries follow the classifier, the budget and maxRetries", () =>
    Effect.gen(function*() {
      const failing = { ...base, endpoints: [{ latency: { kind: "constant", ms: 5 }, failureRate: 1 }] }
      const none = yield* only(failing)
      expect(none.retries).toBe(0)
      expect(none.successes).toBe(0)
      const fixed = yield* only({
        ...failing,
        client: {
          failureAccrual: { kind: "none" },
          responseClassifier: { kind: "io.l5d.http.retryableRead5XX" },
          retries: { budget: { minRetriesPerSec: 100000 }, maxRetries: 2 }
        }
      })
      expect(fixed.retries).toBe(400)
      expect(fixed.latencyMs.p50).toBe(15)
      const post = yield* only({
        ...failing,
        method: "POST",
        client: { failureAccrual: { kind: "none" }, responseClassifier: { kind: "io.l5d.http.retryableRead5XX" } }
      })
      expect(post.retries).toBe(0)
    }))

  it.effect("per-attempt and total timeouts apply", () =>
    Effect.gen(function*() {
      const slow = { ...base, endpoints: [{ latency: { kind: "constant", ms: 100 } }] }
      const attempt = yield* only({
        ...slow,
        client: {
          failureAccrual: { kind: "none" },
          requestAttemptTimeoutMs: 30,
          responseClassifier: { kind: "io.l5d.http.retryableRead5XX" },
          retries: { budget: { minRetriesPerSec: 100000 }, maxRetries: 1 }
        }
      })
      expect(attempt.successes).toBe(0)
      expect(attempt.retries).toBe(200)
      expect(attempt.latencyMs.max).toBe(60)
      const total = yield* only({ ...slow, client: { failureAccrual: { kind: "none" }, totalTimeoutMs: 40 } })
      expect(total.successes).toBe(0)
      expect(total.latencyMs.max).toBe(40)
    }))

  it.effect("failure accrual takes a failing endpoint out of rotation", () =>
    Effect.gen(function*() {
      const scenario = {
        ...base,
        durationMs: 10_000,
        endpoints: [{ count: 2, latency: { kind: "constant", ms: 5 } }, {
          latency: { kind: "constant", ms: 5 },
          failureRate: 1
        }]
      }
      const without = yield* only(scenario)
      const withAccrual = yield* only({
        ...scenario,
        client: {
          failureAccrual: { kind: "io.l5d.consecutiveFailures", failures: 3, backoff: { kind: "constant", ms: 5000 } }
        }
      })
      expect(without.endpoints[2]!.failures).toBeGreaterThan(250)
      expect(withAccrual.endpoints[2]!.failures).toBeLessThan(10)
      expect(withAccrual.successRate).toBeGreaterThan(0.99)
    }))

  it.effect("a variant whose requests never finish fails with SimulationError instead of hanging", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Simulation.run(decodeOrThrow({
        ...base,
        durationMs: 100,
        endpoints: [{ latency: { kind: "constant", ms: 7_200_000 } }]
      })))
      expect(Exit.isFailure(exit)).toBe(true)
      const error = yield* Effect.flip(Simulation.run(decodeOrThrow({
        ...base,
        durationMs: 100,
        endpoints: [{ latency: { kind: "constant", ms: 7_200_000 } }]
      })))
      expect(error._tag).toBe("SimulationError")
      expect(error.message).toContain("still in flight")
    }))

  it("a budget outside [0, 1000] (Finagle's bound) is refused when the scenario is decoded, with its location", () => {
    const decoded = Scenario.decode({
      ...base,
      variants: [{ name: "greedy", client: { retries: { budget: { percentCanRetry: 1500 } } } }]
    })
    expect(Result.isFailure(decoded)).toBe(true)
    if (Result.isFailure(decoded)) {
      expect(decoded.failure.message).toContain("variants[0].client.retries.budget.percentCanRetry")
    }
  })
})
