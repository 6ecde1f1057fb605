import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import { TestClock } from "effect/testing"
import { ConnectionFailed, type Failure, RequestTimeout, ResponseFailure } from "../../src/Failure.js"
import * as Filter from "../../src/Filter.js"
import * as Backoff from "../../src/resilience/Backoff.js"
import * as Deadline from "../../src/resilience/Deadline.js"
import * as ResponseClass from "../../src/resilience/ResponseClass.js"
import * as Retries from "../../src/resilience/Retries.js"
import * as RetryBudget from "../../src/resilience/RetryBudget.js"
import * as Timeout from "../../src/resilience/Timeout.js"
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

/** Calls every failure retryable, timeouts included: linkerd's `retryableRead5XX` for a GET. */
const retryAll: ResponseClass.ResponseClassifier<unknown, unknown, unknown> = (_request, exit) =>
  exit._tag === "Success" ? ResponseClass.Success : ResponseClass.RetryableFailure

/**
 * A backend that never answers, behind a per-attempt timeout: `starts` records when (on the `Clock`)
 * each attempt passed the retry filter, whether or not the timeout let it reach the backend.
 */
const silent = (attemptTimeout: Duration.Input) => {
  const starts: Array<number> = []
  const reached: Array<number> = []
  const backend = Service.make((_: string): Effect.Effect<string, Failure> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      reached.push(now)
      return Effect.never
    })
  )
  const timed = Filter.andThen(
    Timeout.makeUnsafe<string, string, Failure, never>(
      Duration.fromInputUnsafe(attemptTimeout),
      "attempt",
      true,
      Stats.noop
    ),
    backend
  )
  const service = Service.make((request: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      starts.push(now)
      return timed.call(request)
    })
  )
  return { service, starts, reached }
}

describe("Retries and the deadline", () => {
  it.effect("a backend that never answers (attempt 1 s, deadline 3 s): 3 attempts, not 101; the budget keeps 96", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const budget = yield* RetryBudget.make()
      const backend = silent("1 second")
      const svc = Filter.andThen(
        yield* Retries.make<string, string, Failure, never>({ classifier: retryAll, budget, stats }),
        backend.service
      )
      for (const request of ["a", "b"]) {
        const before = backend.starts.length
        // an inherited deadline (l5d-ctx-deadline) has no timer of its own: only the retry filter can stop
        const fiber = yield* Effect.forkChild(Effect.flip(svc.call(request).pipe(Deadline.withTimeout("3 seconds"))))
        yield* TestClock.adjust("5 seconds")
        const error = yield* Fiber.join(fiber)
        expect(error).toBeInstanceOf(RequestTimeout)
        const starts = backend.starts.slice(before)
        expect(starts.map((t) => t - starts[0]!)).toEqual([0, 1000, 2000])
      }
      expect(backend.reached.length).toBe(6)
      expect(stats.counterValue("total")).toBe(4)
      expect(stats.counterValue("budget_exhausted")).toBe(0)
      expect(stats.counterValue("deadline_exceeded")).toBe(2)
      expect(yield* budget.balance).toBe(96)
    }))

  it.effect("the same under a total timeout above (the path stack): 3 attempts", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const backend = silent("1 second")
      const svc = Filter.andThen(
        Timeout.makeUnsafe<string, string, Failure, never>(Duration.seconds(3), "total", true, Stats.noop),
        Filter.andThen(
          yield* Retries.make<string, string, Failure, never>({ classifier: retryAll, stats }),
          backend.service
        )
      )
      const fiber = yield* Effect.forkChild(Effect.flip(svc.call("a")))
      yield* TestClock.adjust("5 seconds")
      expect((yield* Fiber.join(fiber))._tag).toBe("RequestTimeout")
      expect(backend.starts).toEqual([0, 1000, 2000])
      expect(stats.counterValue("total")).toBe(2)
    }))

  it.effect("after a timeout the retry waits its backoff; a retry that would start past the deadline does not", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const budget = yield* RetryBudget.make()
      const backend = silent("1 second")
      const svc = Filter.andThen(
        yield* Retries.make<string, string, Failure, never>({
          classifier: retryAll,
          backoff: Backoff.constant("500 millis"),
          budget,
          stats
        }),
        backend.service
      )
      const fiber = yield* Effect.forkChild(Effect.flip(svc.call("a").pipe(Deadline.withTimeout("3 seconds"))))
      yield* TestClock.adjust("2500 millis")
      const error = yield* Fiber.join(fiber)
      // attempts at 0 and 1.5 s; the second times out at 2.5 s and a third would start at 3 s
      expect(backend.starts).toEqual([0, 1500])
      expect(error).toBeInstanceOf(RequestTimeout)
      if (error._tag === "RequestTimeout") expect(error.scope).toBe("attempt")
      expect(stats.counterValue("total")).toBe(1)
      expect(stats.counterValue("deadline_exceeded")).toBe(1)
      expect(yield* budget.balance).toBe(99)
    }))

  it.effect("a deadline already passed: zero attempts, nothing deposited", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const budget = yield* RetryBudget.make({ minRetriesPerSec: 0, percentCanRetry: 1 })
      const backend = silent("1 second")
      const svc = Filter.andThen(
        yield* Retries.make<string, string, Failure, never>({ classifier: retryAll, budget, stats }),
        backend.service
      )
      yield* TestClock.adjust("10 seconds")
      const error = yield* Effect.flip(svc.call("a").pipe(Deadline.withDeadline(Deadline.make(9_000, 10_000))))
      expect(error).toBeInstanceOf(RequestTimeout)
      if (error._tag === "RequestTimeout") {
        expect(error.scope).toBe("deadline")
        expect(Duration.toMillis(error.timeout)).toBe(1000)
      }
      expect(backend.starts.length).toBe(0)
      expect(stats.counterValue("deadline_exceeded")).toBe(1)
      expect(yield* budget.balance).toBe(0)
    }))

  it.effect("a deadline-exceeded failure is never retried, whatever the classifier; an attempt timeout is", () =>
    Effect.gen(function*() {
      for (const [scope, calls] of [["deadline", 1], ["total", 1], ["attempt", 3]] as const) {
        let n = 0
        const leaf = Service.make((_: string): Effect.Effect<string, Failure> => {
          n++
          return Effect.fail(new RequestTimeout({ scope, timeout: Duration.seconds(1) }))
        })
        const svc = Filter.andThen(
          yield* Retries.make<string, string, Failure, never>({
            classifier: retryAll,
            budget: RetryBudget.infinite,
            maxRetries: 2
          }),
          leaf
        )
        expect((yield* Effect.flip(svc.call("a")))._tag).toBe("RequestTimeout")
        expect([scope, n]).toEqual([scope, calls])
      }
    }))
})
