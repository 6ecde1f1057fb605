/**
 * linkerd's `socketOptions` and `hostConnectionPool` keys as weir's transports apply them, on real
 * loopback sockets: the read/write timeouts close an inactive connection (server and client side),
 * `maxWaiters` bounds the queue for a connection, `minSize` keeps idle connections open.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Result from "effect/Result"
import type * as http from "node:http"
import * as net from "node:net"
import * as Address from "../../../src/Address.js"
import { ConnectionFailed } from "../../../src/Failure.js"
import * as Message from "../../../src/http/transport/Message.js"
import * as Server from "../../../src/http/transport/Server.js"
import * as SocketOptions from "../../../src/http/transport/SocketOptions.js"
import * as Upstream from "../../../src/http/transport/Upstream.js"
import { Path } from "../../../src/index.js"
import * as Config from "../../../src/proxy/Config.js"
import * as Linker from "../../../src/proxy/Linker.js"
import { backend } from "../support.js"

const local = (port: number) => Address.make("127.0.0.1", port)

const until = (cond: () => boolean) =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      const check = () => (cond() ? resolve() : setTimeout(check, 5))
      check()
    })
  )

/** A raw connection to `port`; resolves with it once connected, `closed` when the server closes it. */
const connect = (port: number) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ readonly socket: net.Socket; readonly closed: Promise<void> }>((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port })
        socket.on("error", () => {})
        const closed = new Promise<void>((done) => socket.once("close", () => done()))
        socket.once("connect", () => resolve({ socket, closed }))
      })
    ),
    (c) => Effect.sync(() => c.socket.destroy())
  )

describe("socketOptions", () => {
  it("folds read and write timeouts into one inactivity timeout", () => {
    const base = { noDelay: true, keepAlive: false, reusePort: false }
    expect(SocketOptions.fromConfig(base)).toEqual(base)
    expect(SocketOptions.fromConfig({ ...base, readTimeoutMs: 61000, writeTimeoutMs: 30000, backlog: 128 })).toEqual({
      ...base,
      backlog: 128,
      idleTimeoutMs: 30000
    })
  })

  it("decodes on servers and clients with linkerd's defaults, and rejects reuseAddr: false", () => {
    const r = Config.parse(`
routers:
- protocol: http
  client:
    socketOptions: {keepAlive: true, readTimeoutMs: 500}
    failFast: true
    hostConnectionPool: {minSize: 1, maxSize: 4, maxWaiters: 10}
  servers:
  - port: 0
    socketOptions: {noDelay: true, reuseAddr: true, reusePort: true, readTimeoutMs: 61000, writeTimeoutMs: 61000,
                    keepAlive: true, backlog: 128}
`)
    expect(Result.isSuccess(r)).toBe(true)
    if (Result.isFailure(r)) return
    const router = r.success.routers[0]!
    expect(router.servers[0]!.socketOptions).toEqual({
      noDelay: true,
      reuseAddr: true,
      reusePort: true,
      readTimeoutMs: 61000,
      writeTimeoutMs: 61000,
      keepAlive: true,
      backlog: 128
    })
    expect(Linker.clientParams(router.client, Path.read("/#/io.l5d.fs/web")).pool).toEqual({
      maxConnections: 4,
      minConnections: 1,
      maxWaiters: 10,
      socket: { noDelay: true, keepAlive: true, reusePort: false, idleTimeoutMs: 500 }
    })
    const bad = Config.parse(`routers: [{protocol: http, servers: [{socketOptions: {reuseAddr: false}}]}]`)
    expect(Result.isFailure(bad) && bad.failure.map((p) => p.path)).toEqual([
      "routers[0].servers[0].socketOptions.reuseAddr"
    ])
    const pool = Config.parse(`routers: [{protocol: http, client: {hostConnectionPool: {minSize: 5, maxSize: 2}}}]`)
    expect(Result.isFailure(pool) && pool.failure.map((p) => p.message)).toEqual([
      "minSize (5) must not exceed maxSize (2)"
    ])
  })

  it.live("a server closes a connection inactive for its read/write timeout", () =>
    Effect.gen(function*() {
      const server = yield* Server.make(
        { ip: "127.0.0.1", port: 0, keepAliveTimeout: 60_000, socket: { idleTimeoutMs: 50 } },
        () => Effect.succeed(Message.response(200, "ok"))
      )
      const c = yield* connect(server.port)
      yield* Effect.promise(() => c.closed)
      expect(c.socket.destroyed).toBe(true)
    }))

  it.live("a client request with no byte read for the timeout fails with ConnectionFailed (timeout)", () =>
    Effect.gen(function*() {
      const b = yield* backend((req) => req.resume()) // never answers
      const up = yield* Upstream.make(local(b.port), { socket: { idleTimeoutMs: 50 } })
      const e = yield* Effect.flip(up.call(Message.request({ url: "/" })))
      expect(e).toBeInstanceOf(ConnectionFailed)
      expect(e.reason).toBe("timeout")
    }))
})

describe("hostConnectionPool", () => {
  it.live("maxWaiters: a request beyond the queue fails at once, unwritten (requeueable)", () =>
    Effect.gen(function*() {
      const held: Array<http.ServerResponse> = []
      const b = yield* backend((req, res) => {
        req.resume()
        held.push(res)
      })
      const up = yield* Upstream.make(local(b.port), { maxConnections: 1, maxWaiters: 1 })
      const first = yield* Effect.forkChild(up.call(Message.request({ url: "/1" })))
      yield* until(() => held.length === 1)
      const second = yield* Effect.forkChild(up.call(Message.request({ url: "/2" })))
      yield* Effect.yieldNow // the second call is queued before the third is made
      const third = yield* Effect.flip(up.call(Message.request({ url: "/3" })))
      expect(third).toBeInstanceOf(ConnectionFailed)
      expect(third.written).toBe(false)
      expect(third.message).toMatch(/too many waiters/)
      held.shift()!.end("a")
      yield* until(() => held.length === 1)
      held.shift()!.end("b")
      expect((yield* Fiber.join(first)).status).toBe(200)
      expect((yield* Fiber.join(second)).status).toBe(200)
      expect(b.seen.map((r) => r.url)).toEqual(["/1", "/2"])
    }))

  it.live("minSize: idle connections past idleTimeMs are closed down to minSize, not below", () =>
    Effect.gen(function*() {
      const held: Array<http.ServerResponse> = []
      const b = yield* backend((req, res) => {
        req.resume()
        held.push(res)
      })
      const run = (up: Upstream.Upstream) =>
        Effect.gen(function*() {
          const calls = yield* Effect.forkChild(
            Effect.forEach([1, 2, 3], () => up.call(Message.request({ url: "/" })), { concurrency: "unbounded" })
          )
          yield* until(() => held.length === 3)
          held.splice(0).forEach((res) => res.end("ok"))
          yield* Fiber.join(calls)
        })
      const plain = yield* Upstream.make(local(b.port), { idleTimeout: 30 })
      yield* run(plain)
      yield* until(() => plain.connections() === 0)
      const kept = yield* Upstream.make(local(b.port), { idleTimeout: 30, minConnections: 1 })
      yield* run(kept)
      expect(kept.connections()).toBe(3)
      yield* until(() => kept.connections() === 1)
      // the idle timer of the kept connection has fired: it stays open
      yield* Effect.sleep(150)
      expect(kept.connections()).toBe(1)
    }))
})
