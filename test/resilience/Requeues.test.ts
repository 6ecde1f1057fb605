import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import { ConnectionFailed, type Failure, RequestTimeout, ResponseFailure } from "../../src/Failure.js"
import * as Filter from "../../src/Filter.js"
import * as Backoff from "../../src/resilience/Backoff.js"
import * as Deadline from "../../src/resilience/Deadline.js"
import * as Requeues from "../../src/resilience/Requeues.js"
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

/** A backend that refuses every connection, recording when (on the `Clock`) each attempt started. */
const dead = () => {
  const starts: Array<number> = []
  const service = Service.make((_: string): Effect.Effect<string, Failure> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      starts.push(now)
      return Effect.fail(refused)
    })
  )
  return { service, starts }
}

describe("Requeues", () => {
  it.effect("requeues failures that never reached a server: the first at once, later ones after a backoff", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const svc = Filter.andThen(
        yield* Requeues.make<string, string, Failure, never>({ stats: stats.scope("retries") }),
        flaky(1, refused)
      )
      expect(yield* svc.call("a")).toBe("ok")
      expect(stats.counterValue("retries/requeues")).toBe(1)
      const svc3 = Filter.andThen(yield* Requeues.make<string, string, Failure, never>(), flaky(3, refused))
      const fiber = yield* Effect.forkChild(svc3.call("b"))
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(fiber)).toBe("ok")
    }))

  it.effect("a dead backend costs at most 5 attempts per request, spaced by the backoff; the budget keeps 92 of 100", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const budget = yield* RetryBudget.make()
      const backend = dead()
      const svc = Filter.andThen(
        yield* Requeues.make<string, string, Failure, never>({ budget, stats: stats.scope("retries") }),
        backend.service
      )
      for (const request of ["a", "b"]) {
        const before = backend.starts.length
        const fiber = yield* Effect.forkChild(Effect.flip(svc.call(request)))
        yield* TestClock.adjust("1 second")
        const error = yield* Fiber.join(fiber)
        expect(error._tag).toBe("RetryBudgetExhausted")
        expect(error.retryable).toBe(false)
        const starts = backend.starts.slice(before)
        expect(starts.length).toBe(5)
        const gaps = starts.slice(1).map((t, i) => t - starts[i]!)
        expect(gaps[0]).toBe(0)
        for (const gap of gaps.slice(1)) {
          expect(gap).toBeGreaterThanOrEqual(5)
          expect(gap).toBeLessThanOrEqual(100)
        }
      }
      expect(stats.counterValue("retries/requeues")).toBe(8)
      expect(stats.counterValue("retries/request_limit")).toBe(2)
      expect(yield* budget.balance).toBe(92)
    }))

  it.effect("the default backoff: 0, then decorrelated jitter from 5 ms, never above 100 ms", () =>
    Effect.gen(function*() {
      const delays = yield* Backoff.take(Requeues.defaultBackoff, 12)
      expect(delays[0]).toBe(0)
      expect(delays[1]).toBe(5)
      for (let i = 2; i < delays.length; i++) {
        expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]!)
        expect(delays[i]).toBeLessThanOrEqual(100)
      }
    }))

  it.effect("without the absolute ceiling, caps requeues per request at 20 % of the balance (Finagle)", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const budget = yield* RetryBudget.make()
      const svc = Filter.andThen(
        yield* Requeues.make<string, string, Failure, never>({
          budget,
          maxRequeues: Infinity,
          backoff: Backoff.immediate,
          stats: stats.scope("retries")
        }),
        flaky(1000, refused)
      )
      const error = yield* Effect.flip(svc.call("a"))
      expect(error._tag).toBe("RetryBudgetExhausted")
      expect(stats.counterValue("retries/requeues")).toBe(20)
      expect(stats.counterValue("retries/request_limit")).toBe(1)
      expect(yield* budget.balance).toBe(80)
      yield* Effect.flip(svc.call("b"))
      expect(stats.counterValue("retries/requeues")).toBe(20 + 16)
    }))

  it.effect("a deadline already passed: no attempt at all, a RequestTimeout of scope deadline", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const budget = yield* RetryBudget.make()
      const backend = dead()
      const svc = Filter.andThen(
        yield* Requeues.make<string, string, Failure, never>({ budget, stats: stats.scope("retries") }),
        backend.service
      )
      yield* TestClock.adjust("10 seconds")
      const error = yield* Effect.flip(svc.call("a").pipe(Deadline.withDeadline(Deadline.make(8_000, 10_000))))
      expect(error).toBeInstanceOf(RequestTimeout)
      if (error._tag === "RequestTimeout") expect(error.scope).toBe("deadline")
      expect(error.retryable).toBe(false)
      expect(backend.starts.length).toBe(0)
      expect(stats.counterValue("retries/deadline_exceeded")).toBe(1)
      expect(yield* budget.balance).toBe(100)
    }))

  it.effect("no requeue whose backoff would end past the deadline; nothing withdrawn for it", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const budget = yield* RetryBudget.make()
      const backend = dead()
      const svc = Filter.andThen(
        yield* Requeues.make<string, string, Failure, never>({
          budget,
          backoff: Backoff.constant("40 millis"),
          maxRequeues: 10,
          stats: stats.scope("retries")
        }),
        backend.service
      )
      const fiber = yield* Effect.forkChild(Effect.flip(svc.call("a").pipe(Deadline.withTimeout("100 millis"))))
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("RequestTimeout")
      expect(backend.starts).toEqual([0, 40, 80])
      expect(stats.counterValue("retries/requeues")).toBe(2)
      expect(stats.counterValue("retries/deadline_exceeded")).toBe(1)
      expect(yield* budget.balance).toBe(98)
    }))

  it.effect("a deadline-exceeded failure is never requeued, even when flagged retryable", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      let calls = 0
      const late = Object.assign(new RequestTimeout({ scope: "deadline", timeout: Duration.zero }), { retryable: true })
      const leaf = Service.make((_: string): Effect.Effect<string, Failure> => {
        calls++
        return Effect.fail(late)
      })
      const svc = Filter.andThen(
        yield* Requeues.make<string, string, Failure, never>({ budget: RetryBudget.infinite, stats }),
        leaf
      )
      expect((yield* Effect.flip(svc.call("a")))._tag).toBe("RequestTimeout")
      expect(calls).toBe(1)
      expect(stats.counterValue("requeues")).toBe(0)
    }))

  it.effect("an empty budget counts as budget_exhausted, not request_limit", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const svc = Filter.andThen(
        yield* Requeues.make<string, string, Failure, never>({ budget: RetryBudget.empty, stats }),
        flaky(1, refused)
      )
      const error = yield* Effect.flip(svc.call("a"))
      expect(error._tag).toBe("RetryBudgetExhausted")
      expect(stats.counterValue("budget_exhausted")).toBe(1)
      expect(stats.counterValue("request_limit")).toBe(0)
    }))

  it.effect("does not requeue while the next service is not Open, nor non-retryable failures", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const busy = Service.withStatus(flaky(1, refused), () => "Busy")
      const svc = Filter.andThen(
        yield* Requeues.make<string, string, Failure, never>({ stats: stats.scope("retries") }),
        busy
      )
      expect((yield* Effect.flip(svc.call("a")))._tag).toBe("ConnectionFailed")
      expect(stats.counterValue("retries/not_open")).toBe(1)
      const written = new ConnectionFailed({ address: "x", reason: "reset", written: true })
      const svc2 = Filter.andThen(yield* Requeues.make<string, string, Failure, never>(), flaky(1, written))
      expect((yield* Effect.flip(svc2.call("a")))._tag).toBe("ConnectionFailed")
    }))

  it.effect("deposits only when the final outcome is a success", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make({ minRetriesPerSec: 0, percentCanRetry: 1, ttl: "10 seconds" })
      const ok = Filter.andThen(yield* Requeues.make<string, string, Failure, never>({ budget }), flaky(0, refused))
      yield* ok.call("a")
      expect(yield* budget.balance).toBe(1)
      const bad = Filter.andThen(
        yield* Requeues.make<string, string, Failure, never>({ budget }),
        Service.fail(new ResponseFailure({ response: 1, retryable: false }))
      )
      yield* Effect.flip(bad.call("a"))
      expect(yield* budget.balance).toBe(1)
    }))

  it.effect("bad options rejected", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Requeues.make({ maxRequeuesPerRequest: 2 }))
      expect(e.message).toContain("maxRequeuesPerRequest")
      expect((yield* Effect.flip(Requeues.make({ maxRequeues: 1.5 }))).option).toBe("maxRequeues")
    }))
})
