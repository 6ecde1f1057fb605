import { describe, expect, it } from "@effect/vitest"
import { pickWithEffort } from "../../src/loadbalancer/Engine.js"
import * as P2CPick from "../../src/loadbalancer/P2CPick.js"
import * as Stats from "../../src/Stats.js"
import type { FakeNode } from "./helpers.js"
import { fakeNodes, seededEnv } from "./helpers.js"

const N = 100
const R = 100_000
const epsilon = 0.0001 * R

describe("P2C (least loaded)", () => {
  it("balances evenly: N=100, R=1e5, every load within ε=10 of R/N", () => {
    const nodes = fakeNodes(N)
    const dist = P2CPick.distributor<FakeNode>(seededEnv(12345))
    dist.rebuild(nodes)
    for (let i = 0; i < R; i++) dist.pick().load++
    for (const node of nodes) expect(Math.abs(node.load - R / N)).toBeLessThanOrEqual(epsilon)
    const loads = nodes.map((n) => n.load)
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(5)
  })

  it("a revived node catches up: ≈ 2R/N in the next R picks", () => {
    const nodes = fakeNodes(N)
    const dist = P2CPick.distributor<FakeNode>(seededEnv(7))
    dist.rebuild(nodes)
    nodes[0]!.status = "Busy"
    const step = () => pickWithEffort(dist, 5, () => {}, () => {}).load++
    for (let i = 0; i < R; i++) step()
    expect(nodes[0]!.load).toBe(0)
    nodes[0]!.status = "Open"
    for (let i = 0; i < R; i++) step()
    expect(Math.abs(nodes[0]!.load - 2 * R / N)).toBeLessThanOrEqual(6 * epsilon)
  })

  it("records p2c/zero when both draws have load 0", () => {
    const stats = Stats.makeInMemory()
    const dist = P2CPick.distributor<FakeNode>(seededEnv(1, () => 0, stats.scope("loadbalancer")))
    dist.rebuild(fakeNodes(4))
    for (let i = 0; i < 10; i++) dist.pick()
    expect(stats.counterValue("loadbalancer/p2c/zero")).toBe(10)
  })

  it("weights: a weight-2 node takes about twice the load", () => {
    const nodes = fakeNodes(10)
    nodes[0]!.weight = 2
    const dist = P2CPick.distributor<FakeNode>(seededEnv(3))
    dist.rebuild(nodes)
    for (let i = 0; i < 11_000; i++) dist.pick().load++
    expect(nodes[0]!.load / nodes[1]!.load).toBeGreaterThan(1.9)
    expect(nodes[0]!.load / nodes[1]!.load).toBeLessThan(2.1)
  })

  // Finagle's P2CPanicModeTest: with a fraction u of nodes unhealthy, a request panics with
  // probability ≈ u^(2·maxEffort) (exactly (k(k−1)/(N(N−1)))^maxEffort with two distinct draws);
  // checked within 1 % of R, and against Finagle's published table for maxEffort 4 and 5.
  const table: Record<number, ReadonlyArray<number>> = {
    4: [0, 0, 0, 0, 0.004, 0.017, 0.058, 0.168, 0.431, 1],
    5: [0, 0, 0, 0, 0.001, 0.006, 0.028, 0.107, 0.349, 1]
  }
  for (const maxEffort of [1, 2, 3, 4, 5]) {
    it(`panic share ≈ u^(2·maxEffort) for maxEffort ${maxEffort}`, () => {
      for (let step = 1; step <= 10; step++) {
        const u = step / 10
        const nodes = fakeNodes(N)
        for (let i = 0; i < Math.round(u * N); i++) nodes[i]!.status = "Busy"
        const dist = P2CPick.distributor<FakeNode>(seededEnv(step))
        dist.rebuild(nodes)
        let panics = 0
        const requests = 20_000
        for (let i = 0; i < requests; i++) pickWithEffort(dist, maxEffort, () => panics++, () => {})
        const k = Math.round(u * N)
        const exact = ((k * (k - 1)) / (N * (N - 1))) ** maxEffort
        expect(Math.abs(panics / requests - exact)).toBeLessThanOrEqual(0.01)
        const published = table[maxEffort]?.[step - 1]
        if (published !== undefined) expect(Math.abs(panics / requests - published)).toBeLessThanOrEqual(0.01)
      }
    })
  }
})
