import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as WeightedUnion from "../../src/loadbalancer/WeightedUnion.js"
import * as Service from "../../src/Service.js"

const counting = (name: string) => {
  const state = { calls: 0, status: "Open" as Service.Status }
  const service = Service.make((_: number) => Effect.sync(() => (state.calls++, name)), () => state.status)
  return { state, service }
}

describe("WeightedUnion", () => {
  it.effect("splits requests by weight (0.9 / 0.1)", () =>
    Effect.gen(function*() {
      const a = counting("a")
      const b = counting("b")
      const union = yield* WeightedUnion.make([{ weight: 0.9, service: a.service }, {
        weight: 0.1,
        service: b.service
      }])
      for (let i = 0; i < 10_000; i++) yield* union.call(i)
      expect(Math.abs(a.state.calls - 9000)).toBeLessThan(150)
      expect(a.state.calls + b.state.calls).toBe(10_000)
    }).pipe(Random.withSeed(21)))

  it.effect("passes over non-Open branches while one is Open; zero weight gets nothing", () =>
    Effect.gen(function*() {
      const a = counting("a")
      const b = counting("b")
      const c = counting("c")
      const union = yield* WeightedUnion.make([
        { weight: 1, service: a.service },
        { weight: 1, service: b.service },
        { weight: 0, service: c.service }
      ])
      a.state.status = "Busy"
      for (let i = 0; i < 100; i++) yield* union.call(i)
      expect([a.state.calls, b.state.calls, c.state.calls]).toEqual([0, 100, 0])
      b.state.status = "Busy"
      for (let i = 0; i < 100; i++) yield* union.call(i)
      expect(a.state.calls + b.state.calls).toBe(200)
      expect(c.state.calls).toBe(0)
      expect(union.status).toBe("Busy")
    }).pipe(Random.withSeed(22)))

  it.effect("no branch of positive weight: NoBrokersAvailable", () =>
    Effect.gen(function*() {
      const union = yield* WeightedUnion.make([{ weight: 0, service: counting("a").service }], { label: "/svc/x" })
      const error = yield* Effect.flip(union.call(1))
      expect(error._tag).toBe("NoBrokersAvailable")
      expect(union.status).toBe("Closed")
    }))

  it("pick is proportional to weight over the unit interval", () => {
    const mk = (weight: number) => ({ weight, service: Service.succeed(1) })
    const branches = [mk(1), mk(3)]
    expect(WeightedUnion.pick(branches, 0)).toBe(0)
    expect(WeightedUnion.pick(branches, 0.24)).toBe(0)
    expect(WeightedUnion.pick(branches, 0.26)).toBe(1)
    expect(WeightedUnion.pick(branches, 0.999)).toBe(1)
    expect(WeightedUnion.pick([], 0.5)).toBe(-1)
  })
})
