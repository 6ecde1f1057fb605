import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import * as Distribution from "../../src/testing/Distribution.js"
import * as LoadGen from "../../src/testing/LoadGen.js"

describe("LoadGen", () => {
  it("constant load arrives every 1000/rps ms from 0", () => {
    const times = [...LoadGen.arrivals(LoadGen.constant(4), 1000, Distribution.makeRng(1))]
    expect(times).toEqual([0, 250, 500, 750])
    expect([...LoadGen.arrivals(LoadGen.constant(1000), 60_000, Distribution.makeRng(1))].length).toBe(60_000)
  })

  it("poisson load has the right rate, exponential gaps, and the same arrivals for the same seed", () => {
    const times = [...LoadGen.arrivals(LoadGen.poisson(1000), 60_000, Distribution.makeRng(5))]
    expect(times.length).toBe([...LoadGen.arrivals(LoadGen.poisson(1000), 60_000, Distribution.makeRng(5))].length)
    expect(Math.abs(times.length - 60_000)).toBeLessThan(750)
    const gaps = times.slice(1).map((t, i) => t - times[i]!)
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length
    expect(mean).toBeCloseTo(1, 1)
    const overMean = gaps.filter((g) => g > 1).length / gaps.length
    expect(overMean).toBeCloseTo(Math.exp(-1), 1)
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true)
  })

  it.effect("run sends at the arrival times on the clock and waits for every request", () =>
    Effect.gen(function*() {
      const sentAt: Array<number> = []
      let finished = 0
      const fiber = yield* Effect.forkChild(
        LoadGen.run(LoadGen.constant(10), 1000, Distribution.makeRng(1), () =>
          Effect.gen(function*() {
            sentAt.push(yield* Clock.currentTimeMillis)
            yield* Effect.sleep(500)
            finished++
          }))
      )
      yield* TestClock.adjust(1000)
      expect(sentAt).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900])
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(400)
      expect(yield* Fiber.join(fiber)).toBe(10)
      expect(finished).toBe(10)
    }))
})
