import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Result from "effect/Result"
import { readdirSync, readFileSync } from "node:fs"
import * as Scenario from "../../src/testing/Scenario.js"
import { examplePath } from "./support.js"

const minimal = {
  durationMs: 1000,
  load: { kind: "constant", rps: 10 },
  endpoints: [{ latency: { kind: "constant", ms: 5 } }]
}

const problemsOf = (input: unknown) => {
  const r = Scenario.decode(input)
  if (Result.isSuccess(r)) throw new Error("expected a failure")
  return r.failure.problems.map((p) => `${p.path}: ${p.message}`)
}

describe("Scenario", () => {
  it("decodes with defaults: seed 1, GET, count 1, failure rate 0, linkerd's client defaults, one default variant", () => {
    const r = Scenario.decode(minimal)
    expect(Result.isSuccess(r)).toBe(true)
    const s = Result.getOrThrow(r)
    expect(s.seed).toBe(1)
    expect(s.method).toBe("GET")
    expect(Duration.toMillis(s.durationMs)).toBe(1000)
    expect(s.timeoutMs).toBeUndefined()
    expect(s.endpoints[0]).toMatchObject({ count: 1, failureRate: 0, events: [] })
    expect(s.client.loadBalancer).toEqual({ kind: "p2c", maxEffort: 5, enableProbation: false })
    expect(s.client.failureAccrual).toEqual({ kind: "io.l5d.consecutiveFailures", failures: 5 })
    expect(Scenario.variants(s).map((v) => v.name)).toEqual(["default"])
    expect(Scenario.endpointCount(s)).toBe(1)
  })

  it("variants replace whole client keys and keep the others", () => {
    const s = Result.getOrThrow(Scenario.decode({
      ...minimal,
      client: { loadBalancer: { kind: "ewma", decayTimeMs: 5000 }, failureAccrual: { kind: "none" } },
      variants: [{ name: "rr", client: { loadBalancer: { kind: "roundRobin" } } }, { name: "same" }]
    }))
    const [rr, same] = Scenario.variants(s)
    expect(rr!.client.loadBalancer).toEqual({ kind: "roundRobin", maxEffort: 5, enableProbation: false })
    expect(rr!.client.failureAccrual).toEqual({ kind: "none" })
    expect(same!.client.loadBalancer.kind).toBe("ewma")
  })

  it("rejects unknown keys with their location", () => {
    expect(problemsOf({ ...minimal, extra: 1 })).toEqual(["extra: unknown key"])
    expect(problemsOf({ ...minimal, endpoints: [{ latency: { kind: "constant", ms: 5 }, cuont: 2 }] })).toEqual([
      "endpoints[0].cuont: unknown key"
    ])
    expect(problemsOf({ ...minimal, client: { loadBalancer: { kind: "p2c", decayTimeMs: 1 } } })).toEqual([
      "client.loadBalancer.decayTimeMs: unknown key"
    ])
    expect(problemsOf({ ...minimal, variants: [{ name: "x", client: { retries: { budget: { ttl: 1 } } } }] }))
      .toEqual(["variants[0].client.retries.budget.ttl: unknown key"])
  })

  it("rejects impossible distributions and rates", () => {
    expect(problemsOf({ ...minimal, endpoints: [{ latency: { kind: "normal", meanMs: 10, sdMs: -1 } }] })).toEqual([
      "endpoints[0].latency.sdMs: Expected a value greater than or equal to 0, got -1"
    ])
    expect(problemsOf({ ...minimal, load: { kind: "poisson", rps: 0 } })).toEqual([
      "load.rps: Expected a value greater than 0, got 0"
    ])
    expect(problemsOf({
      ...minimal,
      endpoints: [{
        latency: { kind: "uniform", minMs: 5, maxMs: 1 },
        failureRate: 1.5,
        events: [{ atMs: -1, latency: { kind: "empirical", samplesMs: [] } }]
      }]
    })).toEqual([
      "endpoints[0].latency.maxMs: maxMs must be >= minMs",
      "endpoints[0].failureRate: Expected a value between 0 and 1, got 1.5",
      "endpoints[0].events[0].atMs: Expected a value greater than or equal to 0, got -1",
      "endpoints[0].events[0].latency.samplesMs: must have at least 1 item(s)"
    ])
    expect(problemsOf({ ...minimal, endpoints: [{ latency: { kind: "weibull", k: 1 } }] })).toEqual([
      "endpoints[0].latency.kind: unknown kind \"weibull\" (expected one of: constant, normal, uniform, lognormal, empirical, never)"
    ])
  })

  it("rejects unknown balancer kinds, and missing or duplicate required things", () => {
    expect(problemsOf({ ...minimal, client: { loadBalancer: { kind: "leastLoaded" } } })).toEqual([
      "client.loadBalancer.kind: unknown kind \"leastLoaded\" (expected one of: p2c, ewma, aperture, heap, roundRobin)"
    ])
    expect(problemsOf({ load: minimal.load, endpoints: [] })).toEqual([
      "durationMs: missing required key",
      "endpoints: must have at least 1 item(s)"
    ])
    expect(problemsOf({ ...minimal, variants: [{ name: "a" }, { name: "a" }] })).toEqual([
      "variants[1].name: duplicate variant name \"a\""
    ])
  })

  it("reports YAML syntax errors at the root", () => {
    const r = Scenario.parse("durationMs: [1, 2\nload: x", "bad.yaml")
    expect(Result.isFailure(r)).toBe(true)
    if (Result.isFailure(r)) {
      expect(r.failure.message).toContain("invalid scenario bad.yaml")
      expect(r.failure.problems[0]!.message).toMatch(/^YAML: /)
    }
  })

  it("every example scenario decodes", () => {
    const dir = examplePath("")
    const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"))
    expect(files.length).toBeGreaterThanOrEqual(4)
    for (const f of files) {
      const r = Scenario.parse(readFileSync(examplePath(f), "utf8"), f)
      if (Result.isFailure(r)) throw new Error(r.failure.message)
      expect(Scenario.variants(r.success).length).toBeGreaterThanOrEqual(1)
    }
  })
})
