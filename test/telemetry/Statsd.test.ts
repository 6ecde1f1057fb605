import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import * as dgram from "node:dgram"
import type { AddressInfo } from "node:net"
import * as Stats from "../../src/Stats.js"
import * as Metrics from "../../src/telemetry/Metrics.js"
import * as Statsd from "../../src/telemetry/Statsd.js"
import { waitFor } from "../support/poll.js"

const registry = () => {
  const r = Stats.makeInMemory()
  const rt = r.scope("rt", "web")
  rt.scope("service", "svc/books").counter("requests").incr(2)
  rt.scope("client", "$/inet/127.1/8080").gauge(["loadbalancer", "size"], () => 3)
  const h = rt.scope("service", "svc/books").histogram("request_latency_ms")
  for (let i = 1; i <= 100; i++) h.add(i)
  return r
}

describe("Statsd.lines", () => {
  it("sends counter increases, gauges and histogram timers under the prefix", () => {
    const r = registry()
    const ex = Metrics.makeExporter(r)
    const previous = new Map<string, number>()
    const first = Statsd.lines(ex.snapshot(), previous, "linkerd", 0.01)
    expect(first).toContain("linkerd.rt.web.service.svc.books.requests:2|c")
    expect(first).toContain("linkerd.rt.web.client._.inet.127_1.8080.loadbalancer.size:3|g")
    expect(first).toContain("linkerd.rt.web.service.svc.books.request_latency_ms.count:100|g")
    expect(first).toContain("linkerd.rt.web.service.svc.books.request_latency_ms.p99:99|ms|@0.01")
    r.scope("rt", "web", "service", "svc/books").counter("requests").incr(3)
    const second = Statsd.lines(ex.snapshot(), previous, "linkerd", 1)
    expect(second).toContain("linkerd.rt.web.service.svc.books.requests:3|c")
    expect(second).toContain("linkerd.rt.web.service.svc.books.request_latency_ms.max:100|ms")
    const third = Statsd.lines(ex.snapshot(), previous, "", 1)
    expect(third.some((l) => l.includes("requests"))).toBe(false)
  })

  it("packs lines into datagrams under 1,400 bytes", () => {
    const ls = Array.from({ length: 100 }, (_, i) => `weir.metric.number_${i}.with.a.long.name:1|c`)
    const ps = Statsd.packets(ls)
    expect(ps.length).toBeGreaterThan(1)
    for (const p of ps) expect(p.length).toBeLessThanOrEqual(1400)
    expect(ps.join("\n").split("\n")).toEqual(ls)
  })
})

describe("Statsd.make", () => {
  it.live("sends to a UDP listener on loopback, and once more when closed", () =>
    Effect.gen(function*() {
      const received: Array<string> = []
      const listener = dgram.createSocket("udp4")
      yield* Effect.addFinalizer(() => Effect.sync(() => void listener.close()))
      yield* Effect.callback<void>((resume) => {
        listener.bind(0, "127.0.0.1", () => resume(Effect.void))
      })
      listener.on("message", (m) => received.push(...m.toString("utf8").split("\n")))
      const r = registry()
      const ex = Metrics.makeExporter(r)
      const scope = yield* Scope.make()
      yield* Statsd.make(ex.snapshot, {
        port: (listener.address() as AddressInfo).port,
        interval: "50 millis",
        prefix: "weir"
      }).pipe(Scope.provide(scope))
      yield* waitFor(() => received.includes("weir.rt.web.service.svc.books.requests:2|c"), "the first send")
      r.scope("rt", "web", "service", "svc/books").counter("requests").incr(5)
      yield* Scope.close(scope, Effect.void as never)
      yield* waitFor(() => received.includes("weir.rt.web.service.svc.books.requests:5|c"), "the last send")
    }))
})
