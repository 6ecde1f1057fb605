import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import { Readable } from "node:stream"
import * as Router from "../../src/http/Router.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Stats from "../../src/Stats.js"
import { backend, raw, send, sendE, textBackend } from "../http/support.js"

const inet = (port: number) => `/$/inet/127.0.0.1/${port}`

const makeRouter = (port: number, extra?: Partial<Router.Options>) =>
  Effect.gen(function*() {
    const router = yield* Router.make({
      label: "p",
      servers: [{ port: 0, headersTimeout: Duration.seconds(1) }],
      dtab: Dtab.parseUnsafe(`/svc/web => ${inet(port)}`),
      interpreter: yield* Interpreter.make(),
      ...extra
    })
    return router
  })

/** Streams `total` bytes of generated data. */
const generated = (total: number, chunk = 64 * 1024): Readable => {
  let sent = 0
  const block = Buffer.alloc(chunk, 120)
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null)
      const n = Math.min(chunk, total - sent)
      sent += n
      this.push(n === chunk ? block : block.subarray(0, n))
    }
  })
}

describe("HTTP/1.1 proxy protocol", () => {
  it.live("malformed request lines get 400 and oversized headers 431 while others are served", () =>
    Effect.gen(function*() {
      const b = yield* textBackend("ok")
      const stats = Stats.makeInMemory()
      const router = yield* makeRouter(b.port, { stats })
      const port = router.servers[0]!.port
      const bad = yield* Effect.promise(() => raw(port, "GARBAGE REQUEST\r\n\r\n"))
      expect(bad).toMatch(/^HTTP\/1\.1 400 /)
      const big = yield* Effect.promise(() =>
        raw(port, `GET / HTTP/1.1\r\nHost: web\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`)
      )
      expect(big).toMatch(/^HTTP\/1\.1 431 /)
      const good = yield* sendE(port, { headers: { host: "web" } })
      expect(good.status).toBe(200)
      expect(stats.counterValue(`rt/p/server/127.0.0.1/${port}/status/400`)).toBe(1)
      expect(stats.counterValue(`rt/p/server/127.0.0.1/${port}/status/431`)).toBe(1)
    }))

  it.live("a slowloris connection does not stall others and is closed after the headers timeout", () =>
    Effect.gen(function*() {
      const b = yield* textBackend("ok")
      const router = yield* makeRouter(b.port)
      const port = router.servers[0]!.port
      const slow = net.connect(port, "127.0.0.1")
      slow.on("error", () => {})
      let closed = false
      let received = ""
      slow.on("data", (d) => (received += d.toString()))
      slow.on("close", () => (closed = true))
      slow.write("GET / HTTP/1.1\r\nHost: web\r\n")
      const dribble = setInterval(() => slow.write("X-Slow: 1\r\n"), 100)
      for (let i = 0; i < 5; i++) {
        expect((yield* sendE(port, { headers: { host: "web" } })).status).toBe(200)
      }
      yield* Effect.promise(async () => {
        for (let i = 0; i < 60 && !closed; i++) await new Promise((r) => setTimeout(r, 100))
      })
      clearInterval(dribble)
      expect(closed).toBe(true)
      expect(received).toMatch(/^HTTP\/1\.1 408 /)
    }))

  it.live(
    "streams a 400 MiB upload and download through a weir process in bounded memory",
    () =>
      Effect.gen(function*() {
        const size = 400 * 1024 * 1024
        const b = yield* backend((req, res) => {
          if (req.method === "POST") {
            let n = 0
            req.on("data", (c: Buffer) => (n += c.length))
            req.on("end", () => res.end(String(n)))
          } else {
            res.writeHead(200, { "content-type": "application/octet-stream" })
            generated(size).pipe(res)
          }
        })
        const child = yield* Effect.acquireRelease(
          Effect.sync(() =>
            spawn(process.execPath, [
              "--max-semi-space-size=2",
              "--import",
              "tsx",
              "bench/proxy/weir.ts",
              "0",
              String(b.port)
            ], {
              stdio: ["ignore", "pipe", "inherit"]
            })
          ),
          (c) => Effect.sync(() => c.kill("SIGKILL"))
        )
        const port = yield* Effect.promise(() =>
          new Promise<number>((resolve, reject) => {
            let out = ""
            child.stdout!.on("data", (d) => {
              out += d
              const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out)
              if (m !== null) resolve(Number(m[1]))
            })
            child.on("exit", (code) => reject(new Error(`weir exited with ${code}`)))
          })
        )
        const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))![1]) * 1024
        expect((yield* sendE(port, { headers: { host: "web" }, method: "POST", body: "warm" })).body).toBe("4")
        const before = rss()
        let peak = before
        const sampler = setInterval(() => (peak = Math.max(peak, rss())), 10)
        const uploaded = yield* Effect.promise(() =>
          new Promise<string>((resolve, reject) => {
            const req = http.request(
              { host: "127.0.0.1", port, method: "POST", path: "/up", headers: { host: "web" }, agent: false },
              (res) => {
                let text = ""
                res.on("data", (c) => (text += c))
                res.on("end", () => resolve(text))
              }
            )
            req.on("error", reject)
            generated(size).pipe(req)
          })
        )
        expect(uploaded).toBe(String(size))
        expect(b.seen[1]!.headers["transfer-encoding"]).toBe("chunked")
        const downloaded = yield* Effect.promise(() =>
          new Promise<number>((resolve, reject) => {
            http.get({ host: "127.0.0.1", port, path: "/down", headers: { host: "web" }, agent: false }, (res) => {
              let n = 0
              res.on("data", (c: Buffer) => (n += c.length))
              res.on("end", () => resolve(n))
              res.on("error", reject)
            }).on("error", reject)
          })
        )
        clearInterval(sampler)
        expect(downloaded).toBe(size)
        expect(peak - before).toBeLessThan(size / 4)
      }),
    60_000
  )

  it.live("Expect: 100-continue, HEAD, chunked responses and connection reuse", () =>
    Effect.gen(function*() {
      const b = yield* backend((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          if (req.method === "HEAD") {
            res.writeHead(200, { "content-length": "1000", "x-port": String(req.socket.remotePort) })
            return res.end()
          }
          res.writeHead(200, { "x-port": String(req.socket.remotePort), "x-expect": String(req.headers.expect) })
          res.write("part1-")
          res.end(Buffer.concat(chunks).toString() || "part2")
        })
      })
      const router = yield* makeRouter(b.port)
      const port = router.servers[0]!.port

      const continued = yield* Effect.promise(() =>
        new Promise<{ readonly sawContinue: boolean; readonly body: string }>((resolve, reject) => {
          let sawContinue = false
          const req = http.request({
            host: "127.0.0.1",
            port,
            method: "PUT",
            path: "/c",
            headers: { host: "web", expect: "100-continue", "content-length": "5" },
            agent: false
          }, (res) => {
            let text = ""
            res.on("data", (c) => (text += c))
            res.on("end", () => resolve({ sawContinue, body: text }))
          })
          req.on("continue", () => {
            sawContinue = true
            req.end("hello")
          })
          req.on("error", reject)
        })
      )
      expect(continued).toEqual({ sawContinue: true, body: "part1-hello" })

      const head = yield* sendE(port, { method: "HEAD", headers: { host: "web" } })
      expect(head.status).toBe(200)
      expect(head.headers["content-length"]).toBe("1000")
      expect(head.body).toBe("")

      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      const replies = []
      for (let i = 0; i < 5; i++) replies.push(yield* sendE(port, { headers: { host: "web" }, agent }))
      agent.destroy()
      expect(replies.every((r) => r.body === "part1-part2")).toBe(true)
      expect(replies[0]!.headers["transfer-encoding"]).toBe("chunked")
      expect(new Set(replies.map((r) => r.headers["x-port"])).size).toBe(1)
      expect(router.servers[0]!.connections()).toBeLessThanOrEqual(1)
    }))

  it.live("drain finishes requests in flight and stops accepting", () =>
    Effect.gen(function*() {
      const b = yield* backend((req, res) => {
        req.resume()
        setTimeout(() => res.end("slow-ok"), 300)
      })
      const router = yield* makeRouter(b.port)
      const port = router.servers[0]!.port
      const inflight = send(port, { headers: { host: "web" } })
      yield* Effect.promise(async () => {
        while (b.seen.length < 1) await new Promise((r) => setTimeout(r, 5))
      })
      const draining = yield* Effect.forkChild(router.drain(Duration.seconds(5)))
      const reply = yield* Effect.promise(() => inflight)
      expect(reply.body).toBe("slow-ok")
      yield* Fiber.join(draining)
      const refused = yield* Effect.promise(() =>
        send(port, { headers: { host: "web" } }).then(() => "served", () => "refused")
      )
      expect(refused).toBe("refused")
    }))
})
