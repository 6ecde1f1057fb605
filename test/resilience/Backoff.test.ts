import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as Backoff from "../../src/resilience/Backoff.js"

describe("Backoff", () => {
  it.effect("constant", () =>
    Effect.gen(function*() {
      expect(yield* Backoff.take(Backoff.constant("250 millis"), 3)).toEqual([250, 250, 250])
    }))

  it.effect("equalJittered(5 s, 300 s) stays in Finagle's ranges, then 300 s forever", () =>
    Effect.gen(function*() {
      const ds = yield* Backoff.take(Backoff.equalJittered("5 seconds", "300 seconds"), 10)
      expect(ds[0]).toBe(5000)
      const ranges: Array<[number, number]> = [[5000, 10000], [10000, 20000], [20000, 40000], [40000, 80000], [
        80000,
        160000
      ]]
      ranges.forEach(([lo, hi], i) => {
        expect(ds[i + 1]).toBeGreaterThanOrEqual(lo)
        expect(ds[i + 1]).toBeLessThan(hi)
      })
      expect(ds[6]).toBeGreaterThanOrEqual(160000)
      expect(ds[6]).toBeLessThanOrEqual(300000)
      expect(ds.slice(7)).toEqual([300000, 300000, 300000])
    }))

  it.effect("the same seed gives the same sequence; another seed another", () =>
    Effect.gen(function*() {
      const b = Backoff.equalJittered("5 seconds", "300 seconds")
      const a1 = yield* Random.withSeed(Backoff.take(b, 6), 42)
      const a2 = yield* Random.withSeed(Backoff.take(b, 6), 42)
      const a3 = yield* Random.withSeed(Backoff.take(b, 6), 7)
      expect(a1).toEqual(a2)
      expect(a1).not.toEqual(a3)
    }))

  it.effect("decorrelatedJittered grows within [prev, 3·prev) and stays at or below max", () =>
    Effect.gen(function*() {
      const ds = yield* Random.withSeed(Backoff.take(Backoff.decorrelatedJittered("5 millis", "200 millis"), 40), 1)
      expect(ds[0]).toBe(5)
      for (let i = 1; i < ds.length; i++) {
        expect(ds[i]).toBeGreaterThanOrEqual(ds[i - 1]!)
        expect(ds[i]).toBeLessThanOrEqual(Math.max(200, 3 * ds[i - 1]!))
        expect(ds[i]).toBeLessThanOrEqual(200)
      }
      expect(ds[ds.length - 1]).toBeGreaterThan(100)
    }))

  it.effect("exponentialJittered draws below start·2^k, then max", () =>
    Effect.gen(function*() {
      const ds = yield* Random.withSeed(Backoff.take(Backoff.exponentialJittered("1 second", "32 seconds"), 8), 3)
      expect(ds[0]).toBe(1000)
      for (let k = 1; k < 5; k++) expect(ds[k]).toBeLessThan(1000 * 2 ** k)
      expect(ds.slice(5)).toEqual([32000, 32000, 32000])
    }))

  it.effect("cursor falls back once a bounded schedule ends, and resets", () =>
    Effect.gen(function*() {
      const c = yield* Backoff.cursor(Backoff.constant("1 second").pipe(Schedule.upTo({ times: 2 })))
      const ms: Array<number> = []
      for (let i = 0; i < 4; i++) ms.push(Duration.toMillis(yield* c.next))
      expect(ms).toEqual([1000, 1000, 300000, 300000])
      yield* c.reset
      expect(Duration.toMillis(yield* c.next)).toBe(1000)
      expect(yield* Backoff.take(Backoff.exponential("10 millis", 2, "50 millis"), 4)).toEqual([10, 20, 40, 50])
    }))

  it.effect("immediateFirst puts a zero delay in front, and ends when the inner schedule ends", () =>
    Effect.gen(function*() {
      const b = Backoff.immediateFirst(Backoff.exponential("10 millis"))
      expect(yield* Backoff.take(b, 4)).toEqual([0, 10, 20, 40])
      expect(yield* Backoff.take(b, 2)).toEqual([0, 10])
      const bounded = Backoff.immediateFirst(Backoff.constant("5 millis").pipe(Schedule.upTo({ times: 1 })))
      expect(yield* Backoff.take(bounded, 5)).toEqual([0, 5])
    }))

  it.effect("validateRange rejects min > max", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Backoff.validateRange("jittered", "2 seconds", "1 second"))
      expect(e.message).toContain("jittered")
    }))
})
