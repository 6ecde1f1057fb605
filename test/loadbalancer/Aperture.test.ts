import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Random from "effect/Random"
import * as Stream from "effect/Stream"
import * as Address from "../../src/Address.js"
import * as Aperture from "../../src/loadbalancer/Aperture.js"
import * as Engine from "../../src/loadbalancer/Engine.js"
import * as Stats from "../../src/Stats.js"
import { addresses, fakeNodes, makeCluster, seededEnv, until } from "./helpers.js"

describe("Aperture (random, load band)", () => {
  it.effect("the aperture tracks concurrency: |c/high − aperture| ≤ 1", () => {
    const cluster = makeCluster()
    return Effect.gen(function*() {
      let state: Aperture.State = { aperture: 1, offeredLoad: 0 }
      const high = 2
      const algorithm = Aperture.algorithm({ smoothWindow: 0, highLoad: high, lowLoad: 0.5 }, (s) => {
        state = s
      })
      const stats = Stats.makeInMemory()
      const lb = yield* Engine.factory("aperture", algorithm).make(Stream.make(addresses(100)), cluster.endpoint, {
        stats
      })
      cluster.gate.closeUnsafe()
      const fibers: Array<Fiber.Fiber<string, unknown>> = []
      const inFlight = () => [...cluster.mocks.values()].reduce((n, m) => n + m.inFlight, 0)
      for (let c = 1; c <= 120; c++) {
        fibers.push(yield* Effect.forkChild(lb.call(c)))
        yield* until(() => inFlight() === c, "dispatch")
        expect(Math.abs(c / high - state.aperture)).toBeLessThanOrEqual(1)
      }
      expect(stats.counterValue("loadbalancer/loadband/widen")).toBe(state.aperture - 1)
      const widest = state.aperture
      cluster.gate.openUnsafe()
      yield* Effect.forEach(fibers, Fiber.join)
      expect(state.aperture).toBeLessThan(widest / 2)
      expect(stats.counterValue("loadbalancer/loadband/narrow")).toBe(widest - state.aperture)
    }).pipe(Effect.ensuring(Effect.sync(() => cluster.gate.openUnsafe())), Random.withSeed(11))
  })

  it.effect("picks only inside the aperture, and replaces an unavailable node", () =>
    Effect.gen(function*() {
      const cluster = makeCluster()
      const set = addresses(10)
      const lb = yield* Aperture.factory({ minAperture: 3 }).make(Stream.make(set), cluster.endpoint)
      for (let i = 0; i < 300; i++) yield* lb.call(i)
      const used = set.filter((a) => cluster.at(a).calls > 0)
      expect(used.length).toBe(3)
      for (const a of used) expect(cluster.at(a).calls).toBeGreaterThan(60)
      const busy = cluster.at(used[0]!)
      busy.status = "Busy"
      const before = new Map(set.map((a) => [Address.key(a), cluster.at(a).calls]))
      for (let i = 0; i < 300; i++) yield* lb.call(i)
      expect(busy.calls).toBe(before.get(busy.key))
      const usedAfter = set.filter((a) => cluster.at(a).calls > before.get(Address.key(a))!)
      expect(usedAfter.length).toBe(3)
      expect(usedAfter.map(Address.key)).not.toContain(busy.key)
    }).pipe(Random.withSeed(12)))

  it.effect("the order is stable: a node that recovers gets its place back", () =>
    Effect.gen(function*() {
      const cluster = makeCluster()
      const set = addresses(10)
      const lb = yield* Aperture.factory({ minAperture: 2 }).make(Stream.make(set), cluster.endpoint)
      for (let i = 0; i < 100; i++) yield* lb.call(i)
      const used = set.filter((a) => cluster.at(a).calls > 0).map(Address.key)
      cluster.mock(used[0]!).status = "Busy"
      for (let i = 0; i < 100; i++) yield* lb.call(i)
      cluster.mock(used[0]!).status = "Open"
      const before = new Map(set.map((a) => [Address.key(a), cluster.at(a).calls]))
      for (let i = 0; i < 100; i++) yield* lb.call(i)
      const usedAfter = set.filter((a) => cluster.at(a).calls > before.get(Address.key(a))!).map(Address.key)
      expect(usedAfter.sort()).toEqual([...used].sort())
    }).pipe(Random.withSeed(13)))

  it.effect("weights are respected inside the aperture", () =>
    Effect.gen(function*() {
      const cluster = makeCluster()
      const set = [Address.make("10.0.0.2", 1, { weight: 3 }), ...addresses(3)]
      const lb = yield* Aperture.factory({ minAperture: 4 }).make(Stream.make(set), cluster.endpoint)
      for (let i = 0; i < 6000; i++) yield* lb.call(i)
      const heavy = cluster.at(set[0]!).calls
      const light = cluster.at(set[1]!).calls
      expect(heavy / light).toBeGreaterThan(1.5)
    }).pipe(Random.withSeed(14)))
})

describe("Aperture (deterministic)", () => {
  const counts = (instanceId: number, totalInstances: number, servers: number, requests: number) => {
    const nodes = fakeNodes(servers).map((n, i) => ({ ...n, key: `s${String(i).padStart(3, "0")}` }))
    const dist = Aperture.deterministicDistributor({ instanceId, totalInstances })(seededEnv(instanceId + 1))
    dist.rebuild(nodes)
    const out = nodes.map(() => 0)
    for (let i = 0; i < requests; i++) out[nodes.indexOf(dist.pick() as (typeof nodes)[number])]!++
    return out
  }

  it("12 clients, 24 servers: instance 0 uses exactly servers 0–11", () => {
    const out = counts(0, 12, 24, 12_000)
    out.forEach((c, i) => (i < 12 ? expect(c).toBeGreaterThan(0) : expect(c).toBe(0)))
  })

  it("4 clients, 18 servers: instance 1 uses servers 4–17, server 4 at about ½ load", () => {
    expect(Aperture.sliceWidth(4, 18, 12)).toBe(0.75)
    const out = counts(1, 4, 18, 60_000)
    out.forEach((c, i) => (i < 4 ? expect(c).toBe(0) : expect(c).toBeGreaterThan(0)))
    const full = out.slice(5).reduce((a, b) => a + b, 0) / 13
    expect(Math.abs(out[4]! / full - 0.5)).toBeLessThanOrEqual(0.1)
  })

  it("sliceWeights wraps around: 15 nodes, instance 1 of 5 → indices 3–14, total 0.8", () => {
    const width = Aperture.sliceWidth(5, 15, 12)
    const weights = Aperture.sliceWeights(Array.from({ length: 15 }, () => 1), 1 / 5, width)
    weights.forEach((w, i) => (i >= 3 ? expect(w).toBeCloseTo(1 / 15, 9) : expect(w).toBe(0)))
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(0.8, 9)
    const wrapped = Aperture.sliceWeights([1, 1, 1, 1], 0.75, 0.5)
    expect(wrapped).toEqual([0.25, 0, 0, 0.25])
  })
})
