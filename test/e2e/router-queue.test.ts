import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as net from "node:net"
import * as Router from "../../src/http/Router.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Stats from "../../src/Stats.js"
import { backend, send } from "../http/support.js"
import { waitFor } from "../support/poll.js"

/** Router "q" with one server (`server`), `Host: web` routed to the backend on `backendPort`, and its stats. */
const routerTo = (backendPort: number, server: Router.ServerConfig = { port: 0 }) =>
  Effect.gen(function*() {
    const stats = Stats.makeInMemory()
    const router = yield* Router.make({
      label: "q",
      servers: [server],
      dtab: Dtab.parseUnsafe(`/svc/web => /$/inet/127.0.0.1/${backendPort}`),
      interpreter: yield* Interpreter.make(),
      stats
    })
    return { router, stats }
  })

describe("Router: the admission queue's wait (queue_latency_ms)", () => {
  it.live("recorded for every admitted request; a request that waited for a slot waited as long as the one before it ran", () =>
    Effect.gen(function*() {
      const held: Array<() => void> = []
      const b = yield* backend((req, res) => {
        req.resume()
        held.push(() => res.end("done"))
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => held.splice(0).forEach((f) => f())))
      const { router, stats } = yield* routerTo(b.port, { port: 0, maxConcurrentRequests: 1, maxPending: 1 })
      const port = router.servers[0]!.port
      const name = `rt/q/server/127.0.0.1/${port}/queue_latency_ms`
      const first = send(port, { headers: { host: "web" } })
      yield* waitFor(() => held.length === 1, "the first request at the backend")
      const second = send(port, { headers: { host: "web" } })
      yield* waitFor(() => router.servers[0]!.inFlight() === 2, "the second request queued")
      yield* Effect.sleep("50 millis")
      expect(stats.histogramSummary(name).count).toBe(1)
      held.shift()!()
      yield* Effect.promise(() => first)
      yield* waitFor(() => held.length === 1, "the second request at the backend")
      held.shift()!()
      yield* Effect.promise(() => second)
      const h = stats.histogramSummary(name)
      expect(h.count).toBe(2)
      // the second waited at least the 50 ms the first was held after it arrived
      expect(h.max).toBeGreaterThanOrEqual(50)
    }))

  it.live("no queue without maxConcurrentRequests: no metric", () =>
    Effect.gen(function*() {
      const b = yield* backend((_req, res) => res.end("ok"))
      const { router, stats } = yield* routerTo(b.port)
      yield* Effect.promise(() => send(router.servers[0]!.port, { headers: { host: "web" } }))
      expect([...stats.histogramSummaries().keys()].filter((k) => k.endsWith("queue_latency_ms"))).toEqual([])
    }))

  it.live("requests past 64 starts in one turn of the loop: their wait in loop_queue_latency_ms", () =>
    Effect.gen(function*() {
      const b = yield* backend((_req, res) => res.end("ok"))
      const { router, stats } = yield* routerTo(b.port)
      const server = router.servers[0]!
      const name = `rt/q/server/127.0.0.1/${server.port}/loop_queue_latency_ms`
      const sockets = yield* Effect.promise(() =>
        Promise.all(Array.from({ length: 150 }, () =>
          new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect({ port: server.port, host: "127.0.0.1" }, () => resolve(s))
            s.on("error", reject)
          })))
      )
      yield* Effect.addFinalizer(() => Effect.sync(() => sockets.forEach((s) => s.destroy())))
      // all accepted first, so that the heads reach the router in one turn
      yield* waitFor(() => server.connections() === 150, "150 connections accepted")
      const answered = sockets.map((s) =>
        new Promise<void>((resolve) => {
          let out = ""
          s.on("data", (c: Buffer) => {
            out += c.toString("latin1")
            if (out.endsWith("ok")) resolve()
          })
        })
      )
      for (const s of sockets) s.write("GET / HTTP/1.1\r\nhost: web\r\n\r\n")
      yield* Effect.promise(() => Promise.all(answered))
      const h = stats.histogramSummary(name)
      expect(h.count).toBeGreaterThan(0)
      expect(h.count).toBeLessThanOrEqual(150 - 64)
      expect(h.min).toBeGreaterThanOrEqual(0)
    }))
})
