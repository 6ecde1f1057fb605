/**
 * The simulated twin of test/e2e/hung-backend.test.ts: one endpoint that never answers next to a
 * healthy one, the same client and service keys. The simulator runs the proxy's stack-building
 * functions, so it predicts what the proxy does: the hung endpoint is removed by failure accrual
 * through the attempt timeout, and the requests that reached it are retried on the healthy one.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stats from "../../src/Stats.js"
import * as Scenario from "../../src/testing/Scenario.js"
import * as Simulation from "../../src/testing/Simulation.js"

const scenario = `
seed: 7
durationMs: 5000
load: {kind: constant, rps: 50}
timeoutMs: 10000
endpoints:
- latency: {kind: constant, ms: 1}
- latency: {kind: never}
client:
  requestAttemptTimeoutMs: 100
  failureAccrual: {kind: io.l5d.consecutiveFailures, failures: 5}
  responseClassifier: {kind: io.l5d.http.retryableRead5XX}
`

describe("simulated endpoint that never answers", () => {
  it.effect("is removed through the attempt timeout; requests succeed on the other", () =>
    Effect.gen(function*() {
      const parsed = Scenario.parse(scenario, "hung.yaml")
      if (Result.isFailure(parsed)) throw new Error(String(parsed.failure))
      const stats = Stats.makeInMemory()
      const { report } = yield* Simulation.run(parsed.success).pipe(Effect.provideService(Stats.Receiver, stats))
      const v = report.variants[0]!
      expect(v.requests).toBe(250)
      expect(stats.counterValue("client/failure_accrual/removals")).toBeGreaterThanOrEqual(1)
      expect(stats.counterValue("client/request_timeout/timeouts")).toBe(v.endpoints[1]!.requests)
      expect(v.successRate).toBeGreaterThanOrEqual(0.99)
      expect(v.endpoints[1]!.requests).toBeLessThan(20)
      expect(stats.counterValue("service/requests")).toBe(250)
      expect(stats.counterValue("service/success")).toBe(v.successes)
    }))
})
