import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as Message from "../../../src/http/transport/Message.js"
import * as Server from "../../../src/http/transport/Server.js"

// the listening sockets on a port, from the kernel's table (Linux)
const listening = (port: number): number =>
  readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1).filter((line) => {
    const f = line.trim().split(/\s+/)
    return f.length > 3 && f[1]!.endsWith(`:${port.toString(16).toUpperCase().padStart(4, "0")}`) && f[3] === "0A"
  }).length

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number)
const reusePort = process.platform === "linux" &&
  (major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12))

const ok = () => Effect.succeed(Message.response(200, "ok"))

const get = (port: number) =>
  new Promise<number>((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, agent: false }, (res) => {
      res.resume()
      res.on("end", () => resolve(res.statusCode ?? 0))
    })
    req.on("error", reject)
  })

describe.runIf(reusePort)("Server: several listening sockets on one port (SO_REUSEPORT)", () => {
  it.live("listens with 8 sockets by default, all serving; with acceptors: 1, one", () =>
    Effect.gen(function*() {
      const server = yield* Server.make({ port: 0 }, ok)
      expect(listening(server.port)).toBe(8)
      // new connections spread over the sockets: every one of them is served
      const statuses = yield* Effect.promise(() => Promise.all(Array.from({ length: 40 }, () => get(server.port))))
      expect(statuses.every((s) => s === 200)).toBe(true)
      const single = yield* Server.make({ port: 0, acceptors: 1 }, ok)
      expect(listening(single.port)).toBe(1)
    }))

  it.live("a port already served by another server is still in use; with reusePort asked for, it is shared", () =>
    Effect.gen(function*() {
      const server = yield* Server.make({ port: 0 }, ok)
      const inUse = yield* Effect.flip(Server.make({ port: server.port }, ok))
      expect(inUse.message).toContain(`127.0.0.1:${server.port}`)
      const shared = yield* Server.make({ port: 0, socket: { reusePort: true } }, ok)
      const second = yield* Server.make({ port: shared.port, socket: { reusePort: true } }, ok)
      expect(second.port).toBe(shared.port)
      expect(listening(shared.port)).toBe(16)
    }))

  it.live("drain closes every listening socket", () =>
    Effect.gen(function*() {
      const server = yield* Server.make({ port: 0 }, ok)
      yield* server.drain(0)
      expect(listening(server.port)).toBe(0)
    }))
})

// more request heads in one turn than the server starts per slice (64): the rest wait in its queue
describe("Server: many requests at once", () => {
  const open = (port: number) =>
    new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1" }, () => resolve(s))
      s.on("error", reject)
    })
  const answer = (s: net.Socket) =>
    new Promise<string>((resolve) => {
      let out = ""
      s.on("data", (c: Buffer) => (out += c.toString("latin1")))
      s.on("close", () => resolve(out))
    })

  it.live("300 heads written in the same turn, half of them followed by FIN: every one answered, once", () =>
    Effect.gen(function*() {
      const waits: Array<number> = []
      const server = yield* Server.make({ port: 0, onQueued: (ms) => waits.push(ms) }, ok)
      const sockets = yield* Effect.promise(() => Promise.all(Array.from({ length: 300 }, () => open(server.port))))
      // all accepted first, so that the heads reach the server in one turn
      while (server.connections() < 300) yield* Effect.sleep("5 millis")
      const answers = sockets.map(answer)
      sockets.forEach((s, i) => {
        s.write(`GET /${i} HTTP/1.1\r\nhost: x\r\n${i % 2 === 0 ? "connection: close\r\n" : ""}\r\n`)
        if (i % 4 === 1) s.end()
      })
      // the keep-alive ones that did not send FIN stay open: close them once answered
      sockets.forEach((s, i) => {
        if (i % 2 === 1 && i % 4 !== 1) s.once("data", () => s.end())
      })
      const out = yield* Effect.promise(() => Promise.all(answers))
      for (const o of out) expect(o.match(/HTTP\/1\.1 200/g)?.length).toBe(1)
      // past 64 starts in the turn that read them, requests waited for later slices, and said how long
      expect(waits.length).toBeGreaterThan(0)
      expect(waits.length).toBeLessThanOrEqual(300 - 64)
      for (const ms of waits) expect(ms >= 0 && ms < 60_000).toBe(true)
    }))
})
