import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import { TestClock } from "effect/testing"
import { ConnectionFailed, type Failure, ResponseFailure } from "../../src/Failure.js"
import * as Filter from "../../src/Filter.js"
import * as Backoff from "../../src/resilience/Backoff.js"
import * as Requeues from "../../src/resilience/Requeues.js"
import * as ResponseClass from "../../src/resilience/ResponseClass.js"
import * as Retries from "../../src/resilience/Retries.js"
import * as RetryBudget from "../../src/resilience/RetryBudget.js"
import * as Service from "../../src/Service.js"
import * as Stats from "../../src/Stats.js"

const refused = new ConnectionFailed({ address: "127.0.0.1:1", reason: "refused", written: false })
const flaky = (failures: number, error: Failure) => {
  let n = 0
  return Service.make((_: string): Effect.Effect<string, Failure> =>
    n++ < failures ? Effect.fail(error) : Effect.succeed("ok")
  )
}

describe("Retries", () => {
  it.effect("retries retryable failures after the backoff and counts them", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const retries = yield* Retries.make<string, string, Failure, never>({
        backoff: Backoff.constant("100 millis"),
        stats: stats.scope("retries")
      })
      const svc = Filter.andThen(retries, flaky(2, refused))
      const fiber = yield* Effect.forkChild(svc.call("a"))
      yield* TestClock.adjust("199 millis")
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("1 millis")
      expect(yield* Fiber.join(fiber)).toBe("ok")
      expect(stats.counterValue("retries/total")).toBe(2)
      expect(stats.histogramSummary("retries/per_request")).toMatchObject({ count: 1, min: 2, max: 2, p50: 2 })
    }))

  it.effect("does not retry non-retryable failures", () =>
    Effect.gen(function*() {
      const leaf = flaky(1, new ResponseFailure({ response: 500, retryable: false }))
      const svc = Filter.andThen(yield* Retries.make<string, string, Failure, never>(), leaf)
      expect((yield* Effect.flip(svc.call("a")))._tag).toBe("ResponseFailure")
    }))

  it.effect("retries successes the classifier calls failures, and returns the last response when done", () =>
    Effect.gen(function*() {
      let n = 0
      const leaf = Service.make((_: string) => Effect.succeed(n++ < 5 ? 503 : 200))
      const classifier: ResponseClass.ResponseClassifier<string, number, never> = (_req, exit) =>
        exit._tag === "Success" && exit.value >= 500 ? ResponseClass.RetryableFailure : ResponseClass.Success
      const svc = Filter.andThen(yield* Retries.make<string, number, never, never>({ classifier, maxRetries: 2 }), leaf)
      expect(yield* svc.call("a")).toBe(503)
      expect(n).toBe(3)
    }))

  it.effect("stops at the budget with RetryBudgetExhausted (not retryable)", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const budget = yield* RetryBudget.make({ minRetriesPerSec: 1, percentCanRetry: 0, ttl: "3 seconds" })
      const svc = Filter.andThen(
        yield* Retries.make<string, string, Failure, never>({ budget, stats: stats.scope("retries") }),
        flaky(100, refused)
      )
      const error = yield* Effect.flip(svc.call("a"))
      expect(error._tag).toBe("RetryBudgetExhausted")
      expect(error.retryable).toBe(false)
      if (error._tag === "RetryBudgetExhausted") expect(error.attempts).toBe(4)
      expect(stats.counterValue("retries/budget_exhausted")).toBe(1)
      expect(stats.counterValue("retries/total")).toBe(3)
    }))

  it.effect("ends when a bounded backoff schedule ends", () =>
    Effect.gen(function*() {
      const svc = Filter.andThen(
        yield* Retries.make<string, string, Failure, never>({
          backoff: Backoff.immediate.pipe(Schedule.upTo({ times: 1 })),
          budget: RetryBudget.infinite
        }),
        flaky(100, refused)
      )
      expect((yield* Effect.flip(svc.call("a")))._tag).toBe("ConnectionFailed")
    }))

  it.effect("bad options rejected", () =>
    Effect.gen(function*() {
      expect((yield* Effect.flip(Retries.make({ maxRetries: -1 }))).option).toBe("maxRetries")
    }))
})
