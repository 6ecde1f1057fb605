import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as RoundRobin from "../../src/loadbalancer/RoundRobin.js"
import * as Stats from "../../src/Stats.js"
import { addresses, fakeNodes, makeCluster } from "./helpers.js"

describe("RoundRobin", () => {
  it("is exactly even and in order", () => {
    const nodes = fakeNodes(7)
    const dist = RoundRobin.distributor()
    dist.rebuild(nodes)
    const picked = Array.from({ length: 70 }, () => dist.pick().key)
    expect(picked.slice(0, 7)).toEqual(nodes.map((n) => n.key))
    for (const n of nodes) expect(picked.filter((k) => k === n.key).length).toBe(10)
  })

  it("smooth weighted round robin: weights 5:1:1 give 5:1:1, interleaved", () => {
    const nodes = fakeNodes(3)
    nodes[0]!.weight = 5
    const dist = RoundRobin.distributor()
    dist.rebuild(nodes)
    const picked = Array.from({ length: 7 }, () => dist.pick().key)
    expect(picked).toEqual(["n0", "n0", "n1", "n0", "n2", "n0", "n0"])
  })

  it.effect("skips a Closed node and takes it back once Open", () =>
    Effect.gen(function*() {
      const cluster = makeCluster()
      const set = addresses(3)
      cluster.at(set[1]!).status = "Closed"
      const stats = Stats.makeInMemory()
      const lb = yield* RoundRobin.factory().make(Stream.make(set), cluster.endpoint, { stats })
      for (let i = 0; i < 30; i++) yield* lb.call(i)
      expect(cluster.at(set[1]!).calls).toBe(0)
      expect(cluster.at(set[0]!).calls).toBe(15)
      cluster.at(set[1]!).status = "Open"
      for (let i = 0; i < 30; i++) yield* lb.call(i)
      expect(cluster.at(set[1]!).calls).toBeGreaterThanOrEqual(9)
      expect(stats.counterValue("loadbalancer/panicked")).toBe(0)
    }))
})
