/**
 * A backend that accepts connections and never answers, behind one name with a healthy one: the
 * proxy's attempt timeout sits under failure accrual (ClientStack's order), so the timeouts mark the
 * hung endpoint dead, and the retryable classifier sends the timed-out requests to the healthy one.
 * The same scenario in the simulator predicts the same (test/testing/HungEndpoint.test.ts).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { mkdtempSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"

const listening = <S extends net.Server>(server: S) =>
  Effect.acquireRelease(
    Effect.callback<S>((resume) => {
      server.listen({ host: "127.0.0.1", port: 0 }, () => resume(Effect.succeed(server)))
    }),
    (s) =>
      Effect.callback<void>((resume) => {
        s.close(() => resume(Effect.void))
        if (s instanceof Http.Server) s.closeAllConnections()
      })
  ).pipe(Effect.map((s) => (s.address() as AddressInfo).port))

/** Accepts connections, reads requests, never answers; its sockets are destroyed when it closes. */
const hung = Effect.suspend(() => {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on("data", () => {})
    socket.on("close", () => sockets.delete(socket))
  })
  server.on("close", () => sockets.forEach((s) => s.destroy()))
  return Effect.tap(
    listening(server),
    () => Effect.addFinalizer(() => Effect.sync(() => sockets.forEach((s) => s.destroy())))
  )
})

const healthy = listening(Http.createServer((_req, res) => res.end("ok")))

const get = (url: string, agent: Http.Agent) =>
  new Promise<number>((resolve) => {
    const req = Http.request(url, { headers: { host: "web" }, agent }, (res) => {
      res.resume()
      res.on("end", () => resolve(res.statusCode ?? 0))
    })
    req.on("error", () => resolve(0))
    req.end()
  })

const json = (url: string) =>
  Effect.promise(() =>
    new Promise<Record<string, number>>((resolve, reject) => {
      Http.get(url, { agent: false }, (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString("utf8"))))
      }).on("error", reject)
    })
  )

describe("a backend that never answers", () => {
  it.live("is removed by failure accrual through the attempt timeout; requests succeed elsewhere", () =>
    Effect.gen(function*() {
      const good = yield* healthy
      const bad = yield* hung
      const dir = mkdtempSync(join(tmpdir(), "weir-hung-"))
      writeFileSync(join(dir, "web"), `127.0.0.1 ${good}\n127.0.0.1 ${bad}\n`)
      const parsed = Config.parse(`
admin: {port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${dir}
routers:
- protocol: http
  label: web
  dtab: /svc => /#/io.l5d.fs
  servers: [{port: 0}]
  client:
    requestAttemptTimeoutMs: 100
    failureAccrual: {kind: io.l5d.consecutiveFailures, failures: 5}
  service:
    responseClassifier: {kind: io.l5d.http.retryableRead5XX}
`)
      if (Result.isFailure(parsed)) throw new Error(JSON.stringify(parsed.failure))
      const linker = yield* Linker.make(parsed.success)
      const url = `http://127.0.0.1:${linker.routers[0]!.servers[0]!.port}/`
      const agent = new Http.Agent({ keepAlive: true, maxSockets: 10 })
      yield* Effect.addFinalizer(() => Effect.sync(() => agent.destroy()))
      const batch = (n: number) => Effect.promise(() => Promise.all(Array.from({ length: n }, () => get(url, agent))))
      // until the hung endpoint is removed: each request that lands on it times out after 100 ms
      // and is retried on the healthy one
      const early = (yield* Effect.forEach(Array.from({ length: 5 }), () => batch(10))).flat()
      const metrics = yield* json(`http://127.0.0.1:${linker.admin.port}/admin/metrics.json`)
      const client = "rt/web/client/#/io.l5d.fs/web"
      expect(metrics[`${client}/failure_accrual/removals`]).toBeGreaterThanOrEqual(1)
      expect(metrics[`${client}/request_timeout/timeouts`]).toBeGreaterThanOrEqual(5)
      expect(metrics[`${client}/loadbalancer/available`]).toBe(1)
      // later requests: the healthy endpoint answers them
      const later = (yield* Effect.forEach(Array.from({ length: 20 }), () => batch(10))).flat()
      const rate = later.filter((s) => s === 200).length / later.length
      expect(rate).toBeGreaterThanOrEqual(0.99)
      expect(early.filter((s) => s === 200).length / early.length).toBeGreaterThanOrEqual(0.9)
    }))
})
