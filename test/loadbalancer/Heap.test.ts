import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Random from "effect/Random"
import * as Stream from "effect/Stream"
import * as Heap from "../../src/loadbalancer/Heap.js"
import { addresses, makeCluster, until } from "./helpers.js"

describe("Heap", () => {
  it.effect("always picks a least-loaded node", () => {
    const cluster = makeCluster()
    return Effect.gen(function*() {
      const set = addresses(5)
      const lb = yield* Heap.factory().make(Stream.make(set), cluster.endpoint)
      cluster.gate.closeUnsafe()
      const fibers: Array<Fiber.Fiber<string, unknown>> = []
      for (let i = 0; i < 23; i++) {
        fibers.push(yield* Effect.forkChild(lb.call(i)))
        yield* until(() => [...cluster.mocks.values()].reduce((n, m) => n + m.inFlight, 0) === i + 1, "dispatch")
        const loads = set.map((a) => cluster.at(a).inFlight)
        expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1)
      }
      cluster.gate.openUnsafe()
      yield* Effect.forEach(fibers, Fiber.join)
    }).pipe(Effect.ensuring(Effect.sync(() => cluster.gate.openUnsafe())), Random.withSeed(9))
  })

  it.effect("sends only to healthy nodes, and evenly across down nodes when all are down", () =>
    Effect.gen(function*() {
      const cluster = makeCluster()
      const set = addresses(4)
      cluster.at(set[0]!).status = "Busy"
      cluster.at(set[1]!).status = "Closed"
      const lb = yield* Heap.factory().make(Stream.make(set), cluster.endpoint)
      for (let i = 0; i < 100; i++) yield* lb.call(i)
      expect(cluster.at(set[0]!).calls + cluster.at(set[1]!).calls).toBe(0)
      for (const a of set) cluster.at(a).status = "Busy"
      const before = set.map((a) => cluster.at(a).calls)
      for (let i = 0; i < 400; i++) yield* lb.call(i)
      expect(set.reduce((n, a) => n + cluster.at(a).calls, 0)).toBe(500)
      set.forEach((a, i) => expect(cluster.at(a).calls - before[i]!).toBeGreaterThan(50))
      cluster.at(set[0]!).status = "Open"
      const revived = cluster.at(set[0]!).calls
      for (let i = 0; i < 10; i++) yield* lb.call(i)
      expect(cluster.at(set[0]!).calls - revived).toBe(10)
    }).pipe(Random.withSeed(10)))
})
