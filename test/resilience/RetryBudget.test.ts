import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { TestClock } from "effect/testing"
import * as RetryBudget from "../../src/resilience/RetryBudget.js"

const pairs = (budget: RetryBudget.RetryBudget, n: number) =>
  Effect.gen(function*() {
    let retries = 0
    for (let i = 0; i < n; i++) {
      yield* budget.deposit
      if (yield* budget.tryWithdraw) retries++
      else expect(yield* budget.balance).toBe(0)
    }
    return retries
  })

describe("RetryBudget", () => {
  it.effect("defaults: an idle budget holds minRetriesPerSec·ttl = 100 retries", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make()
      expect(yield* budget.balance).toBe(100)
    }))

  it.effect("10,000 deposit/withdraw pairs allow 0.2·n + minRetriesPerSec·ttl retries (±1)", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make()
      const n = 10_000
      const retries = yield* pairs(budget, n)
      expect(Math.abs(retries - (0.2 * n + 10 * 10))).toBeLessThanOrEqual(1)
    }))

  for (const percentCanRetry of [0.0001, 0.01, 0.1, 0.5, 0.999, 1]) {
    it.effect(`arithmetic holds for percentCanRetry ${percentCanRetry}`, () =>
      Effect.gen(function*() {
        const budget = yield* RetryBudget.make({ percentCanRetry, minRetriesPerSec: 5, ttl: "10 seconds" })
        const n = 10_000
        const retries = yield* pairs(budget, n)
        expect(Math.abs(retries - Math.min(n, percentCanRetry * n + 5 * 10))).toBeLessThanOrEqual(1)
      }))
  }

  it.effect("percentCanRetry 0 allows only the reserve", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make({ percentCanRetry: 0, minRetriesPerSec: 3, ttl: "2 seconds" })
      expect(yield* pairs(budget, 1000)).toBe(6)
    }))

  it.effect("deposits and withdrawals expire after ttl", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make({ minRetriesPerSec: 0, percentCanRetry: 0.5, ttl: "1 second" })
      for (let i = 0; i < 10; i++) yield* budget.deposit
      expect(yield* budget.balance).toBe(5)
      expect(yield* budget.tryWithdraw).toBe(true)
      expect(yield* budget.balance).toBe(4)
      yield* TestClock.adjust("1 second")
      expect(yield* budget.balance).toBe(0)
      expect(yield* budget.tryWithdraw).toBe(false)
    }))

  it.effect("(0, 0) is empty; infinite always allows", () =>
    Effect.gen(function*() {
      const none = yield* RetryBudget.make({ minRetriesPerSec: 0, percentCanRetry: 0 })
      yield* none.deposit
      expect(yield* none.tryWithdraw).toBe(false)
      expect(yield* RetryBudget.empty.tryWithdraw).toBe(false)
      expect(yield* RetryBudget.infinite.tryWithdraw).toBe(true)
      expect(yield* RetryBudget.infinite.balance).toBe(100)
    }))

  it.effect("withdrawOnly shares the balance but ignores deposits", () =>
    Effect.gen(function*() {
      const budget = yield* RetryBudget.make({ minRetriesPerSec: 1, percentCanRetry: 1, ttl: "1 second" })
      const view = RetryBudget.withdrawOnly(budget)
      yield* view.deposit
      expect(yield* view.balance).toBe(1)
      expect(yield* view.tryWithdraw).toBe(true)
      expect(yield* budget.balance).toBe(0)
    }))

  it.effect("bad options are rejected at construction with the option named", () =>
    Effect.gen(function*() {
      const e1 = yield* Effect.flip(RetryBudget.make({ percentCanRetry: 1.5 }))
      expect(e1._tag).toBe("InvalidOption")
      expect(e1.message).toContain("percentCanRetry")
      expect(e1.message).toContain("RetryBudget.make")
      const e2 = yield* Effect.flip(RetryBudget.make({ ttl: -5 }))
      expect(e2.option).toBe("ttl")
      const e3 = yield* Effect.flip(RetryBudget.make({ minRetriesPerSec: -1 }))
      expect(e3.option).toBe("minRetriesPerSec")
      const e4 = yield* Effect.flip(RetryBudget.make({ percentCanRetry: -0.1 }))
      expect(e4.option).toBe("percentCanRetry")
      const e5 = yield* Effect.flip(RetryBudget.make({ ttl: "2 minutes" }))
      expect(e5.message).toContain("between")
    }))
})
