import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import { ConnectionFailed, type Failure } from "../../src/Failure.js"
import * as Filter from "../../src/Filter.js"
import * as Backup from "../../src/resilience/Backup.js"
import * as RetryBudget from "../../src/resilience/RetryBudget.js"
import * as Stats from "../../src/Stats.js"
import * as Mock from "../../src/testing/Mock.js"

const warmUp = Effect.fnUntraced(function*(
  svc: { readonly call: (n: number) => Effect.Effect<string, Failure> },
  mock: Mock.Mock<number, string, Failure>,
  n: number
) {
  for (let i = 0; i < n; i++) {
    const f = yield* Effect.forkChild(svc.call(i))
    const p = yield* mock.take
    yield* TestClock.adjust("100 millis")
    yield* p.succeed("warm")
    yield* Fiber.join(f)
  }
})

describe("Backup requests", () => {
  it.effect("no backups before the first refresh; then the backup wins and the original is interrupted", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const mock = yield* Mock.make<number, string, Failure>()
      const backup = yield* Backup.make<number, string, Failure, never>({
        maxExtraLoad: 0.5,
        refreshInterval: "1 second",
        stats
      })
      const svc = Filter.andThen(backup, mock.service)
      yield* warmUp(svc, mock, 4)
      expect(backup.sendBackupAfter()).toBe(Infinity)
      expect(mock.calls()).toBe(4)
      yield* TestClock.adjust("1 second")

      const fiber = yield* Effect.forkChild(svc.call(100))
      const original = yield* mock.take
      expect(backup.sendBackupAfter()).toBe(100)
      yield* TestClock.adjust("99 millis")
      expect(mock.calls()).toBe(5)
      yield* TestClock.adjust("1 millis")
      const second = yield* mock.take
      expect(second.request).toBe(100)
      yield* second.succeed("backup")
      expect(yield* Fiber.join(fiber)).toBe("backup")
      expect(original.isInterrupted()).toBe(true)
      expect(stats.counterValue("backups_sent")).toBe(1)
      expect(stats.counterValue("backups_won")).toBe(1)
    }))

  it.effect("the original may still win, the loser backup is interrupted; a failed winner yields the other", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const mock = yield* Mock.make<number, string, Failure>()
      const backup = yield* Backup.make<number, string, Failure, never>({
        maxExtraLoad: 0.5,
        refreshInterval: "1 second",
        stats
      })
      const svc = Filter.andThen(backup, mock.service)
      yield* warmUp(svc, mock, 6)
      yield* TestClock.adjust("1 second")

      const f1 = yield* Effect.forkChild(svc.call(1))
      const o1 = yield* mock.take
      yield* TestClock.adjust("100 millis")
      const b1 = yield* mock.take
      yield* o1.succeed("original")
      expect(yield* Fiber.join(f1)).toBe("original")
      expect(b1.isInterrupted()).toBe(true)
      expect(stats.counterValue("backups_won")).toBe(0)

      const f2 = yield* Effect.forkChild(svc.call(2))
      const o2 = yield* mock.take
      yield* TestClock.adjust("100 millis")
      const b2 = yield* mock.take
      yield* o2.fail(new ConnectionFailed({ address: "x", reason: "reset", written: true }))
      yield* Effect.yieldNow
      expect(b2.isInterrupted()).toBe(false)
      yield* b2.succeed("second")
      expect(yield* Fiber.join(f2)).toBe("second")
      expect(stats.counterValue("backups_sent")).toBe(2)
    }))

  it.effect("bounded by the budgets: no backup when the client budget is empty", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const mock = yield* Mock.make<number, string, Failure>()
      const backup = yield* Backup.make<number, string, Failure, never>({
        maxExtraLoad: 0.5,
        refreshInterval: "1 second",
        budget: RetryBudget.empty,
        stats
      })
      const svc = Filter.andThen(backup, mock.service)
      yield* warmUp(svc, mock, 4)
      yield* TestClock.adjust("1 second")
      const f = yield* Effect.forkChild(svc.call(1))
      const o = yield* mock.take
      yield* TestClock.adjust("500 millis")
      expect(mock.calls()).toBe(5)
      expect(stats.counterValue("budget_exhausted")).toBe(1)
      yield* o.succeed("slow")
      expect(yield* Fiber.join(f)).toBe("slow")
    }))

  it.effect("bad options rejected", () =>
    Effect.gen(function*() {
      expect((yield* Effect.flip(Backup.make({ maxExtraLoad: 1 }))).option).toBe("maxExtraLoad")
      expect((yield* Effect.flip(Backup.make({ maxExtraLoad: 0.1, window: 0 }))).option).toBe("window")
    }))
})
