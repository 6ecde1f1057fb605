import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as http2 from "node:http2"
import * as Errors from "../../src/http/Errors.js"
import * as Router from "../../src/http/Router.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Stats from "../../src/Stats.js"
import { rawBackend, rawCall } from "../h2/support.js"
import { waitFor } from "../support/poll.js"

const h2Router = (backendPort: number, server: Router.ServerConfig = {}) =>
  Effect.gen(function*() {
    const interpreter = yield* Interpreter.make()
    const router = yield* Router.make({
      label: "h2",
      protocol: "h2",
      servers: [{ port: 0, ...server }],
      dtab: Dtab.parseUnsafe(`/svc/app => /$/inet/127.0.0.1/${backendPort}`),
      interpreter
    })
    return router.servers[0]!.port
  })

interface Outcome {
  readonly status: number | undefined
  readonly rstCode: number
  readonly body: string
}

/** Opens every stream at once on one connection (before the server's SETTINGS can arrive). */
const burst = (port: number, blocks: ReadonlyArray<http2.OutgoingHttpHeaders>) =>
  Effect.promise(() => {
    const session = http2.connect(`http://127.0.0.1:${port}`)
    session.on("error", () => {})
    return Promise.all(blocks.map((h) =>
      new Promise<Outcome>((resolve) => {
        const s = session.request({ ":path": "/", ":authority": "app", ...h }, { endStream: true })
        let status: number | undefined
        const chunks: Array<Buffer> = []
        s.on("response", (r) => {
          status = Number(r[":status"])
        })
        s.on("data", (c: Buffer) => chunks.push(c))
        s.on("error", () => {})
        s.on("close", () => resolve({ status, rstCode: s.rstCode ?? 0, body: Buffer.concat(chunks).toString() }))
      })
    )).finally(() => session.close())
  })

describe("h2 router limits and resets (node:http2 peers)", () => {
  it.live("streams over maxConcurrentStreamsPerConnection are refused; the others are served", () =>
    Effect.gen(function*() {
      const backend = yield* rawBackend((stream) => {
        setTimeout(() => {
          if (stream.destroyed) return
          stream.respond({ ":status": 200 })
          stream.end("ok")
        }, 50)
      })
      const port = yield* h2Router(backend.port, { maxConcurrentStreamsPerConnection: 5 })
      const outcomes = yield* burst(port, Array.from({ length: 20 }, () => ({})))
      const served = outcomes.filter((o) => o.status === 200)
      const refused = outcomes.filter((o) => o.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM)
      expect(served.length).toBe(5)
      expect(served.every((o) => o.body === "ok")).toBe(true)
      expect(refused.length).toBe(15)
      expect(backend.seen.length).toBe(5)
    }))

  it.live("a header list over maxHeaderListBytes gets 431 with l5d-err; other streams are unaffected", () =>
    Effect.gen(function*() {
      const backend = yield* rawBackend((stream) => {
        stream.respond({ ":status": 200 })
        stream.end("ok")
      })
      const port = yield* h2Router(backend.port, { maxHeaderListBytes: 4096 })
      const outcomes = yield* burst(port, [{}, { "x-big": "a".repeat(8000) }, {}])
      expect(outcomes.map((o) => o.status)).toEqual([200, 431, 200])
      expect(outcomes[0]!.body).toBe("ok")
      expect(outcomes[2]!.body).toBe("ok")
      expect(backend.seen.length).toBe(2)
      const grpc = yield* rawCall(port, {
        ":method": "POST",
        ":path": "/x.Y/Z",
        ":authority": "app",
        "content-type": "application/grpc",
        "x-big": "a".repeat(8000)
      })
      expect(grpc.headers[":status"]).toBe(200)
      expect(grpc.headers["grpc-status"]).toBe("8")
      expect(Errors.decodeErr(String(grpc.headers["l5d-err"]))).toContain("maxHeaderListBytes")
    }))

  it.live("an upstream that dies after the headers resets the client's stream instead of ending it cleanly", () =>
    Effect.gen(function*() {
      const backend = yield* rawBackend((stream) => {
        stream.respond({ ":status": 200 })
        stream.write("partial")
        setTimeout(() => stream.session?.destroy(), 20)
      })
      const port = yield* h2Router(backend.port)
      const r = yield* rawCall(port, { ":path": "/", ":authority": "app" })
      expect(r.headers[":status"]).toBe(200)
      expect(r.body.toString()).toBe("partial")
      expect(r.rstCode).not.toBe(0)
    }))

  it.live("a slow reader holds the upstream back by flow control instead of making the proxy buffer", () =>
    Effect.gen(function*() {
      const total = 64 * 1024 * 1024
      const chunk = Buffer.alloc(16 * 1024, 7)
      let written = 0
      const backend = yield* rawBackend((stream) => {
        stream.respond({ ":status": 200 })
        const pump = () => {
          while (written < total) {
            written += chunk.length
            if (!stream.write(chunk)) return stream.once("drain", pump)
          }
          stream.end()
        }
        pump()
      })
      const port = yield* h2Router(backend.port)
      const session = http2.connect(`http://127.0.0.1:${port}`)
      session.on("error", () => {})
      const stream = session.request({ ":path": "/", ":authority": "app" }, { endStream: true })
      stream.pause()
      // the backend stops once the windows between it, the proxy and the paused client are full
      let last = -1
      yield* waitFor(() => {
        const settled = written > 0 && written === last
        last = written
        return settled
      }, "the backend to be held back")
      expect(written).toBeLessThan(4 * 1024 * 1024)
      // reading again lets everything through
      const received = yield* Effect.promise(() =>
        new Promise<number>((resolve) => {
          let n = 0
          stream.on("data", (c: Buffer) => {
            n += c.length
          })
          stream.on("end", () => resolve(n))
          stream.resume()
        })
      )
      session.close()
      expect(received).toBe(total)
    }))

  it.live("a drain sends GOAWAY, lets the stream in flight finish, and takes no new connection", () =>
    Effect.gen(function*() {
      const backend = yield* rawBackend((stream) => {
        setTimeout(() => {
          if (stream.destroyed) return
          stream.respond({ ":status": 200 })
          stream.end("late")
        }, 200)
      })
      const interpreter = yield* Interpreter.make()
      const router = yield* Router.make({
        label: "h2",
        protocol: "h2",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(`/svc/app => /$/inet/127.0.0.1/${backend.port}`),
        interpreter
      })
      const port = router.servers[0]!.port
      const session = http2.connect(`http://127.0.0.1:${port}`)
      session.on("error", () => {})
      let goaway = false
      session.on("goaway", () => {
        goaway = true
      })
      const inFlight = Effect.promise(() =>
        new Promise<string>((resolve) => {
          const s = session.request({ ":path": "/", ":authority": "app" }, { endStream: true })
          const chunks: Array<Buffer> = []
          s.on("data", (c: Buffer) => chunks.push(c))
          s.on("error", () => {})
          s.on("close", () => resolve(Buffer.concat(chunks).toString()))
        })
      )
      const [body] = yield* Effect.all([
        inFlight,
        Effect.andThen(
          waitFor(() => backend.seen.length === 1, "the stream to reach the backend"),
          router.drain("5 seconds")
        )
      ], { concurrency: "unbounded" })
      expect(body).toBe("late")
      expect(goaway).toBe(true)
      session.destroy()
      const refused = yield* Effect.promise(() =>
        new Promise<boolean>((resolve) => {
          const c = http2.connect(`http://127.0.0.1:${port}`)
          c.on("error", () => resolve(true))
          c.on("connect", () => {
            c.destroy()
            resolve(false)
          })
        })
      )
      expect(refused).toBe(true)
    }))

  it.live("an upstream's GOAWAY moves new streams to a fresh connection, the stream in flight finishes", () =>
    Effect.gen(function*() {
      const backend = yield* rawBackend((stream, headers) => {
        stream.respond({ ":status": 200 })
        if (headers[":path"] === "/first") {
          // a graceful close of the connection: GOAWAY, then this stream's answer
          stream.session?.close()
          setTimeout(() => stream.end("first"), 50)
        } else stream.end("next")
      })
      const interpreter = yield* Interpreter.make()
      const stats = Stats.makeInMemory()
      const router = yield* Router.make({
        label: "h2",
        protocol: "h2",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(`/svc/app => /$/inet/127.0.0.1/${backend.port}`),
        interpreter,
        stats
      })
      const port = router.servers[0]!.port
      const first = yield* rawCall(port, { ":path": "/first", ":authority": "app" })
      expect(first.body.toString()).toBe("first")
      const next = yield* rawCall(port, { ":path": "/next", ":authority": "app" })
      expect(next.body.toString()).toBe("next")
      expect(next.headers[":status"]).toBe(200)
      expect(stats.gaugeValues().get(`rt/h2/client/$/inet/127.0.0.1/${backend.port}/connects`)).toBe(2)
    }))

  it.live("request trailers reach the backend, after a body read whole or streamed", () =>
    Effect.gen(function*() {
      const got: Array<{ body: string; trailers: http2.IncomingHttpHeaders | undefined }> = []
      const backend = yield* rawBackend((stream) => {
        const chunks: Array<Buffer> = []
        let trailers: http2.IncomingHttpHeaders | undefined
        stream.on("trailers", (t) => {
          trailers = t
        })
        stream.on("data", (c: Buffer) => chunks.push(c))
        stream.on("end", () => {
          got.push({ body: Buffer.concat(chunks).toString(), trailers })
          stream.respond({ ":status": 200 })
          stream.end()
        })
      })
      const port = yield* h2Router(backend.port)
      const send = (body: Buffer, slow: boolean) =>
        Effect.promise(() =>
          new Promise<void>((resolve) => {
            const session = http2.connect(`http://127.0.0.1:${port}`)
            session.on("error", () => {})
            const s = session.request({ ":method": "POST", ":path": "/", ":authority": "app" }, {
              waitForTrailers: true
            })
            s.on("wantTrailers", () => s.sendTrailers({ "x-sum": String(body.length) }))
            s.on("error", () => {})
            s.resume()
            s.on("close", () => {
              session.close()
              resolve()
            })
            if (slow) {
              s.write(body.subarray(0, 10))
              setTimeout(() => s.end(body.subarray(10)), 30)
            } else s.end(body)
          })
        )
      yield* send(Buffer.from("small body"), false)
      yield* send(Buffer.alloc(100_000, 97), true)
      expect(got.map((g) => [g.body.length, g.trailers?.["x-sum"]])).toEqual([[10, "10"], [100_000, "100000"]])
    }))
})
