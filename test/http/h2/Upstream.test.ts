import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as http2 from "node:http2"
import * as net from "node:net"
import * as Address from "../../../src/Address.js"
import * as H2Upstream from "../../../src/http/h2/Upstream.js"
import { request } from "../../../src/http/transport/Message.js"
import { waitFor } from "../../support/poll.js"

/** An h2 server whose answers wait for `release()`, and that allows `maxStreams` streams per connection. */
const server = (maxStreams: number) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ port: number; waiting: Array<() => void>; server: http2.Http2Server }>((resolve) => {
        const s = http2.createServer({ settings: { maxConcurrentStreams: maxStreams } })
        const waiting: Array<() => void> = []
        s.on("stream", (stream) => {
          stream.on("error", () => {})
          waiting.push(() => {
            stream.respond({ ":status": 200 })
            stream.end("ok")
          })
        })
        s.listen(0, "127.0.0.1", () => resolve({ port: (s.address() as net.AddressInfo).port, waiting, server: s }))
      })
    ),
    (s) => Effect.promise(() => new Promise<void>((done) => s.server.close(() => done())))
  )

const freePort = Effect.promise(() =>
  new Promise<number>((resolve) => {
    const s = net.createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
)

describe("h2 Upstream", () => {
  it.live("closing the scope lets a response whose body is still arriving finish; no new stream starts", () =>
    Effect.gen(function*() {
      const ends: Array<() => void> = []
      const s = yield* Effect.acquireRelease(
        Effect.promise(() =>
          new Promise<{ port: number; server: http2.Http2Server }>((resolve) => {
            const server = http2.createServer()
            server.on("stream", (stream) => {
              stream.on("error", () => {})
              stream.respond({ ":status": 200 })
              // more than the upstream buffers before answering: the response comes with its body streaming
              stream.write("x".repeat(64 * 1024))
              ends.push(() => stream.end(", more"))
            })
            server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as net.AddressInfo).port, server }))
          })
        ),
        (s) => Effect.promise(() => new Promise<void>((done) => s.server.close(() => done())))
      )
      const scope = yield* Scope.make()
      const up = yield* H2Upstream.make(Address.make("127.0.0.1", s.port)).pipe(Scope.provide(scope))
      const res = yield* up.call(request({ url: "/" }))
      expect(res.body._tag).toBe("Stream")
      yield* Scope.close(scope, Exit.void)
      const failed = yield* Effect.flip(up.call(request({ url: "/" })))
      expect(failed.written).toBe(false)
      ends.shift()!()
      const chunks: Array<Buffer> = []
      if (res.body._tag === "Stream") {
        const stream = res.body.stream
        yield* Effect.promise(() =>
          new Promise<void>((done, fail) => {
            stream.on("data", (c: Buffer) => chunks.push(Buffer.from(c)))
            stream.on("end", done)
            stream.on("error", fail)
            stream.on("close", () => fail(new Error("the body closed before its end")))
            stream.resume()
          })
        )
      }
      expect(Buffer.concat(chunks).toString()).toBe("x".repeat(64 * 1024) + ", more")
    }))

  it.live("multiplexes streams on one connection, opening more only past the peer's stream limit", () =>
    Effect.gen(function*() {
      const s = yield* server(4)
      const up = yield* H2Upstream.make(Address.make("127.0.0.1", s.port), { maxConnections: 3 })
      // one first call establishes the connection and learns the peer's settings
      const first = yield* Effect.forkChild(up.call(request({ url: "/" })))
      yield* waitFor(() => s.waiting.length === 1, "the first stream")
      s.waiting.shift()!()
      expect((yield* Fiber.join(first)).status).toBe(200)
      expect(up.connections()).toBe(1)
      const calls = yield* Effect.forkChild(
        Effect.all(Array.from({ length: 10 }, () => up.call(request({ url: "/" }))), { concurrency: "unbounded" })
      )
      yield* waitFor(() => s.waiting.length === 10, "ten streams at the server")
      expect(up.streams()).toBe(10)
      expect(up.connections()).toBe(3)
      while (s.waiting.length > 0) s.waiting.shift()!()
      const replies = yield* Fiber.join(calls)
      expect(replies.every((r) => r.status === 200)).toBe(true)
      yield* waitFor(() => up.streams() === 0, "every stream closed")
    }))

  it.live("a refused connection fails with ConnectionFailed, not written (requeueable)", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const up = yield* H2Upstream.make(Address.make("127.0.0.1", port))
      const exit = yield* Effect.exit(up.call(request({ url: "/" })))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        const e = exit.cause.reasons.find((r) => r._tag === "Fail") as { error: { _tag: string; written: boolean } }
        expect(e.error._tag).toBe("ConnectionFailed")
        expect(e.error.written).toBe(false)
      }
    }))
})
