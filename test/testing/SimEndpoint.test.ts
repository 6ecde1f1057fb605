import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import * as Distribution from "../../src/testing/Distribution.js"
import * as SimEndpoint from "../../src/testing/SimEndpoint.js"

const request = { id: 1, method: "GET" }

describe("SimEndpoint", () => {
  it.effect("answers after its latency on the clock", () =>
    Effect.gen(function*() {
      const ep = yield* SimEndpoint.make({
        index: 3,
        latency: Distribution.constant(100),
        rng: Distribution.makeRng(1)
      })
      const fiber = yield* Effect.forkChild(ep.call(request))
      yield* TestClock.adjust(99)
      expect(fiber.pollUnsafe()).toBeUndefined()
      expect(ep.counts().pending).toBe(1)
      yield* TestClock.adjust(1)
      expect(yield* Fiber.join(fiber)).toEqual({ status: 200, endpoint: 3 })
      expect(ep.counts()).toEqual({ requests: 1, failures: 0, successes: 1, interrupted: 0, pending: 0, maxPending: 1 })
    }))

  it.effect("fails with status 500 at its failure rate, with the failure latency", () =>
    Effect.gen(function*() {
      const ep = yield* SimEndpoint.make({
        index: 0,
        latency: Distribution.constant(10),
        failureRate: 0.5,
        failureLatency: Distribution.constant(50),
        rng: Distribution.makeRng(1)
      })
      const fibers = yield* Effect.forEach(
        Array.from({ length: 1000 }, (_, id) => id),
        (id) => Effect.forkChild(ep.call({ id, method: "GET" }))
      )
      yield* TestClock.adjust(10)
      expect(ep.counts().successes).toBe(ep.counts().requests - ep.counts().pending)
      yield* TestClock.adjust(40)
      const responses = yield* Effect.forEach(fibers, Fiber.join)
      const failed = responses.filter((r) => r.status === 500).length
      expect(failed).toBe(ep.counts().failures)
      expect(Math.abs(failed - 500)).toBeLessThan(60)
      expect(ep.counts().maxPending).toBe(1000)
    }))

  it.effect("timed events change latency and failure rate", () =>
    Effect.gen(function*() {
      const ep = yield* SimEndpoint.make({
        index: 0,
        latency: Distribution.constant(10),
        events: [{ atMs: 1000, latency: Distribution.constant(2000) }, { atMs: 5000, failureRate: 1 }],
        rng: Distribution.makeRng(1)
      })
      const timed = Effect.gen(function*() {
        const fiber = yield* Effect.forkChild(ep.call(request))
        let waited = 0
        while (fiber.pollUnsafe() === undefined) {
          yield* TestClock.adjust(10)
          waited += 10
        }
        return [waited, (yield* Fiber.join(fiber)).status] as const
      })
      expect(yield* timed).toEqual([10, 200])
      yield* TestClock.adjust(990)
      expect(yield* timed).toEqual([2000, 200])
      yield* TestClock.adjust(3000)
      expect(yield* timed).toEqual([2000, 500])
    }))

  it.effect("a caller that gives up interrupts the request", () =>
    Effect.gen(function*() {
      const ep = yield* SimEndpoint.make({
        index: 0,
        latency: Distribution.constant(100),
        rng: Distribution.makeRng(1)
      })
      const fiber = yield* Effect.forkChild(Effect.timeout(ep.call(request), 50))
      yield* TestClock.adjust(50)
      yield* Fiber.await(fiber)
      expect(ep.counts()).toMatchObject({ requests: 1, interrupted: 1, pending: 0, successes: 0 })
    }))
})
