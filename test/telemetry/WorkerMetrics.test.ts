import { describe, expect, it } from "@effect/vitest"
import * as Stats from "../../src/Stats.js"
import * as Metrics from "../../src/telemetry/Metrics.js"
import * as WorkerMetrics from "../../src/telemetry/WorkerMetrics.js"

const snapshotOf = (record: (r: Stats.InMemory) => void): Metrics.Snapshot => {
  const r = Stats.makeInMemory()
  record(r)
  return Metrics.makeExporter(r).snapshot()
}

const requests = "rt/web/server/127.0.0.1/4140/requests"
const latency = "rt/web/server/127.0.0.1/4140/request_latency_ms"

const w0 = snapshotOf((r) => {
  for (let i = 0; i < 3; i++) r.counter(...requests.split("/")).incr()
  r.gauge(["rt", "web", "server", "127.0.0.1", "4140", "connections"], () => 2)
  r.gauge(["process", "event_loop_lag_ms", "max"], () => 7)
  for (const v of [1, 2, 3]) r.histogram(...latency.split("/")).add(v)
})
const w1 = snapshotOf((r) => {
  for (let i = 0; i < 5; i++) r.counter(...requests.split("/")).incr()
  r.gauge(["rt", "web", "server", "127.0.0.1", "4140", "connections"], () => 4)
  r.gauge(["process", "event_loop_lag_ms", "max"], () => 3)
  for (const v of [10, 20]) r.histogram(...latency.split("/")).add(v)
})

describe("WorkerMetrics", () => {
  it("merge: counters and traffic gauges add up, process gauges take the largest", () => {
    const m = WorkerMetrics.merge([w0, w1])
    expect(m.counters.get(requests)).toBe(8)
    expect(m.gauges.get("rt/web/server/127.0.0.1/4140/connections")).toBe(6)
    expect(m.gauges.get("process/event_loop_lag_ms/max")).toBe(7)
  })

  it("merge: histograms add counts and sums, keep the extremes, a percentile is the largest", () => {
    const h = WorkerMetrics.merge([w0, w1]).histograms.get(latency)!
    expect(h.count).toBe(5)
    expect(h.sum).toBe(36)
    expect(h.avg).toBeCloseTo(7.2)
    expect(h.min).toBe(w0.histograms.get(latency)!.min)
    expect(h.max).toBe(w1.histograms.get(latency)!.max)
    expect(h.p50).toBe(Math.max(w0.histograms.get(latency)!.p50, w1.histograms.get(latency)!.p50))
  })

  it("an empty histogram does not change the other", () => {
    const empty = { count: 0, sum: 0, min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0, p9990: 0, p9999: 0 }
    const h = w1.histograms.get(latency)!
    expect(WorkerMetrics.combineHistograms(empty, h)).toEqual(h)
    expect(WorkerMetrics.combineHistograms(h, empty)).toEqual(h)
  })

  it("combine: the sum under the usual names, each worker's own under worker/<k>/", () => {
    const json = Metrics.toJson(WorkerMetrics.combine([{ worker: 1, snapshot: w1 }, { worker: 0, snapshot: w0 }]))
    expect(json[requests]).toBe(8)
    expect(json[`worker/0/${requests}`]).toBe(3)
    expect(json[`worker/1/${requests}`]).toBe(5)
    expect(json[`worker/1/${latency}.count`]).toBe(2)
    expect(json[`${latency}.count`]).toBe(5)
  })

  it("Prometheus: one family, the sum unlabelled and each worker under worker=\"k\"", () => {
    const prom = Metrics.toPrometheus(WorkerMetrics.combine([{ worker: 0, snapshot: w0 }, { worker: 1, snapshot: w1 }]))
    const family = prom.split("\n").filter((l) => l.includes("rt:server:requests"))
    expect(family).toEqual([
      "# HELP rt:server:requests " + family[0]!.slice("# HELP rt:server:requests ".length),
      "# TYPE rt:server:requests counter",
      `rt:server:requests{rt="web", server="127.0.0.1/4140"} 8`,
      `rt:server:requests{worker="0", rt="web", server="127.0.0.1/4140"} 3`,
      `rt:server:requests{worker="1", rt="web", server="127.0.0.1/4140"} 5`
    ])
  })

  it("parseName: a worker's metric keeps its name and gains the worker label", () => {
    const p = Metrics.parseName(`worker/3/${requests}`)
    expect(p.labels).toEqual([["worker", "3"], ["rt", "web"], ["server", "127.0.0.1/4140"]])
    expect(p.nameSegments).toEqual(Metrics.parseName(requests).nameSegments)
    expect(Metrics.parseName("worker/2/process/event_loop_lag_ms/p99").labels).toEqual([["worker", "2"]])
  })
})
