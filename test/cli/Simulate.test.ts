import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { TestConsole } from "effect/testing"
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { simulate } from "../../src/cli/Simulate.js"

const dir = mkdtempSync(join(tmpdir(), "weir-simulate-"))
const scenarioFile = join(dir, "small.yaml")
writeFileSync(
  scenarioFile,
  `seed: 2
durationMs: 1000
load: { kind: constant, rps: 50 }
timeoutMs: 100
endpoints:
  - count: 2
    latency: { kind: constant, ms: 10 }
  - count: 1
    latency: { kind: constant, ms: 10 }
    failureRate: 1
client:
  failureAccrual: { kind: none }
variants:
  - { name: rr, client: { loadBalancer: { kind: roundRobin } } }
  - { name: ewma, client: { loadBalancer: { kind: ewma } } }
`
)
const badFile = join(dir, "bad.yaml")
writeFileSync(
  badFile,
  `durationMs: 1000
load: { kind: poisson, rps: 10 }
endpoints:
  - latency: { kind: normal, meanMs: 10, sdMs: -2 }
client:
  loadBalancer: { kind: fastest }
`
)

describe("weir simulate", () => {
  it.effect("--json prints the report in the documented shape and --plot writes an SVG", () =>
    Effect.gen(function*() {
      const plot = join(dir, "out.svg")
      const report = yield* simulate(scenarioFile, { json: true, plot })
      const lines = yield* TestConsole.logLines
      const json = JSON.parse(String(lines[0]))
      expect(json).toEqual(JSON.parse(JSON.stringify(report)))
      expect(json.variants.map((v: { name: string }) => v.name)).toEqual(["rr", "ewma"])
      const rr = json.variants[0]
      expect(rr.requests).toBe(50)
      expect(rr.successes).toBe(34)
      expect(rr.endpoints).toEqual([
        { index: 0, requests: 17, failures: 0 },
        { index: 1, requests: 17, failures: 0 },
        { index: 2, requests: 16, failures: 16 }
      ])
      expect(Object.keys(rr.latencyMs)).toEqual(["p50", "p90", "p95", "p99", "p999", "max"])
      const svg = readFileSync(plot, "utf8")
      expect(svg).toContain("<svg")
      expect(svg).toContain(">rr</text>")
      expect(svg).toContain(">ewma</text>")
    }).pipe(Effect.provide(TestConsole.layer)))

  it.effect("prints tables by default", () =>
    Effect.gen(function*() {
      yield* simulate(scenarioFile, { json: false, plot: undefined })
      const out = (yield* TestConsole.logLines).join("\n")
      expect(out).toMatch(/^variant\s+requests\s+success/)
      expect(out).toContain("rr: requests per endpoint")
      expect(out).toContain("ewma: requests per endpoint")
    }).pipe(Effect.provide(TestConsole.layer)))

  it.effect("--compare prints each variant against the first; --variant runs a subset", () =>
    Effect.gen(function*() {
      const report = yield* simulate(scenarioFile, { json: false, plot: undefined, compare: true })
      const out = (yield* TestConsole.logLines).join("\n")
      expect(out).toContain("compared with rr:")
      expect(out).toMatch(/\nrr\s+\S+%\s+\+0\.00\s+1\.00x\s+1\.00x\s+1\.00x/)
      expect(report.variants.map((v) => v.name)).toEqual(["rr", "ewma"])
      const one = yield* simulate(scenarioFile, { json: true, plot: undefined, variants: ["ewma"] })
      expect(one.variants.map((v) => v.name)).toEqual(["ewma"])
      expect(one.variants[0]).toEqual(report.variants[1])
      const error = yield* Effect.flip(simulate(scenarioFile, { json: true, plot: undefined, variants: ["nope"] }))
      expect(error.message).toContain(`unknown variant "nope" (variants: rr, ewma)`)
    }).pipe(Effect.provide(TestConsole.layer)))

  it.effect("a bad scenario fails, listing each problem with its location", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(simulate(badFile, { json: false, plot: undefined }))
      expect(error._tag).toBe("ExitCode")
      const err = (yield* TestConsole.errorLines).join("\n")
      expect(err).toContain("endpoints[0].latency.sdMs: Expected a value greater than or equal to 0, got -2")
      expect(err).toContain("client.loadBalancer.kind: unknown kind \"fastest\"")
      const missing = yield* Effect.flip(simulate(join(dir, "nope.yaml"), { json: false, plot: undefined }))
      expect(missing._tag).toBe("ExitCode")
    }).pipe(Effect.provide(TestConsole.layer)))

  it("the command exits non-zero for a bad scenario", async () => {
    const bin = fileURLToPath(new URL("../../src/bin/weir.ts", import.meta.url))
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        "npx",
        ["tsx", bin, "simulate", badFile],
        { timeout: 60_000 },
        (error, _stdout, stderr) =>
          resolve({ code: error === null ? 0 : (error as { code?: number }).code ?? -1, stderr })
      )
    })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain("endpoints[0].latency.sdMs")
  })
})
