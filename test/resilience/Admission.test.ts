import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import type { Failure } from "../../src/Failure.js"
import * as Filter from "../../src/Filter.js"
import * as Admission from "../../src/resilience/Admission.js"
import * as Deadline from "../../src/resilience/Deadline.js"
import * as Stack from "../../src/Stack.js"
import * as Stats from "../../src/Stats.js"
import * as Mock from "../../src/testing/Mock.js"

describe("Admission", () => {
  it.effect("runs maxConcurrency, queues maxPending, rejects the rest at once", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const mock = yield* Mock.make<number, number, Failure>()
      const admission = yield* Admission.make<number, number, Failure, never>({
        maxConcurrency: 2,
        maxPending: 1,
        stats: stats.scope("admission")
      })
      const svc = Filter.andThen(admission, mock.service)
      const f1 = yield* Effect.forkChild(svc.call(1))
      const f2 = yield* Effect.forkChild(svc.call(2))
      const f3 = yield* Effect.forkChild(svc.call(3))
      yield* Effect.yieldNow
      expect(mock.calls()).toBe(2)
      expect(admission.pending()).toBe(1)
      expect(svc.status).toBe("Busy")
      const rejected = yield* Effect.flip(svc.call(4))
      expect(rejected._tag).toBe("Overloaded")
      if (rejected._tag === "Overloaded") expect(rejected.reason).toBe("queueFull")
      expect(rejected.retryable).toBe(true)
      expect(stats.counterValue("admission/rejected")).toBe(1)
      const p1 = yield* mock.take
      yield* p1.succeed(10)
      expect(yield* Fiber.join(f1)).toBe(10)
      yield* Effect.yieldNow
      expect(mock.calls()).toBe(3)
      expect(admission.pending()).toBe(0)
      expect(svc.status).toBe("Open")
      yield* (yield* mock.take).succeed(20)
      yield* (yield* mock.take).succeed(30)
      expect(yield* Fiber.join(f2)).toBe(20)
      expect(yield* Fiber.join(f3)).toBe(30)
      expect(admission.inFlight()).toBe(0)
    }))

  it.effect("an interrupted waiter leaves the queue and its slot goes to the next", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make<number, number, Failure>()
      const admission = yield* Admission.make<number, number, Failure, never>({ maxConcurrency: 1, maxPending: 2 })
      const svc = Filter.andThen(admission, mock.service)
      const f1 = yield* Effect.forkChild(svc.call(1))
      const f2 = yield* Effect.forkChild(svc.call(2))
      const f3 = yield* Effect.forkChild(svc.call(3))
      yield* Effect.yieldNow
      expect(admission.pending()).toBe(2)
      yield* Fiber.interrupt(f2)
      expect(admission.pending()).toBe(1)
      yield* (yield* mock.take).succeed(1)
      expect(yield* Fiber.join(f1)).toBe(1)
      const p3 = yield* mock.take
      expect(p3.request).toBe(3)
      yield* p3.succeed(3)
      expect(yield* Fiber.join(f3)).toBe(3)
      expect(mock.received).toEqual([1, 3])
      expect(admission.inFlight()).toBe(0)
    }))

  it.effect("a waiting request honours its deadline", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const mock = yield* Mock.make<number, number, Failure>()
      const admission = yield* Admission.make<number, number, Failure, never>({
        maxConcurrency: 1,
        maxPending: 5,
        stats
      })
      const svc = Filter.andThen(admission, mock.service)
      yield* Effect.forkChild(svc.call(1))
      const f2 = yield* Effect.forkChild(Effect.flip(svc.call(2).pipe(Deadline.withTimeout("500 millis"))))
      yield* Effect.yieldNow
      expect(admission.pending()).toBe(1)
      yield* TestClock.adjust("500 millis")
      const error = yield* Fiber.join(f2)
      expect(error._tag).toBe("RequestTimeout")
      expect(admission.pending()).toBe(0)
      expect(stats.counterValue("deadline_exceeded")).toBe(1)
      const expired = yield* Effect.flip(svc.call(3).pipe(Deadline.withDeadline(Deadline.make(0, 100))))
      expect(expired._tag).toBe("RequestTimeout")
      expect(mock.calls()).toBe(1)
    }))

  it.effect("module reads Config; unlimited by default installs nothing", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make<number, number, Failure>({ respond: (n) => Effect.succeed(n) })
      const stack = Stack.make(Admission.module<number, number, Failure, never>())
      const plain = yield* Stack.build(stack, mock.service)
      expect(plain).toBe(mock.service)
      const limited = yield* Stack.build(stack, mock.service).pipe(
        Effect.provideService(Admission.Config, { maxConcurrency: 1 })
      )
      expect(yield* limited.call(5)).toBe(5)
    }))

  it.effect("bad options rejected", () =>
    Effect.gen(function*() {
      expect((yield* Effect.flip(Admission.make({ maxPending: -1 }))).option).toBe("maxPending")
      expect((yield* Effect.flip(Admission.make({ maxConcurrency: 0 }))).option).toBe("maxConcurrency")
      expect((yield* Effect.flip(Admission.make({ maxConcurrency: 1.5 }))).message).toContain("integer")
    }))
})
