import { describe, expect, it } from "@effect/vitest"
import type { Distributor, Env, Node } from "../../src/loadbalancer/Engine.js"
import { pickWithEffort } from "../../src/loadbalancer/Engine.js"
import * as Load from "../../src/loadbalancer/Load.js"
import * as P2CPick from "../../src/loadbalancer/P2CPick.js"
import * as RoundRobin from "../../src/loadbalancer/RoundRobin.js"
import { fakeNodes, seededEnv } from "./helpers.js"

/**
 * A pure discrete-event replica of linkerd's "Beyond Round Robin" (2016) on the algorithms alone:
 * 11 servers, latency normal(167 ms, 5 ms), one request per ms for 60 s, server 0 at 2 s for
 * t ∈ [15 s, 45 s), a 1 s timeout (a timed-out request ends at 1 s for the load metric too).
 * The full-stack replica (client stack, TestClock) is the simulator's; this pins the balancers.
 */
const successRate = (metric: Load.MetricFactory, distributor: (env: Env) => Distributor): number => {
  let clock = 0
  const now = () => clock
  const latencyRandom = seededEnv(2)
  const metrics = Array.from({ length: 11 }, () => metric(now))
  const nodes: Array<Node> = fakeNodes(11).map((n, i) => ({
    ...n,
    get load() {
      return metrics[i]!.load()
    },
    get pending() {
      return metrics[i]!.pending()
    }
  }))
  const dist = distributor(seededEnv(1, now))
  dist.rebuild(nodes)
  const ends = new Map<number, Array<readonly [number, number]>>()
  const normal = () => {
    const u = 1 - latencyRandom.nextDouble()
    const v = latencyRandom.nextDouble()
    return 167 + 5 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }
  let ok = 0
  const total = 60_000
  for (let t = 0; t < total; t++) {
    clock = t
    for (const [i, stamp] of ends.get(t) ?? []) metrics[i]!.end(stamp)
    ends.delete(t)
    const i = nodes.indexOf(pickWithEffort(dist, 5, () => {}, () => {}))
    const latency = i === 0 && t >= 15_000 && t < 45_000 ? 2000 : normal()
    if (latency < 1000) ok++
    const end = t + Math.ceil(Math.min(latency, 1000))
    const list = ends.get(end) ?? []
    list.push([i, metrics[i]!.start()])
    ends.set(end, list)
  }
  return ok / total
}

describe("Beyond Round Robin (algorithms only)", () => {
  it("round robin ≈ 95 %, least loaded ≈ 99 %, peak EWMA ≈ 99.9 %", () => {
    const rr = successRate(Load.leastLoaded, () => RoundRobin.distributor())
    const p2c = successRate(Load.leastLoaded, P2CPick.distributor)
    const ewma = successRate(Load.peakEwma(10_000), P2CPick.distributor)
    expect(rr).toBeGreaterThan(0.94)
    expect(rr).toBeLessThan(0.965)
    expect(p2c).toBeGreaterThan(0.985)
    expect(p2c).toBeLessThan(0.995)
    expect(ewma).toBeGreaterThan(0.997)
    expect(ewma).toBeGreaterThan(p2c)
  })
})
