import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type { RequestTimeout } from "../../src/Failure.js"
import * as Filter from "../../src/Filter.js"
import * as Deadline from "../../src/resilience/Deadline.js"
import * as Timeout from "../../src/resilience/Timeout.js"
import * as Service from "../../src/Service.js"
import * as Stats from "../../src/Stats.js"

/** A service that never answers and counts how often it was interrupted. */
const hanging = () => {
  let interrupted = 0
  const service = Service.make((_: string) =>
    Effect.onInterrupt(Effect.never, () =>
      Effect.sync(() => {
        interrupted++
      }))
  )
  return { service, interrupted: () => interrupted }
}

const attemptTimeout = (ms: number, stats: Stats.StatsReceiver = Stats.noop) =>
  Timeout.makeUnsafe<string, string, RequestTimeout, never>(Duration.millis(ms), "attempt", true, stats)

// With Effect's live clock the timer is a plain setTimeout rather than a sleeping fiber: the same
// outcomes as under TestClock (test/resilience/Timeout.test.ts), checked on real time.
describe("Timeout on the live clock", () => {
  it.live("an attempt still running at the limit is interrupted and fails with RequestTimeout", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const h = hanging()
      const svc = Filter.toService(attemptTimeout(20, stats), h.service)
      const error = yield* Effect.flip(svc.call("a"))
      expect(error._tag).toBe("RequestTimeout")
      expect(error.scope).toBe("attempt")
      expect(h.interrupted()).toBe(1)
      expect(stats.counterValue("timeouts")).toBe(1)
    }))

  it.live("an answer before the limit wins, synchronous or not", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const later = Service.make((s: string) => Effect.as(Effect.sleep("5 millis"), `${s}!`))
      const now = Service.make((s: string) => Effect.succeed(`${s}?`))
      expect(yield* Filter.toService(attemptTimeout(10_000, stats), later).call("a")).toBe("a!")
      expect(yield* Filter.toService(attemptTimeout(10_000, stats), now).call("b")).toBe("b?")
      expect(stats.counterValue("timeouts")).toBe(0)
    }))

  it.live("a caller that gives up interrupts the attempt it is waiting for", () =>
    Effect.gen(function*() {
      const h = hanging()
      const svc = Filter.toService(attemptTimeout(10_000), h.service)
      const fiber = yield* Effect.forkChild(svc.call("a"))
      yield* Effect.sleep("5 millis")
      yield* Fiber.interrupt(fiber)
      expect(h.interrupted()).toBe(1)
    }))

  it.live("requests in flight together each get their own limit from one shared timer", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      let interrupted = 0
      const svc = Filter.toService(
        attemptTimeout(30, stats),
        Service.make((s: string) =>
          s.startsWith("slow")
            ? Effect.onInterrupt(Effect.never, () =>
              Effect.sync(() => {
                interrupted++
              }))
            : Effect.as(Effect.sleep("2 millis"), s)
        )
      )
      const names = ["slow-1", "fast-1", "slow-2", "fast-2", "slow-3", "fast-3"]
      const results = yield* Effect.forEach(names, (n) => Effect.result(svc.call(n)), { concurrency: "unbounded" })
      expect(results.map((r) => r._tag === "Success" ? r.success : r.failure._tag)).toEqual([
        "RequestTimeout",
        "fast-1",
        "RequestTimeout",
        "fast-2",
        "RequestTimeout",
        "fast-3"
      ])
      expect(interrupted).toBe(3)
      expect(stats.counterValue("timeouts")).toBe(3)
      // and a later request gets a fresh limit
      expect(yield* svc.call("fast-4")).toBe("fast-4")
    }))

  it.live("an inherited deadline earlier than the limit cuts the wait", () =>
    Effect.gen(function*() {
      const h = hanging()
      const svc = Filter.toService(attemptTimeout(10_000), h.service)
      const now = Date.now()
      const error = yield* Effect.flip(
        Effect.provideService(svc.call("a"), Deadline.Current, Deadline.make(now, now + 20))
      )
      expect(error._tag).toBe("RequestTimeout")
      expect(error.scope).toBe("deadline")
      expect(h.interrupted()).toBe(1)
    }))

  it.live("a failure before the limit is the attempt's own", () =>
    Effect.gen(function*() {
      const failing = Service.make((_: string) =>
        Effect.andThen(Effect.sleep("2 millis"), Effect.fail("nope" as const))
      )
      const filter = Timeout.makeUnsafe<string, string, "nope", never>(
        Duration.millis(10_000),
        "attempt",
        true,
        Stats.noop
      )
      expect(yield* Effect.flip(Filter.toService(filter, failing).call("a"))).toBe("nope")
    }))
})
