import { describe, expect, it } from "@effect/vitest"
import * as Report from "../../src/testing/Report.js"

const sorted = Float64Array.from({ length: 1000 }, (_, i) => i + 1)
const v = Report.variant({
  name: "a",
  requests: 1000,
  successes: 990,
  retries: 7,
  latencies: sorted,
  endpoints: [{ index: 0, requests: 600, failures: 1 }, { index: 1, requests: 407, failures: 9 }]
})

describe("Report", () => {
  it("computes nearest-rank percentiles and the success rate", () => {
    expect(v.latencyMs).toEqual({ p50: 500, p90: 900, p95: 950, p99: 990, p999: 999, max: 1000 })
    expect(v.successRate).toBe(0.99)
    expect(Report.amplification(v)).toBeCloseTo(1.007, 6)
    expect(Report.latency(new Float64Array(0))).toEqual({ p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 })
    expect(
      Report.variant({ name: "empty", requests: 0, successes: 0, retries: 0, latencies: [], endpoints: [] })
        .successRate
    ).toBe(0)
  })

  it("prints JSON in exactly the documented shape", () => {
    const json = JSON.parse(Report.toJson({ variants: [v] }))
    expect(json).toEqual({
      variants: [{
        name: "a",
        requests: 1000,
        successes: 990,
        successRate: 0.99,
        retries: 7,
        latencyMs: { p50: 500, p90: 900, p95: 950, p99: 990, p999: 999, max: 1000 },
        endpoints: [{ index: 0, requests: 600, failures: 1 }, { index: 1, requests: 407, failures: 9 }]
      }]
    })
    expect(Object.keys(json.variants[0])).toEqual([
      "name",
      "requests",
      "successes",
      "successRate",
      "retries",
      "latencyMs",
      "endpoints"
    ])
  })

  it("prints aligned tables: a summary and the endpoints of each variant", () => {
    const text = Report.toTable({ variants: [v, { ...v, name: "second" }] })
    const lines = text.split("\n")
    expect(lines[0]).toMatch(/^variant\s+requests\s+success\s+retries\s+load\s+p50\s+p90\s+p95\s+p99\s+p99\.9\s+max$/)
    expect(lines[2]).toMatch(/^a\s+1000\s+99\.00%\s+7\s+1\.01x\s+500\s+900\s+950\s+990\s+999\s+1000$/)
    expect(text).toContain("second: requests per endpoint")
    expect(text).toMatch(/\n\s+1\s+407\s+40\.42%\s+9/)
  })
})
