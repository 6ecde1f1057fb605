import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import type * as http from "node:http"
import * as net from "node:net"
import { Readable } from "node:stream"
import * as Address from "../../../src/Address.js"
import { ConnectionFailed } from "../../../src/Failure.js"
import type { Body } from "../../../src/http/transport/Message.js"
import * as Message from "../../../src/http/transport/Message.js"
import * as Upstream from "../../../src/http/transport/Upstream.js"
import { backend, freePort, textBackend } from "../support.js"

const local = (port: number) => Address.make("127.0.0.1", port)

/** Polls `cond` every few milliseconds until it holds (the test's own timeout bounds it). */
const until = (cond: () => boolean) =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      const check = () => (cond() ? resolve() : setTimeout(check, 5))
      check()
    })
  )

const bytesOf = (body: Body): Promise<Buffer> => {
  if (body._tag === "Empty") return Promise.resolve(Buffer.alloc(0))
  if (body._tag === "Buffered") return Promise.resolve(body.data)
  return new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    body.stream.on("data", (c: Buffer) => chunks.push(c))
    body.stream.on("end", () => resolve(Buffer.concat(chunks)))
    body.stream.on("error", reject)
  })
}

const text = (body: Body) => Effect.promise(() => bytesOf(body).then((b) => b.toString("latin1")))

interface RawServer {
  readonly port: number
  readonly server: net.Server
  readonly sockets: Set<net.Socket>
}

/** A raw TCP server on 127.0.0.1; `onData` sees each connection's bytes so far. Closed with the scope. */
const rawServer = (onData: (socket: net.Socket, received: string) => void) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<RawServer>((resolve) => {
        const sockets = new Set<net.Socket>()
        const server = net.createServer((socket) => {
          sockets.add(socket)
          socket.on("close", () => sockets.delete(socket))
          socket.on("error", () => {})
          let received = ""
          socket.on("data", (d) => {
            received += d.toString("latin1")
            onData(socket, received)
          })
        })
        server.listen(0, "127.0.0.1", () =>
          resolve({ port: (server.address() as net.AddressInfo).port, server, sockets }))
      })
    ),
    (s) =>
      Effect.promise(() =>
        new Promise<void>((done) => {
          s.server.close(() =>
            done()
          )
          for (const socket of s.sockets) socket.destroy()
        })
      )
  )

const requests = (received: string) => received.split(" HTTP/1.1\r\n").length - 1

const failure = <A>(effect: Effect.Effect<A, ConnectionFailed>) =>
  Effect.flip(effect).pipe(Effect.map((e) => {
    expect(e).toBeInstanceOf(ConnectionFailed)
    return e
  }))

describe("Upstream", () => {
  it.live("reuses one keep-alive connection for sequential calls", () =>
    Effect.gen(function*() {
      const b = yield* backend((req, res) => {
        req.resume()
        res.end("hi")
      })
      const up = yield* Upstream.make(local(b.port))
      for (let i = 0; i < 5; i++) {
        const res = yield* up.call(Message.request({ url: `/r${i}`, headers: { host: "web" } }))
        expect(res.status).toBe(200)
        expect(res.body._tag).toBe("Buffered")
        expect(yield* text(res.body)).toBe("hi")
      }
      expect(up.connects()).toBe(1)
      expect(up.connections()).toBe(1)
      expect(b.seen.map((r) => r.url)).toEqual(["/r0", "/r1", "/r2", "/r3", "/r4"])
      expect(b.seen[0]!.headers.host).toBe("web")
    }))

  it.live("adds a host header when absent and drops the ones the client owns", () =>
    Effect.gen(function*() {
      const b = yield* textBackend("hi")
      const up = yield* Upstream.make(local(b.port))
      const res = yield* up.call(Message.request({
        url: "/",
        method: "POST",
        headers: { connection: "upgrade", upgrade: "h2c", te: "trailers", "content-length": "99", "x-a": ["1", "2"] }
      }))
      expect(res.status).toBe(200)
      const seen = b.seen[0]!.headers
      expect(seen.host).toBe(`127.0.0.1:${b.port}`)
      expect(seen.upgrade).toBeUndefined()
      expect(seen.te).toBeUndefined()
      expect(seen["content-length"]).toBe("0")
      expect(seen["x-a"]).toBe("1, 2")
    }))

  it.live("opens one connection per concurrent call, and maxConnections caps them and queues the rest", () =>
    Effect.gen(function*() {
      const held: Array<http.ServerResponse> = []
      const b = yield* backend((req, res) => {
        req.resume()
        held.push(res)
      })
      const release = () => held.splice(0).forEach((res) => res.end("ok"))
      const free = yield* Upstream.make(local(b.port))
      const f1 = yield* Effect.forkChild(Effect.forEach([1, 2, 3, 4], () => free.call(Message.request({ url: "/" })), {
        concurrency: "unbounded"
      }))
      yield* until(() => held.length === 4)
      release()
      const all = yield* Fiber.join(f1)
      expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200])
      expect(free.connects()).toBe(4)

      const capped = yield* Upstream.make(local(b.port), { maxConnections: 2 })
      const f2 = yield* Effect.forkChild(
        Effect.forEach([1, 2, 3, 4, 5], (i) => capped.call(Message.request({ url: `/q${i}` })), {
          concurrency: "unbounded"
        })
      )
      yield* until(() => held.length === 2)
      yield* Effect.sleep(30)
      expect(held.length).toBe(2)
      expect(capped.connections()).toBe(2)
      while (b.seen.length < 9) {
        release()
        yield* until(() => held.length > 0 || b.seen.length === 9)
      }
      release()
      const queued = yield* Fiber.join(f2)
      expect(queued.map((r) => r.status)).toEqual([200, 200, 200, 200, 200])
      expect(capped.connects()).toBe(2)
      expect(b.seen.slice(4).map((r) => r.url)).toEqual(["/q1", "/q2", "/q3", "/q4", "/q5"])
    }))

  it.live("decodes a chunked response into a stream without a length", () =>
    Effect.gen(function*() {
      const b = yield* backend((req, res) => {
        req.resume()
        res.write("hello ")
        setTimeout(() => res.end("world"), 5)
      })
      const up = yield* Upstream.make(local(b.port))
      const res = yield* up.call(Message.request({ url: "/" }))
      expect(res.headers["transfer-encoding"]).toBe("chunked")
      expect(res.body._tag).toBe("Stream")
      expect(res.body._tag === "Stream" && res.body.length).toBeUndefined()
      expect(yield* text(res.body)).toBe("hello world")
      const again = yield* up.call(Message.request({ url: "/" }))
      expect(yield* text(again.body)).toBe("hello world")
      expect(up.connects()).toBe(1)
    }))

  it.live("reads a close-delimited response to the end and does not reuse its connection", () =>
    Effect.gen(function*() {
      const s = yield* rawServer((socket, received) => {
        if (received.includes("\r\n\r\n")) socket.end("HTTP/1.1 200 OK\r\nx-k: v\r\n\r\nuntil the end")
      })
      const up = yield* Upstream.make(local(s.port))
      const res = yield* up.call(Message.request({ url: "/" }))
      expect(res.headers["x-k"]).toBe("v")
      expect(yield* text(res.body)).toBe("until the end")
      yield* until(() => up.connections() === 0)
      const again = yield* up.call(Message.request({ url: "/" }))
      expect(yield* text(again.body)).toBe("until the end")
      expect(up.connects()).toBe(2)
    }))

  it.live("HEAD, 204 and 304 responses have no body and keep the connection", () =>
    Effect.gen(function*() {
      const b = yield* backend((req, res) => {
        req.resume()
        if (req.method === "HEAD") res.writeHead(200, { "content-length": "5" }).end()
        else if (req.url === "/204") res.writeHead(204).end()
        else res.writeHead(304, { etag: "x" }).end()
      })
      const up = yield* Upstream.make(local(b.port))
      const head = yield* up.call(Message.request({ url: "/", method: "HEAD" }))
      expect(head.status).toBe(200)
      expect(head.headers["content-length"]).toBe("5")
      expect(head.body._tag).toBe("Empty")
      const r204 = yield* up.call(Message.request({ url: "/204" }))
      expect([r204.status, r204.body._tag]).toEqual([204, "Empty"])
      const r304 = yield* up.call(Message.request({ url: "/304" }))
      expect([r304.status, r304.body._tag]).toEqual([304, "Empty"])
      expect(up.connects()).toBe(1)
    }))

  it.live("skips 1xx interim responses", () =>
    Effect.gen(function*() {
      const s = yield* rawServer((socket, received) => {
        if (received.endsWith("\r\n\r\n")) {
          socket.write("HTTP/1.1 100 Continue\r\n\r\n")
          setTimeout(() =>
            socket.write(
              "HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
            ), 5)
        }
      })
      const up = yield* Upstream.make(local(s.port))
      const res = yield* up.call(Message.request({ url: "/" }))
      expect(res.status).toBe(200)
      expect(res.headers["link"]).toBeUndefined()
      expect(yield* text(res.body)).toBe("ok")
    }))

  it.live("streams a 64 MiB response with backpressure: the server stalls while nobody reads", () =>
    Effect.gen(function*() {
      const total = 64 * 1024 * 1024
      const piece = Buffer.alloc(64 * 1024, 97)
      let produced = 0
      const b = yield* backend((req, res) => {
        req.resume()
        res.writeHead(200, { "content-length": String(total) })
        Readable.from((function*() {
          while (produced < total) {
            produced += piece.length
            yield piece
          }
        })()).pipe(res)
      })
      const up = yield* Upstream.make(local(b.port))
      const res = yield* up.call(Message.request({ url: "/big" }))
      expect(res.body._tag).toBe("Stream")
      if (res.body._tag !== "Stream") return
      expect(res.body.length).toBe(total)
      let last = -1
      while (produced !== last) {
        last = produced
        yield* Effect.sleep(50)
      }
      expect(produced).toBeLessThan(total / 4)
      expect(res.body.stream.readableLength).toBeLessThanOrEqual(256 * 1024)
      let received = 0
      let peakBuffered = 0
      yield* Effect.promise(() =>
        new Promise<void>((resolve, reject) => {
          const stream = (res.body as Extract<Body, { _tag: "Stream" }>).stream
          stream.on("data", (c: Buffer) => {
            received += c.length
            peakBuffered = Math.max(peakBuffered, stream.readableLength)
          })
          stream.on("end", resolve)
          stream.on("error", reject)
        })
      )
      expect(received).toBe(total)
      expect(peakBuffered).toBeLessThanOrEqual(256 * 1024)
      const small = yield* up.call(Message.request({ url: "/big", method: "HEAD" }))
      expect(small.status).toBe(200)
      expect(up.connects()).toBe(1)
    }))

  it.live("streams request bodies: with a length as content-length, without one chunked", () =>
    Effect.gen(function*() {
      const b = yield* backend((req, res) => {
        let n = 0
        let sum = 0
        req.on("data", (c: Buffer) => {
          n += c.length
          for (const x of c) sum = (sum + x) % 65521
        })
        req.on("end", () =>
          res.end(JSON.stringify({
            n,
            sum,
            te: req.headers["transfer-encoding"] ?? null,
            cl: req.headers["content-length"] ?? null
          })))
      })
      const up = yield* Upstream.make(local(b.port))
      const chunks = () => Array.from({ length: 64 }, (_, i) => Buffer.alloc(16 * 1024, i))
      const expectedSum = chunks().reduce((s, c) => c.reduce((t, x) => (t + x) % 65521, s), 0)
      const withLength = yield* up.call(Message.request({
        url: "/",
        method: "PUT",
        body: Message.streamed(Readable.from(chunks()), 1024 * 1024)
      }))
      expect(JSON.parse(yield* text(withLength.body))).toEqual({
        n: 1024 * 1024,
        sum: expectedSum,
        te: null,
        cl: "1048576"
      })
      const chunked = yield* up.call(Message.request({
        url: "/",
        method: "POST",
        body: Message.streamed(Readable.from(chunks()))
      }))
      expect(JSON.parse(yield* text(chunked.body))).toEqual({
        n: 1024 * 1024,
        sum: expectedSum,
        te: "chunked",
        cl: null
      })
      const buffered = yield* up.call(Message.request({ url: "/", method: "POST", body: Message.buffered("abc") }))
      expect(JSON.parse(yield* text(buffered.body))).toEqual({ n: 3, sum: 294, te: null, cl: "3" })
      expect(up.connects()).toBe(1)
    }))

  it.live("a stream body shorter than its length fails the call as a protocol error", () =>
    Effect.gen(function*() {
      const b = yield* textBackend("never")
      const up = yield* Upstream.make(local(b.port))
      const e = yield* failure(up.call(Message.request({
        url: "/",
        method: "POST",
        body: Message.streamed(Readable.from([Buffer.from("abc")]), 10)
      })))
      expect(e.reason).toBe("protocol")
      expect(e.written).toBe(true)
    }))

  it.live("a refused connection fails with reason refused, not written", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(() => freePort())
      const up = yield* Upstream.make(local(port))
      const e = yield* failure(up.call(Message.request({ url: "/" })))
      expect(e.reason).toBe("refused")
      expect(e.written).toBe(false)
      expect(e.retryable).toBe(true)
      expect(up.connections()).toBe(0)
    }))

  it.live("an invalid header fails with a protocol error, not written, without connecting", () =>
    Effect.gen(function*() {
      const b = yield* textBackend("x")
      const up = yield* Upstream.make(local(b.port))
      const e = yield* failure(up.call(Message.request({ url: "/", headers: { "x-bad": "a\r\nx-injected: 1" } })))
      expect(e.reason).toBe("protocol")
      expect(e.written).toBe(false)
      expect(e.detail).toContain("x-bad")
      const t = yield* failure(up.call(Message.request({ url: "/a b" })))
      expect(t.reason).toBe("protocol")
      expect(up.connects()).toBe(0)
    }))

  it.live("a reset in the middle of a response fails the call (buffered) or the body (streamed), written", () =>
    Effect.gen(function*() {
      const s = yield* rawServer((socket, received) => {
        if (!received.endsWith("\r\n\r\n")) return
        const big = received.startsWith("GET /big")
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${big ? 100000 : 1000}\r\n\r\n` + "x".repeat(500))
        setTimeout(() => socket.resetAndDestroy(), 10)
      })
      const up = yield* Upstream.make(local(s.port))
      const e = yield* failure(up.call(Message.request({ url: "/small" })))
      expect(e.written).toBe(true)
      expect(["reset", "closed"]).toContain(e.reason)
      const res = yield* up.call(Message.request({ url: "/big" }))
      expect(res.body._tag).toBe("Stream")
      const err = yield* Effect.flip(Effect.tryPromise(() => bytesOf(res.body)))
      expect(err.cause).toBeInstanceOf(ConnectionFailed)
      yield* until(() => up.connections() === 0)
    }))

  it.live("garbage from the server is a protocol error naming the problem, never a crash", () =>
    Effect.gen(function*() {
      const s = yield* rawServer((socket, received) => {
        if (!received.endsWith("\r\n\r\n")) return
        if (received.startsWith("GET /head")) socket.write("SMTP ready\r\nwhat: ever\r\n\r\n")
        else if (received.startsWith("GET /chunk")) {
          socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n")
        } else socket.write("HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd")
      })
      const up = yield* Upstream.make(local(s.port))
      const head = yield* failure(up.call(Message.request({ url: "/head" })))
      expect([head.reason, head.written]).toEqual(["protocol", true])
      expect(head.detail).toContain("version")
      const length = yield* failure(up.call(Message.request({ url: "/length" })))
      expect(length.reason).toBe("protocol")
      expect(length.detail).toContain("Content-Length")
      const res = yield* up.call(Message.request({ url: "/chunk" }))
      const err = yield* Effect.flip(Effect.tryPromise(() => bytesOf(res.body)))
      expect((err.cause as ConnectionFailed).reason).toBe("protocol")
      expect((err.cause as ConnectionFailed).detail).toContain("chunk size")
      yield* until(() => up.connections() === 0)
    }))

  it.live("ignores up to four empty lines before a status line, after a 100 Continue too, split across reads", () =>
    Effect.gen(function*() {
      const s = yield* rawServer((socket, received) => {
        if (!received.endsWith("\r\n\r\n")) return
        // the connection is reused: the last request is the one to answer
        const last = received.slice(received.lastIndexOf("GET "))
        const url = last.slice(4, last.indexOf(" HTTP/1.1"))
        if (url === "/blank") socket.write("\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        else if (url === "/continue") {
          socket.write("HTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        } else if (url === "/split") {
          socket.write("\r")
          setTimeout(() => socket.write("\n\r\n"), 5)
          setTimeout(() => socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"), 10)
        } else if (url === "/four") socket.write("\r\n".repeat(4) + "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        else if (url === "/five") socket.write("\r\n".repeat(5) + "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        else if (url === "/slow-five") {
          // the bound holds when the empty lines come one read at a time
          for (let i = 0; i < 5; i++) setTimeout(() => socket.write("\r\n"), 5 * i)
          setTimeout(() => socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"), 40)
        } else socket.write("\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
      })
      const up = yield* Upstream.make(local(s.port))
      for (const url of ["/blank", "/continue", "/split", "/four"]) {
        const res = yield* up.call(Message.request({ url }))
        expect([url, res.status, yield* text(res.body)]).toEqual([url, 200, "ok"])
      }
      for (const url of ["/five", "/slow-five", "/bare-lf"]) {
        const e = yield* failure(up.call(Message.request({ url })))
        expect([url, e.reason]).toEqual([url, "protocol"])
        expect(e.detail).toContain("empty lines")
      }
    }))

  it.live("refuses a response with a transfer coding it would drop undecoded (gzip, chunked), or chunked twice", () =>
    Effect.gen(function*() {
      const s = yield* rawServer((socket, received) => {
        if (!received.endsWith("\r\n\r\n")) return
        const te = received.startsWith("GET /gzip") ? "gzip, chunked" : "chunked, chunked"
        socket.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: ${te}\r\n\r\n2\r\nok\r\n0\r\n\r\n`)
      })
      const up = yield* Upstream.make(local(s.port))
      const gzip = yield* failure(up.call(Message.request({ url: "/gzip" })))
      expect([gzip.reason, gzip.detail]).toEqual(["protocol", "unsupported transfer coding \"gzip\""])
      const twice = yield* failure(up.call(Message.request({ url: "/twice" })))
      expect(twice.detail).toContain("more than once")
    }))

  it.live("refuses to send a target with raw non-ASCII bytes", () =>
    Effect.gen(function*() {
      const up = yield* Upstream.make(local(1))
      const e = yield* failure(up.call(Message.request({ url: "/caf\xe9" })))
      expect([e.reason, e.written, e.detail]).toEqual(["protocol", false, "invalid request target"])
    }))

  it.live("does not reuse a connection after Connection: close or an HTTP/1.0 response", () =>
    Effect.gen(function*() {
      const s = yield* rawServer((socket, received) => {
        if (!received.endsWith("\r\n\r\n")) return
        if (received.startsWith("GET /10")) socket.write("HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok")
        else socket.write("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok")
      })
      const up = yield* Upstream.make(local(s.port))
      for (const url of ["/10", "/11", "/10"]) {
        const res = yield* up.call(Message.request({ url }))
        expect(yield* text(res.body)).toBe("ok")
      }
      expect(up.connects()).toBe(3)
      yield* until(() => up.connections() === 0)
    }))

  it.live("closes a connection that has bytes past its response, and one the server answers with 101", () =>
    Effect.gen(function*() {
      const s = yield* rawServer((socket, received) => {
        if (!received.endsWith("\r\n\r\n")) return
        if (received.startsWith("GET /101")) socket.write("HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n")
        else socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
      })
      const up = yield* Upstream.make(local(s.port))
      const res = yield* up.call(Message.request({ url: "/" }))
      expect(yield* text(res.body)).toBe("ok")
      yield* until(() => up.connections() === 0)
      const e = yield* failure(up.call(Message.request({ url: "/101" })))
      expect(e.reason).toBe("protocol")
      expect(up.connects()).toBe(2)
    }))

  it.live("closes idle connections after idleTimeout, or sooner when the server's Keep-Alive hint says so", () =>
    Effect.gen(function*() {
      const s = yield* rawServer((socket, received) => {
        if (!received.endsWith("\r\n\r\n")) return
        if (received.startsWith("GET /hint")) {
          socket.write("HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 2\r\n\r\nok")
        } else socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
      })
      const short = yield* Upstream.make(local(s.port), { idleTimeout: "20 millis" })
      yield* short.call(Message.request({ url: "/" }))
      yield* until(() => short.connections() === 0)
      const hinted = yield* Upstream.make(local(s.port))
      yield* hinted.call(Message.request({ url: "/hint" }))
      yield* until(() => hinted.connections() === 0)
      const res = yield* hinted.call(Message.request({ url: "/" }))
      expect(yield* text(res.body)).toBe("ok")
      expect(hinted.connects()).toBe(2)
    }))

  it.live("drops an idle connection the server closed; the next call connects afresh", () =>
    Effect.gen(function*() {
      const b = yield* backend((req, res) => {
        req.resume()
        res.end("ok", () => setTimeout(() => req.socket.destroy(), 5))
      })
      const up = yield* Upstream.make(local(b.port))
      yield* up.call(Message.request({ url: "/" }))
      yield* until(() => up.connections() === 0)
      const res = yield* up.call(Message.request({ url: "/" }))
      expect(yield* text(res.body)).toBe("ok")
      expect(up.connects()).toBe(2)
    }))

  it.live("retries once on a fresh connection an idempotent request the server dropped on a reused one", () =>
    Effect.gen(function*() {
      const s = yield* rawServer((socket, received) => {
        if (!received.endsWith("\r\n\r\n") && !received.endsWith("body")) return
        if (requests(received) === 1) socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        else socket.destroy()
      })
      const up = yield* Upstream.make(local(s.port))
      yield* up.call(Message.request({ url: "/" }))
      const res = yield* up.call(Message.request({ url: "/" }))
      expect(yield* text(res.body)).toBe("ok")
      expect(up.connects()).toBe(2)
      const post = yield* failure(
        up.call(Message.request({ url: "/", method: "POST", body: Message.buffered("body") }))
      )
      expect(post.written).toBe(true)
      expect(up.connects()).toBe(2)
    }))

  it.live("returns a response that arrives before the request body is sent, and closes that connection", () =>
    Effect.gen(function*() {
      const b = yield* backend((req, res) => {
        if (req.url === "/upload") res.writeHead(413, { "content-length": "8" }).end("too big!")
        else {
          req.resume()
          res.end("fine")
        }
      })
      const up = yield* Upstream.make(local(b.port))
      let pulled = 0
      const upload = new Readable({
        read() {
          if (pulled >= 64 * 1024 * 1024) this.push(null)
          else {
            pulled += 64 * 1024
            setTimeout(() => this.push(Buffer.alloc(64 * 1024)), 1)
          }
        }
      })
      const res = yield* up.call(Message.request({ url: "/upload", method: "POST", body: Message.streamed(upload) }))
      expect(res.status).toBe(413)
      expect(yield* text(res.body)).toBe("too big!")
      upload.destroy()
      yield* until(() => up.connections() === 0)
      const next = yield* up.call(Message.request({ url: "/" }))
      expect(yield* text(next.body)).toBe("fine")
      expect(up.connects()).toBe(2)
    }))

  it.live("interrupting a waiting call removes it from the queue", () =>
    Effect.gen(function*() {
      const held: Array<http.ServerResponse> = []
      const b = yield* backend((req, res) => {
        req.resume()
        held.push(res)
      })
      const up = yield* Upstream.make(local(b.port), { maxConnections: 1 })
      const first = yield* Effect.forkChild(up.call(Message.request({ url: "/first" })))
      yield* until(() => held.length === 1)
      const waiting = yield* Effect.forkChild(up.call(Message.request({ url: "/waiting" })))
      yield* Effect.sleep(10)
      yield* Fiber.interrupt(waiting)
      held.pop()!.end("one")
      expect(yield* text((yield* Fiber.join(first)).body)).toBe("one")
      const third = yield* Effect.forkChild(up.call(Message.request({ url: "/third" })))
      yield* until(() => held.length === 1)
      held.pop()!.end("three")
      expect(yield* text((yield* Fiber.join(third)).body)).toBe("three")
      expect(b.seen.map((r) => r.url)).toEqual(["/first", "/third"])
      expect(up.connects()).toBe(1)
    }))

  it.live("interrupting a call in flight destroys its connection", () =>
    Effect.gen(function*() {
      let closed = 0
      const b = yield* backend((req) => {
        req.resume()
        req.socket.on("close", () => closed++)
      })
      const up = yield* Upstream.make(local(b.port))
      const fiber = yield* Effect.forkChild(up.call(Message.request({ url: "/" })))
      yield* until(() => b.seen.length === 1)
      yield* Fiber.interrupt(fiber)
      yield* until(() => closed === 1 && up.connections() === 0)
    }))

  it.live("destroying a streamed response body before its end destroys the connection", () =>
    Effect.gen(function*() {
      let closed = 0
      const b = yield* backend((req, res) => {
        req.resume()
        req.socket.on("close", () => closed++)
        res.write("part")
      })
      const up = yield* Upstream.make(local(b.port))
      const res = yield* up.call(Message.request({ url: "/" }))
      expect(res.body._tag).toBe("Stream")
      if (res.body._tag === "Stream") res.body.stream.destroy()
      yield* until(() => closed === 1 && up.connections() === 0)
    }))

  it.live("closing the scope destroys connections and fails calls in flight, waiting and new", () =>
    Effect.gen(function*() {
      const b = yield* backend((req) => {
        req.resume()
      })
      const scope = yield* Scope.make()
      const up = yield* Upstream.make(local(b.port), { maxConnections: 1 }).pipe(Scope.provide(scope))
      expect(up.status).toBe("Open")
      const inFlight = yield* Effect.forkChild(Effect.flip(up.call(Message.request({ url: "/" }))))
      yield* until(() => b.seen.length === 1)
      const waiting = yield* Effect.forkChild(Effect.flip(up.call(Message.request({ url: "/" }))))
      yield* Effect.sleep(10)
      yield* Scope.close(scope, Exit.void)
      expect(up.status).toBe("Closed")
      const a = yield* Fiber.join(inFlight)
      expect([a.reason, a.written]).toEqual(["closed", true])
      const w = yield* Fiber.join(waiting)
      expect([w.reason, w.written]).toEqual(["closed", false])
      const n = yield* failure(up.call(Message.request({ url: "/" })))
      expect([n.reason, n.written]).toEqual(["closed", false])
      expect(up.connections()).toBe(0)
    }))

  it.live("closing the scope lets a response whose body is still arriving finish, then closes its connection", () =>
    Effect.gen(function*() {
      let upstream: net.Socket | undefined
      const s = yield* rawServer((socket, received) => {
        if (!received.endsWith("\r\n\r\n")) return
        upstream = socket
        socket.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n7\r\nvia dns\r\n")
      })
      const scope = yield* Scope.make()
      const up = yield* Upstream.make(local(s.port)).pipe(Scope.provide(scope))
      const res = yield* up.call(Message.request({ url: "/" }))
      expect(res.body._tag).toBe("Stream")
      // as when an endpoint that has answered leaves its balancer: closed with the body under way
      yield* Scope.close(scope, Exit.void)
      expect(up.status).toBe("Closed")
      expect(up.connections()).toBe(1)
      upstream!.write("6\r\n, more\r\n0\r\n\r\n")
      expect(yield* text(res.body)).toBe("via dns, more")
      yield* until(() => up.connections() === 0)
      const n = yield* failure(up.call(Message.request({ url: "/" })))
      expect([n.reason, n.written]).toEqual(["closed", false])
    }))

  it.live("an upgrade answered 101 hands the connection over, out of the pool, with the bytes after the head", () =>
    Effect.gen(function*() {
      const s = yield* rawServer((socket, received) => {
        if (!received.endsWith("\r\n\r\n")) return
        if (received.includes("GET /up")) {
          const asked = /\r\nconnection: upgrade\r\nupgrade: chat\/2\r\n/.test(received)
          socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: chat/2\r\nx-asked: ${asked}\r\n\r\nhello`)
        } else socket.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
      })
      const up = yield* Upstream.make(local(s.port))
      // a pooled connection first: the upgrade may reuse it, but it does not come back
      expect(yield* text((yield* up.call(Message.request({ url: "/" }))).body)).toBe("ok")
      const res = yield* up.call({ ...Message.request({ url: "/up" }), upgrade: "chat/2" })
      expect(res.status).toBe(101)
      expect(res.headers["x-asked"]).toBe("true")
      const tunnel = res.tunnel!
      expect(tunnel.protocol).toBe("chat/2")
      expect(tunnel.head?.toString()).toBe("hello")
      expect(up.connections()).toBe(0)
      const more = yield* Effect.promise(() =>
        new Promise<string>((resolve) => {
          tunnel.socket.once("data", (d: Buffer) => resolve(d.toString()))
          tunnel.socket.resume()
          tunnel.socket.write("ping")
          for (const peer of s.sockets) peer.write("raw")
        })
      )
      expect(more).toBe("raw")
      tunnel.socket.destroy()
      // the next request needs a new connection
      expect(yield* text((yield* up.call(Message.request({ url: "/" }))).body)).toBe("ok")
      expect(up.connects()).toBe(2)
    }))

  it.live("a CONNECT opens a plain connection answered 200 with it; one that cannot be made is not written", () =>
    Effect.gen(function*() {
      const s = yield* rawServer((socket, received) => socket.write(received.toUpperCase()))
      const up = yield* Upstream.make(local(s.port))
      const res = yield* up.call(Message.request({ method: "CONNECT", url: `127.0.0.1:${s.port}` }))
      expect(res.status).toBe(200)
      const echoed = yield* Effect.promise(() =>
        new Promise<string>((resolve) => {
          res.tunnel!.socket.once("data", (d: Buffer) => resolve(d.toString()))
          res.tunnel!.socket.resume()
          res.tunnel!.socket.write("abc")
        })
      )
      expect(echoed).toBe("ABC")
      res.tunnel!.socket.destroy()
      const closed = yield* Effect.promise(freePort)
      const down = yield* Upstream.make(local(closed))
      const e = yield* failure(down.call(Message.request({ method: "CONNECT", url: `127.0.0.1:${closed}` })))
      expect([e.reason, e.written]).toEqual(["refused", false])
    }))
})
