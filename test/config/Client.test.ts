import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Result from "effect/Result"
import * as Client from "../../src/config/Client.js"

const decode = (input: unknown) => Client.decodeSection(input)
const ok = (input: unknown) => {
  const r = decode(input)
  if (Result.isFailure(r)) throw new Error(Client.formatProblems(r.failure))
  return r.success
}
const problems = (input: unknown) => {
  const r = decode(input)
  if (Result.isSuccess(r)) throw new Error("expected problems")
  return Client.formatProblems(r.failure).split("\n")
}

describe("config/Client", () => {
  it("an empty section gets linkerd's defaults, with durations decoded", () => {
    const s = ok({})
    expect(s.loadBalancer).toEqual({ kind: "p2c", maxEffort: 5, enableProbation: false })
    expect(s.failureAccrual).toEqual({ kind: "io.l5d.consecutiveFailures", failures: 5 })
    expect(Duration.toMillis(s.requeueBudget.ttlSecs)).toBe(10_000)
    expect([s.requeueBudget.minRetriesPerSec, s.requeueBudget.percentCanRetry]).toEqual([10, 0.2])
    expect(s.retries.backoff.kind).toBe("constant")
    expect(s.retries.maxRetries).toBeUndefined()
    expect(s.responseClassifier.kind).toBe("io.l5d.http.nonRetryable5XX")
    expect(s.requestAttemptTimeoutMs).toBeUndefined()
    expect(s.totalTimeoutMs).toBeUndefined()
  })

  it("decodes every balancer kind with its defaults", () => {
    expect(ok({ loadBalancer: { kind: "ewma" } }).loadBalancer).toEqual({
      kind: "ewma",
      maxEffort: 5,
      decayTimeMs: Duration.millis(10_000),
      enableProbation: false
    })
    const aperture = ok({ loadBalancer: { kind: "aperture", minAperture: 3 } }).loadBalancer
    expect(aperture).toMatchObject({ kind: "aperture", maxEffort: 5, lowLoad: 0.5, highLoad: 2, minAperture: 3 })
    expect(ok({ loadBalancer: { kind: "heap" } }).loadBalancer.kind).toBe("heap")
    expect(ok({ loadBalancer: { kind: "roundRobin", maxEffort: 2 } }).loadBalancer).toMatchObject({ maxEffort: 2 })
  })

  it("decodes failure accrual kinds, backoffs, budgets, timeouts and classifiers", () => {
    const s = ok({
      failureAccrual: {
        kind: "io.l5d.successRateWindowed",
        successRate: 0.9,
        window: 30,
        backoff: { kind: "jittered", minMs: 10, maxMs: 1000 }
      },
      requeueBudget: { ttlSecs: 5, minRetriesPerSec: 1, percentCanRetry: 0.1 },
      requestAttemptTimeoutMs: 250,
      totalTimeoutMs: 1000,
      retries: { budget: { percentCanRetry: 0.5 }, backoff: { kind: "constant", ms: 20 }, maxRetries: 2 },
      responseClassifier: { kind: "io.l5d.http.retryableIdempotent5XX" }
    })
    expect(s.failureAccrual).toMatchObject({ kind: "io.l5d.successRateWindowed", successRate: 0.9 })
    expect(Duration.toSeconds((s.failureAccrual as { window: Duration.Duration }).window)).toBe(30)
    expect(Duration.toMillis(s.requestAttemptTimeoutMs!)).toBe(250)
    expect(Duration.toMillis(s.totalTimeoutMs!)).toBe(1000)
    expect(Duration.toMillis(s.requeueBudget.ttlSecs)).toBe(5000)
    expect(s.retries.budget.percentCanRetry).toBe(0.5)
    expect(s.retries.budget.minRetriesPerSec).toBe(10)
    expect(s.retries.maxRetries).toBe(2)
    expect(ok({ failureAccrual: { kind: "none" } }).failureAccrual).toEqual({ kind: "none" })
  })

  it("rejects unknown keys and kinds with their location", () => {
    expect(problems({ loadBalancer: { kind: "p2c", decayTimeMs: 1 }, tls: {} }).sort()).toEqual([
      "loadBalancer.decayTimeMs: unknown key",
      "tls: unknown key"
    ])
    expect(problems({ loadBalancer: { kind: "leastLoaded" } })).toEqual([
      "loadBalancer.kind: unknown kind \"leastLoaded\" (expected one of: p2c, ewma, aperture, heap, roundRobin)"
    ])
    expect(problems({ failureAccrual: { failures: 5 } })).toEqual([
      "failureAccrual.kind: missing \"kind\" (one of: io.l5d.consecutiveFailures, io.l5d.successRate, io.l5d.successRateWindowed, none)"
    ])
    expect(problems({ failureAccrual: "none" })[0]).toMatch(/^failureAccrual: expected an object with a "kind"/)
    expect(problems({ failureAccrual: { kind: "io.l5d.successRate", successRate: 0.9 } })).toEqual([
      "failureAccrual.requests: missing required key"
    ])
    expect(problems({ responseClassifier: { kind: "io.l5d.http.sometimes" } })[0]).toMatch(
      /^responseClassifier.kind: unknown kind "io.l5d.http.sometimes" \(expected one of: io.l5d.http.nonRetryable5XX, /
    )
    expect(problems({ loadBalancer: { kind: "heap", maxEffort: 3 } })).toEqual(["loadBalancer.maxEffort: unknown key"])
  })

  it("rejects out-of-range values", () => {
    expect(problems({
      loadBalancer: { kind: "ewma", decayTimeMs: 0, maxEffort: -1 },
      requeueBudget: { ttlSecs: 61, percentCanRetry: 1500 },
      totalTimeoutMs: -5
    })).toEqual([
      "loadBalancer.maxEffort: Expected a value greater than or equal to 0, got -1",
      "loadBalancer.decayTimeMs: Expected a value greater than 0, got 0",
      "requeueBudget.ttlSecs: Expected a value between 1 and 60, got 61",
      "requeueBudget.percentCanRetry: Expected a value between 0 and 1000, got 1500",
      "totalTimeoutMs: Expected a value greater than 0, got -5"
    ])
    expect(problems({ loadBalancer: { kind: "aperture", lowLoad: 3, highLoad: 2 } })).toEqual([
      "loadBalancer.highLoad: highLoad must be greater than lowLoad"
    ])
    expect(problems({ retries: { backoff: { kind: "jittered", minMs: 100, maxMs: 10 } } })).toEqual([
      "retries.backoff.maxMs: maxMs must be >= minMs"
    ])
  })

  it("formats paths", () => {
    expect(Client.formatPath(["routers", 0, "client", "loadBalancer", "kind"])).toBe(
      "routers[0].client.loadBalancer.kind"
    )
    expect(Client.formatPath(["a b"])).toBe("[\"a b\"]")
    expect(Client.formatPath([])).toBe("")
  })

  it("patches whole keys", () => {
    const base = ok({ loadBalancer: { kind: "ewma" }, totalTimeoutMs: 100 })
    const patched = Client.patch(base, { loadBalancer: { kind: "heap", enableProbation: false } })
    expect(patched.loadBalancer).toEqual({ kind: "heap", enableProbation: false })
    expect(Duration.toMillis(patched.totalTimeoutMs!)).toBe(100)
  })

  it("clientParamsOf and serviceParamsOf build the core values, with linkerd's defaults", () => {
    const s = ok({
      loadBalancer: { kind: "ewma", decayTimeMs: 5000 },
      failureAccrual: {
        kind: "io.l5d.successRate",
        successRate: 0.9,
        requests: 20,
        backoff: { kind: "constant", ms: 10000 }
      },
      retries: { budget: { ttlSecs: 20, percentCanRetry: 2 }, maxRetries: 3 },
      responseClassifier: { kind: "io.l5d.retryableRead5XX" },
      requestAttemptTimeoutMs: 300
    })
    const c = Client.clientParamsOf(s)
    expect(c.balancer.kind).toBe("ewma")
    expect(c.failureAccrual).toMatchObject({ _tag: "SuccessRate", successRate: 0.9, requests: 20 })
    expect(Duration.toMillis(c.attemptTimeout!)).toBe(300)
    expect(c.pool).toEqual({})
    const v = Client.serviceParamsOf(s)
    expect(Duration.toMillis(Duration.fromInputUnsafe(v.retries.budget.ttl!))).toBe(20_000)
    expect(v.retries.budget.percentCanRetry).toBe(2)
    expect(v.retries.maxRetries).toBe(3)
    expect(v.classifier).toBe("io.l5d.http.retryableRead5XX")
    expect(v.totalTimeout).toBeUndefined()

    const d = Client.clientParamsOf({})
    expect(d.balancer.kind).toBe("p2c")
    expect(d.failureAccrual).toMatchObject({ _tag: "ConsecutiveFailures", failures: 5 })
    expect(d.requeueBudget).toEqual({ ttl: Duration.seconds(10), minRetriesPerSec: 10, percentCanRetry: 0.2 })
    expect(d.attemptTimeout).toBeUndefined()
    expect(Client.clientParamsOf({ hostConnectionPool: { maxSize: 4, idleTimeMs: Duration.seconds(1) } }).pool)
      .toEqual({ maxConnections: 4, idleTimeout: Duration.seconds(1) })
    const e = Client.serviceParamsOf({})
    expect(e.classifier).toBe("io.l5d.http.nonRetryable5XX")
    expect(e.retries.maxRetries).toBeUndefined()
  })

  it("interpret (simulations) gives the same values", () => {
    const r = Client.interpret(ok({ loadBalancer: { kind: "aperture" }, totalTimeoutMs: 50 }))
    if (Result.isFailure(r)) throw new Error(Client.formatProblems(r.failure))
    expect(r.success.balancer.kind).toBe("aperture")
    expect(Duration.toMillis(r.success.totalTimeout!)).toBe(50)
    expect(r.success.responseClassifier).toBe("io.l5d.http.nonRetryable5XX")
  })
})
