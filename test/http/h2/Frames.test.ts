import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as http2 from "node:http2"
import type * as net from "node:net"
import * as Frames from "../../../src/http/h2/Frames.js"
import type { Body } from "../../../src/http/transport/Message.js"

interface Block {
  readonly block: http2.IncomingHttpHeaders
  readonly raw: Array<string>
}

/**
 * One request with `request` as its raw header list through a real node:http2 server on loopback,
 * answered with `response` and `trailers`: the header blocks (node's object and raw list) as each
 * side received them.
 */
const exchange = (request: Array<string>, response: Array<string>, trailers: http2.OutgoingHttpHeaders) =>
  Effect.promise(() =>
    new Promise<{ served: Block; answered: Block; trailed: Block }>((resolve, reject) => {
      let served: Block | undefined
      const server = http2.createServer()
      server.on("stream", (stream, block, _flags, raw) => {
        served = { block, raw }
        stream.on("error", () => {})
        stream.respond(response, { waitForTrailers: true })
        stream.on("wantTrailers", () => stream.sendTrailers(trailers))
        stream.end("ok")
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as net.AddressInfo).port
        const session = http2.connect(`http://127.0.0.1:${port}`)
        session.on("error", reject)
        const stream = session.request(request, { endStream: true })
        let answered: Block | undefined
        stream.on("response", (block, _flags, raw) => {
          answered = { block, raw }
        })
        stream.on("trailers", (block, _flags, raw) => {
          const trailed = { block, raw }
          stream.on("close", () => {
            session.close()
            server.close()
            resolve({ served: served!, answered: answered!, trailed })
          })
        })
        stream.resume()
      })
    })
  )

/**
 * The reference conversion `fromRaw` must agree with: weir's headers read off node's header object
 * (pseudo-headers out but `:authority` when `keepAuthority`, connection-specific fields out, `te`
 * only as `trailers`, repeated fields as node combines them).
 */
const fromNode = (block: http2.IncomingHttpHeaders, keepAuthority = false): Record<string, unknown> => {
  const dropped = new Set([
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "host",
    "http2-settings"
  ])
  const out: Record<string, unknown> = {}
  for (const name in block) {
    const v = block[name]
    if (v === undefined) continue
    if (name.startsWith(":")) {
      if (keepAuthority && name === ":authority") out[name] = String(v)
      continue
    }
    if (dropped.has(name)) continue
    if (name === "te") {
      if (String(v).toLowerCase() === "trailers") out[name] = "trailers"
      continue
    }
    out[name] = Array.isArray(v) ? v.slice() : String(v)
  }
  return out
}

/** Entries in order: `fromRaw` must give the same fields as `fromNode`, in the same order. */
const entries = (h: Record<string, unknown>) => Object.entries(h)

/**
 * A response of `size` bytes (written with its headers, as one socket write) and `trailers`, read
 * early by the client with `limit`: what `readEarly` settled on, with the body's bytes and the
 * trailers once the body was read.
 */
const readResponse = (size: number, trailers: http2.OutgoingHttpHeaders | undefined, limit: number) =>
  Effect.promise(() =>
    new Promise<{ tag: Body["_tag"]; bytes: number; early: unknown; trailers: unknown }>((resolve, reject) => {
      const server = http2.createServer()
      server.on("stream", (stream) => {
        stream.on("error", () => {})
        stream.respond({ ":status": 200 }, { waitForTrailers: trailers !== undefined })
        if (trailers !== undefined) stream.on("wantTrailers", () => stream.sendTrailers(trailers))
        stream.end(Buffer.alloc(size, 120))
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as net.AddressInfo).port
        const session = http2.connect(`http://127.0.0.1:${port}`)
        session.on("error", reject)
        const stream = session.request({ ":path": "/" }, { endStream: true })
        stream.on("response", () =>
          Frames.readEarly(stream, stream.endAfterHeaders, limit, (read) => {
            if (read === "reset") return reject(new Error("reset"))
            const early = read.trailers.current()
            const finish = (bytes: number) =>
              Promise.resolve(read.trailers.settled).then((t) => {
                session.close()
                server.close()
                resolve({ tag: read.body._tag, bytes, early, trailers: t })
              })
            const body = read.body
            if (body._tag === "Stream") {
              // a streamed body is left paused for its reader (weir pipes it on)
              body.stream.resume()
              let n = 0
              body.stream.on("data", (c: Buffer) => n += c.length)
              body.stream.on("end", () => finish(n))
            } else finish(body._tag === "Buffered" ? body.data.length : 0)
          }))
      })
    })
  )

describe("h2 Frames", () => {
  it.live("readEarly takes a body that came whole within the limit as it is", () =>
    Effect.gen(function*() {
      const r = yield* readResponse(1000, undefined, 16 * 1024)
      expect(r).toEqual({ tag: "Buffered", bytes: 1000, early: undefined, trailers: undefined })
    }))

  it.live("readEarly streams a body over the limit, every byte kept", () =>
    Effect.gen(function*() {
      const r = yield* readResponse(1000, undefined, 100)
      expect(r).toEqual({ tag: "Stream", bytes: 1000, early: undefined, trailers: undefined })
    }))

  it.live("readEarly gets the trailers after a body, and after none (a body without bytes ends at once)", () =>
    Effect.gen(function*() {
      // node's server sends trailers in a later write than the data: whole or streamed, they arrive
      const r = yield* readResponse(1000, { "grpc-status": "0" }, 16 * 1024)
      expect([r.bytes, r.trailers]).toEqual([1000, { "grpc-status": "0" }])
      const none = yield* readResponse(0, { "grpc-status": "14" }, 16 * 1024)
      expect([none.bytes, none.trailers]).toEqual([0, { "grpc-status": "14" }])
    }))

  it.live("fromRaw builds the same headers as fromNode, repeated fields included", () =>
    Effect.gen(function*() {
      const { answered, served, trailed } = yield* exchange(
        [
          ":method",
          "GET",
          ":path",
          "/x",
          ":scheme",
          "http",
          ":authority",
          "web",
          "cookie",
          "a=1",
          "x-twice",
          "one",
          "te",
          "trailers",
          "content-type",
          "text/plain",
          "cookie",
          "b=2",
          "x-twice",
          "two",
          "te",
          "trailers",
          "constructor",
          "c",
          "host",
          "example"
        ],
        [":status", "200", "set-cookie", "s=1", "x-one", "1", "set-cookie", "s=2", "x-one", "2"],
        { "grpc-status": "0", "x-t": "t" }
      )
      const request = Frames.fromRaw(served.raw, served.block, true)
      expect(entries(request)).toEqual(entries(fromNode(served.block, true)))
      expect(request).toMatchObject({
        ":authority": "web",
        cookie: "a=1; b=2",
        "x-twice": "one, two",
        "content-type": "text/plain",
        constructor: "c"
      })
      // node joins a repeated te ("trailers, trailers"), which is not `trailers` alone; host is
      // connection-specific in HTTP/2
      expect("te" in request).toBe(false)
      expect("host" in request).toBe(false)
      expect(entries(Frames.fromRaw(served.raw, served.block))).toEqual(entries(fromNode(served.block)))

      const response = Frames.fromRaw(answered.raw, answered.block)
      expect(entries(response)).toEqual(entries(fromNode(answered.block)))
      expect(response["set-cookie"]).toEqual(["s=1", "s=2"])
      expect(response["x-one"]).toBe("1, 2")
      expect(":status" in response).toBe(false)

      expect(entries(Frames.fromRaw(trailed.raw, trailed.block))).toEqual(entries(fromNode(trailed.block)))
    }))

  it.live("fromRaw keeps te as trailers, a lone set-cookie as an array", () =>
    Effect.gen(function*() {
      const { answered, served } = yield* exchange(
        [":method", "POST", ":path", "/", ":scheme", "http", ":authority", "a", "te", "trailers"],
        [":status", "200", "set-cookie", "only=1"],
        { "x-t": "t" }
      )
      expect(Frames.fromRaw(served.raw, served.block)).toEqual({ te: "trailers" })
      expect(Frames.fromRaw(answered.raw, answered.block)["set-cookie"]).toEqual(["only=1"])
    }))

  it("rawListBytes counts name, value and 32 per field", () => {
    expect(Frames.rawListBytes([])).toBe(0)
    expect(Frames.rawListBytes([":path", "/", "cookie", "a=1", "cookie", "b=2"])).toBe(
      5 + 1 + 32 + (6 + 3 + 32) * 2
    )
  })
})
