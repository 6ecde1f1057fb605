import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import * as net from "node:net"
import { Readable } from "node:stream"
import type { HttpRequest, HttpResponse } from "../../../src/http/transport/Message.js"
import * as Message from "../../../src/http/transport/Message.js"
import * as Server from "../../../src/http/transport/Server.js"

// ---------------------------------------------------------------------------------------------------------------------
// helpers: a raw client whose bytes we control, a small independent response parser, polling
// ---------------------------------------------------------------------------------------------------------------------

/** Polls `pred` every few milliseconds; fails the test (naming `what`) if it does not hold within 5 s. */
const until = (what: string, pred: () => boolean): Effect.Effect<void> =>
  Effect.promise(async () => {
    const deadline = Date.now() + 5000
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 5))
    }
  })

/** Waits until `value()` has not changed for a few consecutive polls (a transfer that stopped moving). */
const settled = (value: () => number): Effect.Effect<void> =>
  Effect.promise(async () => {
    let last = -1
    let same = 0
    for (let i = 0; i < 400 && same < 8; i++) {
      await new Promise((r) => setTimeout(r, 25))
      const v = value()
      same = v === last ? same + 1 : 0
      last = v
    }
  })

interface Res {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/**
 * Splits the bytes a client received into responses (content-length, chunked, or close-delimited
 * when `closed`); `head` means every response has no body. Incomplete trailing bytes are left out.
 */
const parseResponses = (text: string, options: { head?: boolean; closed?: boolean } = {}): Array<Res> => {
  const out: Array<Res> = []
  let i = 0
  for (;;) {
    const end = text.indexOf("\r\n\r\n", i)
    if (end < 0) return out
    const lines = text.slice(i, end).split("\r\n")
    const status = Number(lines[0]!.split(" ")[1])
    const headers: Record<string, string> = {}
    for (const line of lines.slice(1)) {
      const c = line.indexOf(":")
      const name = line.slice(0, c).toLowerCase()
      const value = line.slice(c + 1).trim()
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
    }
    let p = end + 4
    let body = ""
    if (status < 200 || status === 204 || status === 304 || options.head === true) {
      // no body
    } else if (headers["transfer-encoding"] === "chunked") {
      for (;;) {
        const le = text.indexOf("\r\n", p)
        if (le < 0) return out
        const size = parseInt(text.slice(p, le), 16)
        if (size === 0) {
          if (text.length < le + 4) return out
          expect(text.slice(le + 2, le + 4)).toBe("\r\n")
          p = le + 4
          break
        }
        if (text.length < le + 2 + size + 2) return out
        body += text.slice(le + 2, le + 2 + size)
        expect(text.slice(le + 2 + size, le + 4 + size)).toBe("\r\n")
        p = le + 4 + size
      }
    } else if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"])
      if (text.length < p + n) return out
      body = text.slice(p, p + n)
      p += n
    } else {
      if (options.closed !== true) return out
      body = text.slice(p)
      p = text.length
    }
    out.push({ status, headers, body })
    i = p
  }
}

class Client {
  readonly socket: net.Socket
  chunks: Array<Buffer> = []
  bytes = 0
  closed = false
  ended = false
  error: Error | undefined = undefined

  constructor(port: number, allowHalfOpen: boolean) {
    this.socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen, noDelay: true })
    this.socket.on("data", (d: Buffer) => {
      this.chunks.push(d)
      this.bytes += d.length
    })
    this.socket.on("end", () => (this.ended = true))
    this.socket.on("close", () => (this.closed = true))
    this.socket.on("error", (e) => (this.error = e))
  }

  get text(): string {
    return Buffer.concat(this.chunks).toString("latin1")
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data)
  }

  /** Writes `data` in pieces of `size` bytes, each in its own write after a turn of the event loop. */
  dribble(data: string, size: number): Effect.Effect<void> {
    return Effect.promise(async () => {
      for (let i = 0; i < data.length; i += size) {
        this.write(data.slice(i, i + size))
        await new Promise((r) => setTimeout(r, 1))
      }
    })
  }

  responses(n: number, options: { head?: boolean } = {}): Effect.Effect<Array<Res>> {
    return Effect.map(
      until(
        `${n} response(s); got ${JSON.stringify(this.text.slice(0, 300))}`,
        () => parseResponses(this.text, { ...options, closed: this.closed }).length >= n
      ),
      () => parseResponses(this.text, { ...options, closed: this.closed })
    )
  }

  waitClosed(): Effect.Effect<void> {
    return until("the connection to close", () => this.closed)
  }
}

const connect = (port: number, allowHalfOpen = false): Effect.Effect<Client, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => new Client(port, allowHalfOpen)),
    // a reset, so that the connection is gone at once
    (c) => Effect.sync(() => c.socket.destroyed ? undefined : c.socket.resetAndDestroy())
  )

const serve = (
  handler: Server.Handler<never>,
  options: Server.Options = {}
): Effect.Effect<Server.Server, Server.ListenError, Scope.Scope> =>
  Server.make({ ip: "127.0.0.1", port: 0, drainGrace: 1000, ...options }, handler)

const readAll = (stream: Readable): Effect.Effect<Buffer, Error> =>
  Effect.callback<Buffer, Error>((resume) => {
    const parts: Array<Buffer> = []
    stream.on("data", (c: Buffer) => parts.push(c))
    stream.once("end", () => resume(Effect.succeed(Buffer.concat(parts))))
    stream.once("error", (e) => resume(Effect.fail(e)))
  })

const bodyText = (req: HttpRequest): Effect.Effect<string, Error> =>
  req.body._tag === "Empty"
    ? Effect.succeed("")
    : req.body._tag === "Buffered"
    ? Effect.succeed(req.body.data.toString("latin1"))
    : Effect.map(readAll(req.body.stream), (b) => b.toString("latin1"))

/** Answers `METHOD URL BODYTAG[:length] body` (reading the whole body first). */
const echo = (req: HttpRequest): Effect.Effect<HttpResponse> =>
  Effect.orDie(
    Effect.map(bodyText(req), (text) => {
      const len = req.body._tag === "Stream" && req.body.length !== undefined ? `:${req.body.length}` : ""
      return Message.response(200, `${req.method} ${req.url} ${req.body._tag}${len} ${text}`)
    })
  )

const get = (path = "/", extra = "") => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`
const post = (path: string, body: string, extra = "") =>
  `POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`

/** A stream of `total` bytes made on demand; `pulled()` says how many were made so far. */
const generated = (total: number, chunk = 64 * 1024) => {
  let made = 0
  const block = Buffer.alloc(chunk, 120)
  const stream = new Readable({
    read() {
      if (made >= total) return void this.push(null)
      const n = Math.min(chunk, total - made)
      made += n
      this.push(n === chunk ? block : block.subarray(0, n))
    }
  })
  return { stream, pulled: () => made }
}

/** Reads the whole body, answers its length. */
const echoLength = (req: HttpRequest): Effect.Effect<HttpResponse> =>
  Effect.orDie(
    req.body._tag === "Stream"
      ? Effect.map(readAll(req.body.stream), (b) => Message.response(200, String(b.length)))
      : Effect.succeed(Message.response(200, "0"))
  )

const sleep = (ms: number) => Effect.promise(() => new Promise((r) => setTimeout(r, ms)))

// ---------------------------------------------------------------------------------------------------------------------

describe("Server", () => {
  describe("connections", () => {
    it.live("reuses a keep-alive connection for several requests", () =>
      Effect.gen(function*() {
        const remotes: Array<string | undefined> = []
        const server = yield* serve((req) => {
          remotes.push(req.remote)
          return echo(req)
        })
        const c = yield* connect(server.port)
        for (let i = 1; i <= 3; i++) {
          c.write(get(`/${i}`))
          const rs = yield* c.responses(i)
          expect(rs[i - 1]!.body).toBe(`GET /${i} Empty `)
          expect(rs[i - 1]!.headers["connection"]).toBeUndefined()
        }
        // the socket the server reads itself (onread) still knows its peer
        expect(remotes).toEqual([1, 2, 3].map(() => `127.0.0.1:${c.socket.localPort}`))
        expect(server.connections()).toBe(1)
        expect(c.closed).toBe(false)
      }))

    it.live("reads plain-TCP connections itself: many reads of one head, and sockets it stopped reading", () =>
      Effect.gen(function*() {
        const server = yield* serve(echo)
        const c = yield* connect(server.port)
        // a head in 1-byte reads, then a body larger than the shared read buffer in one write
        yield* c.dribble(get("/slow"), 1)
        yield* c.responses(1)
        const big = "y".repeat(200 * 1024)
        c.write(`POST /big HTTP/1.1\r\nhost: x\r\ncontent-length: ${big.length}\r\n\r\n${big}`)
        const rs = yield* c.responses(2)
        expect(rs[0]!.body).toBe("GET /slow Empty ")
        expect(rs[1]!.body).toBe(`POST /big Stream:${big.length} ${big}`)
      }))

    it.live("HTTP/1.0 closes unless Connection: keep-alive, which is echoed", () =>
      Effect.gen(function*() {
        const server = yield* serve(echo)
        const a = yield* connect(server.port)
        a.write("GET /a HTTP/1.0\r\n\r\n")
        const [ra] = yield* a.responses(1)
        expect(ra!.status).toBe(200)
        expect(ra!.headers["connection"]).toBe("close")
        yield* a.waitClosed()

        const b = yield* connect(server.port)
        b.write("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        const [rb] = yield* b.responses(1)
        expect(rb!.headers["connection"]).toBe("keep-alive")
        b.write("GET /c HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
        const rs = yield* b.responses(2)
        expect(rs[1]!.body).toBe("GET /c Empty ")
        expect(b.closed).toBe(false)
      }))

    it.live("honours Connection: close (later pipelined requests are not answered)", () =>
      Effect.gen(function*() {
        const seen: Array<string> = []
        const server = yield* serve((req) => {
          seen.push(req.url)
          return echo(req)
        })
        const c = yield* connect(server.port)
        c.write(get("/1", "Connection: close\r\n") + get("/2"))
        yield* c.waitClosed()
        const rs = parseResponses(c.text, { closed: true })
        expect(rs.length).toBe(1)
        expect(rs[0]!.headers["connection"]).toBe("close")
        expect(seen).toEqual(["/1"])
      }))

    it.live("answers pipelined requests in order, with bodies, after leading CRLFs", () =>
      Effect.gen(function*() {
        const server = yield* serve((req) =>
          // the first request is the slowest: responses must still come back in order
          Effect.andThen(sleep(req.url === "/1" ? 30 : 0), echo(req))
        )
        const c = yield* connect(server.port)
        c.write("\r\n\r\n" + get("/1") + post("/2", "hello") + "\r\n" + get("/3") + post("/4", "x".repeat(9000)))
        const rs = yield* c.responses(4)
        expect(rs.map((r) => r.body)).toEqual([
          "GET /1 Empty ",
          "POST /2 Buffered hello",
          "GET /3 Empty ",
          `POST /4 Stream:9000 ${"x".repeat(9000)}`
        ])
      }))

    it.live("counts connections", () =>
      Effect.gen(function*() {
        const server = yield* serve(echo)
        const a = yield* connect(server.port)
        const b = yield* connect(server.port)
        a.write(get())
        b.write(get())
        yield* a.responses(1)
        yield* b.responses(1)
        expect(server.connections()).toBe(2)
        a.socket.destroy()
        yield* until("one connection", () => server.connections() === 1)
        b.socket.end()
        yield* until("no connection", () => server.connections() === 0)
      }))

    it.live("a client that closes its side while its request is handled interrupts the handler", () =>
      Effect.gen(function*() {
        let interrupted = 0
        let started = 0
        const server = yield* serve((req) =>
          req.url === "/slow"
            ? Effect.onInterrupt(
              Effect.andThen(Effect.sync(() => started++), Effect.never),
              () => Effect.sync(() => interrupted++)
            )
            : echo(req)
        )
        const a = yield* connect(server.port, true)
        a.write(get("/1"))
        const [r] = yield* a.responses(1)
        expect(r!.body).toBe("GET /1 Empty ")
        a.write(get("/slow"))
        yield* until("the handler", () => started === 1)
        a.socket.end()
        yield* until("the interruption", () => interrupted === 1)
        yield* a.waitClosed()
        yield* until("nothing in flight", () => server.inFlight() === 0)
        const b = yield* connect(server.port, true)
        b.socket.end()
        yield* b.waitClosed()
        yield* until("no connection", () => server.connections() === 0)
      }))
  })

  describe("request bodies", () => {
    it.live("a small Content-Length body is buffered, however it is split", () =>
      Effect.gen(function*() {
        // a synchronous handler: the response is written while the bytes that follow are handled
        const server = yield* serve(
          (req) =>
            Effect.succeed(
              Message.response(
                200,
                `${req.url} ${req.body._tag} ${req.body._tag === "Buffered" ? req.body.data.toString() : ""}`
              )
            ),
          { bufferLimit: 64 }
        )
        const c = yield* connect(server.port)
        const body = "0123456789abcdef"
        c.write(`POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`)
        yield* c.dribble(body.slice(0, -1), 1)
        // the last body byte arrives with the next (pipelined) request
        c.write(body.slice(-1) + get("/b"))
        const rs = yield* c.responses(2)
        expect(rs.map((r) => r.body)).toEqual([`/a Buffered ${body}`, "/b Empty "])
        // head, body and the next request in one packet
        c.write(post("/c", body) + get("/d"))
        const rs2 = yield* c.responses(4)
        expect(rs2.slice(2).map((r) => r.body)).toEqual([`/c Buffered ${body}`, "/d Empty "])
        // and a body at exactly the limit
        c.write(post("/e", "y".repeat(64)))
        const rs3 = yield* c.responses(5)
        expect(rs3[4]!.body).toBe(`/e Buffered ${"y".repeat(64)}`)
      }))

    it.live("a larger Content-Length body streams with its length", () =>
      Effect.gen(function*() {
        const server = yield* serve(echo, { bufferLimit: 16 })
        const c = yield* connect(server.port)
        const body = "z".repeat(100)
        c.write(`POST /s HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n`)
        yield* c.dribble(body, 7)
        c.write(get("/next"))
        const rs = yield* c.responses(2)
        expect(rs[0]!.body).toBe(`POST /s Stream:100 ${body}`)
        expect(rs[1]!.body).toBe("GET /next Empty ")
      }))

    it.live("a handler may answer with the request body itself, streamed back as it arrives", () =>
      Effect.gen(function*() {
        const server = yield* serve((req) =>
          Effect.succeed({
            status: 200,
            headers: {},
            body: req.body._tag === "Stream" ? Message.streamed(req.body.stream, req.body.length) : req.body
          }), { bufferLimit: 16 })
        const size = 8 * 1024 * 1024
        const c = yield* connect(server.port)
        c.write(`POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${size}\r\n\r\n`)
        c.write(Buffer.alloc(size, 101))
        const [r] = yield* c.responses(1)
        expect(r!.body.length).toBe(size)
        expect(r!.headers["connection"]).toBe("close")
        yield* c.waitClosed()
      }))

    it.live("a chunked body streams, split at odd places, with extensions and trailers", () =>
      Effect.gen(function*() {
        const server = yield* serve(echo)
        const c = yield* connect(server.port)
        const wire = `POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n` +
          `5;name=value\r\nhello\r\n1\r\n \r\nA ; x=1\r\n0123456789\r\n0\r\nX-Trailer: t\r\nY: 2\r\n\r\n` +
          get("/after")
        yield* c.dribble(wire, 3)
        const rs = yield* c.responses(2)
        expect(rs[0]!.body).toBe("POST /c Stream hello 0123456789")
        expect(rs[1]!.body).toBe("GET /after Empty ")
      }))

    it.live("a malformed chunked body gets 400 (or a closed connection once the response started)", () =>
      Effect.gen(function*() {
        const errors: Array<[number, string]> = []
        const bodyErrors: Array<string> = []
        const server = yield* serve(
          (req) => {
            if (req.url === "/early") {
              // respond at once, with a stream still going, before the body arrives
              const stream = new Readable({ read() {} })
              stream.push("partial")
              return Effect.succeed({ status: 200, headers: {}, body: Message.streamed(stream) })
            }
            // the server interrupts the handler; the body stream itself fails
            if (req.body._tag === "Stream") req.body.stream.on("error", (e) => bodyErrors.push(e.message))
            return echo(req)
          },
          { onClientError: (s, code) => errors.push([s, code]) }
        )
        const head = (path: string) => `POST ${path} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n`
        for (const bad of ["zz\r\n", "5\r\nhelloXX", "1 0\r\n", "3\nabc\r\n"]) {
          const c = yield* connect(server.port)
          c.write(head("/read") + bad)
          yield* c.waitClosed()
          expect(c.text).toMatch(/^HTTP\/1\.1 400 /)
        }
        yield* until("the handlers to see the errors", () => bodyErrors.length === 4)
        expect(bodyErrors.every((e) => e.includes("malformed request body"))).toBe(true)
        expect(errors.length).toBe(4)
        expect(errors.every(([s]) => s === 400)).toBe(true)
        yield* until("nothing in flight", () => server.inFlight() === 0)

        const e = yield* connect(server.port)
        e.write(head("/early"))
        yield* until("the response head", () => e.text.includes("partial"))
        e.write("nothex\r\n")
        yield* e.waitClosed()
        expect(e.text).toMatch(/^HTTP\/1\.1 200 /)
        expect(e.text).not.toContain("0\r\n\r\n")
        yield* until("nothing in flight", () => server.inFlight() === 0)

        const ok = yield* connect(server.port)
        ok.write(get("/ok"))
        expect((yield* ok.responses(1))[0]!.status).toBe(200)
      }))

    it.live("a client that leaves mid-body: the body stream errors, nothing stays in flight", () =>
      Effect.gen(function*() {
        const bodyErrors: Array<string> = []
        let started = 0
        let interrupted = 0
        const server = yield* serve(
          (req) => {
            started++
            if (req.body._tag === "Stream") req.body.stream.on("error", (e) => bodyErrors.push(e.message))
            return Effect.onInterrupt(echo(req), () => Effect.sync(() => interrupted++))
          },
          { bufferLimit: 32 }
        )
        const head = `POST /s HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n${"a".repeat(100)}`
        // a reset
        const a = yield* connect(server.port)
        a.write(head)
        yield* until("the handler", () => started === 1)
        expect(server.inFlight()).toBe(1)
        a.socket.resetAndDestroy()
        yield* until("the body to fail", () => bodyErrors.length === 1)
        expect(bodyErrors[0]).toContain("client closed the connection")
        yield* until("nothing in flight", () => server.inFlight() === 0)
        expect(interrupted).toBe(1)

        // a FIN: the body can never complete
        const b = yield* connect(server.port)
        b.write(head)
        yield* until("the handler", () => started === 2)
        b.socket.end()
        yield* until("the body to fail", () => bodyErrors.length === 2)
        expect(bodyErrors[1]).toContain("ended the connection")
        yield* until("nothing in flight", () => server.inFlight() === 0)
        yield* b.waitClosed()

        // a handler that ignores the body and has answered: the failing body must not crash anything
        const ignoring = yield* serve(() => Effect.succeed(Message.response(200, "early")), { bufferLimit: 32 })
        const c = yield* connect(ignoring.port)
        c.write(head)
        yield* c.responses(1)
        c.socket.resetAndDestroy()
        yield* until("no connection", () => ignoring.connections() === 0)
        expect(ignoring.inFlight()).toBe(0)

        // a buffered body that never completes: the handler never runs
        const d = yield* connect(server.port)
        d.write(`POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc`)
        yield* until("in flight", () => server.inFlight() === 1)
        d.socket.destroy()
        yield* until("nothing in flight", () => server.inFlight() === 0)
        expect(started).toBe(2)
      }))

    it.live("a handler that does not read a large body makes the server stop reading the socket", () =>
      Effect.gen(function*() {
        let body: Readable | undefined
        let release: () => void = () => {}
        const gate = new Promise<void>((r) => (release = r))
        const server = yield* serve((req) => {
          body = req.body._tag === "Stream" ? req.body.stream : undefined
          return Effect.andThen(Effect.promise(() => gate), echoLength(req))
        })
        const size = 48 * 1024 * 1024
        const c = yield* connect(server.port)
        c.write(`POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: ${size}\r\n\r\n`)
        let written = false
        c.socket.write(Buffer.alloc(size, 98), () => (written = true))
        yield* until("the handler", () => body !== undefined)
        yield* settled(() => c.socket.writableLength)
        // the server holds at most a little: most of the body is still on the client's side
        expect(body!.readableLength).toBeLessThan(1024 * 1024)
        expect(c.socket.writableLength).toBeGreaterThan(size / 2)
        expect(written).toBe(false)
        release()
        const [r] = yield* c.responses(1)
        expect(r!.body).toBe(String(size))
        expect(written).toBe(true)
      }))
  })

  describe("pipelining limits", () => {
    it.live("requests piling up behind a slow one make the server stop reading the socket", () =>
      Effect.gen(function*() {
        let started = 0
        // a paused socket does not see its client leave: the scope's drain cuts this one short
        const server = yield* serve(() => Effect.andThen(Effect.sync(() => started++), Effect.never), {
          drainGrace: 50
        })
        const c = yield* connect(server.port)
        const heads = Buffer.from(get().repeat(Math.ceil((32 * 1024 * 1024) / get().length)), "latin1")
        c.socket.write(heads)
        yield* until("the handler", () => started === 1)
        yield* settled(() => c.socket.writableLength)
        expect(c.socket.writableLength).toBeGreaterThan(heads.length / 2)
        expect(started).toBe(1)
      }))

    it.live("a client that pipelines but does not read its responses stops being served", () =>
      Effect.gen(function*() {
        let started = 0
        const big = Buffer.alloc(1024 * 1024, 99)
        const server = yield* serve(() => {
          started++
          return Effect.succeed({ status: 200, headers: {}, body: Message.buffered(big) })
        })
        const c = yield* connect(server.port)
        c.socket.pause()
        const n = 300
        c.write(get().repeat(n))
        yield* settled(() => started)
        // only what the socket buffers (kernel and user space) hold was answered
        expect(started).toBeLessThan(n / 2)
        c.socket.on("data", () => {})
        c.socket.resume()
        yield* until("every request", () => started === n)
      }))

    it.live("an early answer to an unread upload closes after reading and dropping the rest of it", () =>
      Effect.gen(function*() {
        const server = yield* serve((req) => {
          const stream = req.body._tag === "Stream" ? req.body.stream : undefined
          // answer once the unread body has made the server stop reading the socket
          return Effect.andThen(
            until(
              "the body to back up",
              () => stream !== undefined && stream.readableLength >= stream.readableHighWaterMark
            ),
            Effect.succeed(Message.response(401, "no"))
          )
        }, { keepAliveTimeout: 300 })
        const size = 16 * 1024 * 1024
        const c = yield* connect(server.port)
        c.write(`POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: ${size}\r\n\r\n`)
        let written: Error | null | undefined = undefined
        c.socket.write(Buffer.alloc(size, 97), (err) => (written = err ?? null))
        yield* c.waitClosed()
        expect(written).toBe(null)
        const [r] = parseResponses(c.text)
        expect(r!.status).toBe(401)
        expect(r!.headers["connection"]).toBe("close")
      }))
  })

  describe("rejections before the handler", () => {
    it.live("bad requests get their status, onClientError once, and a closed connection; others are served", () =>
      Effect.gen(function*() {
        const errors: Array<[number, string]> = []
        let handled = 0
        const server = yield* serve((req) => {
          handled++
          return echo(req)
        }, { maxHeaderBytes: 1024, onClientError: (s, code) => errors.push([s, code]) })
        const good = yield* connect(server.port)
        let goodCount = 0
        // a third element: the head was good, so the handler ran before the body turned out bad
        const cases: Array<[string, number, "body"?]> = [
          ["GARBAGE\r\n\r\n", 400],
          ["GET /\r\nHost: t\r\n\r\n", 400],
          ["GET / HTTP/1.1 extra\r\nHost: t\r\n\r\n", 400],
          ["GET / HTTP/1.1\r\nHost: t\r\nNoColon\r\n\r\n", 400],
          ["GET / HTTP/1.1\r\nHost: t\r\nX-A : 1\r\n\r\n", 400],
          ["GET / HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n folded\r\n\r\n", 400],
          ["GET / HTTP/1.1\nHost: t\r\n\r\n", 400],
          ["GET / HTTP/1.1\r\nHost: t\r\nX-A: a\nb\r\n\r\n", 400],
          ["GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n", 400],
          ["GET / HTTP/1.1\r\nHost: t\r\nHost: u\r\n\r\n", 400],
          ["POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", 400],
          ["POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 4\r\n\r\nabc", 400],
          ["POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400],
          ["POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 400],
          // the wire defects of issue 16: each was accepted (and forwarded) before
          ["POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501],
          ["POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n", 501],
          ["POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400],
          ["POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
          ["GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400],
          ["GET /caf\xe9 HTTP/1.1\r\nHost: t\r\n\r\n", 400],
          ["GET http://u@evil@echo/x HTTP/1.1\r\nHost: t\r\n\r\n", 400],
          ["GET http:///x HTTP/1.1\r\nHost: t\r\n\r\n", 400],
          ["POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", 400, "body"],
          ["POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n0\r\n\r\n", 400, "body"],
          [
            "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"b\r\nhello\r\n0\r\n\r\n",
            400,
            "body"
          ],
          ["GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505],
          ["GET / HTTP/1.1\r\n\r\n", 400],
          ["GET / HTTP/1.1\r\nHost: t\r\nExpect: something-else\r\n\r\n", 417],
          [`GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(2000)}\r\n\r\n`, 431],
          [`GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(2000)}`, 431],
          // far more than the limit in one go: the client must still get the 431, not a reset
          [`GET / HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(4 * 1024 * 1024)}`, 431]
        ]
        for (const [bytes, status] of cases) {
          const before = errors.length
          const c = yield* connect(server.port)
          c.write(bytes)
          yield* c.waitClosed()
          expect(c.text.slice(0, 13), JSON.stringify(bytes.slice(0, 60))).toBe(`HTTP/1.1 ${status} `)
          expect(c.text).toContain("connection: close\r\n")
          expect(errors.length).toBe(before + 1)
          expect(errors[before]![0]).toBe(status)
          good.write(get(`/g${goodCount++}`))
          yield* good.responses(goodCount)
        }
        expect(handled).toBe(goodCount + cases.filter((c) => c[2] === "body").length)
        expect(errors.map(([, code]) => code)).toContain("HPE_HEADER_OVERFLOW")

        // HTTP/1.0 needs no Host; an expectation on 1.0 is ignored
        const old = yield* connect(server.port)
        old.write("GET /old HTTP/1.0\r\nExpect: something-else\r\n\r\n")
        const [r] = yield* old.responses(1)
        expect(r!.body).toBe("GET /old Empty ")
        expect(server.inFlight()).toBe(0)
      }))
  })

  describe("Expect: 100-continue", () => {
    it.live("sends 100 Continue before the body is read; not for a body-less request", () =>
      Effect.gen(function*() {
        const server = yield* serve(echo, { bufferLimit: 8 })
        for (const body of ["small", "a larger body"]) {
          const c = yield* connect(server.port)
          c.write(`POST /p HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`)
          yield* until("100 Continue", () => c.text.length > 0)
          expect(c.text).toBe("HTTP/1.1 100 Continue\r\n\r\n")
          c.write(body)
          const rs = yield* c.responses(2)
          expect(rs[1]!.body).toContain(body)
        }
        const c = yield* connect(server.port)
        c.write(get("/g", "Expect: 100-Continue\r\n"))
        const rs = yield* c.responses(1)
        expect(rs[0]!.status).toBe(200)
        expect(c.text).not.toContain("100 Continue")
      }))
  })

  describe("responses", () => {
    it.live("frames buffered and empty bodies itself, replacing the handler's framing headers", () =>
      Effect.gen(function*() {
        const server = yield* serve((req) =>
          Effect.succeed(
            req.url === "/empty"
              ? { status: 200, headers: { "content-length": "99" }, body: Message.empty }
              : {
                status: 200,
                headers: {
                  "content-length": "99",
                  "transfer-encoding": "chunked",
                  connection: "close",
                  "keep-alive": "timeout=1",
                  "x-kept": "yes"
                },
                body: Message.buffered("hello")
              }
          )
        )
        const c = yield* connect(server.port)
        c.write(get("/buffered") + get("/empty") + get("/buffered"))
        const rs = yield* c.responses(3)
        expect(rs[0]!.headers).toEqual({ "content-length": "5", "x-kept": "yes" })
        expect(rs[0]!.body).toBe("hello")
        expect(rs[1]!.headers).toEqual({ "content-length": "0" })
        expect(rs[2]!.body).toBe("hello")
        expect(c.closed).toBe(false)
      }))

    it.live("HEAD, 204 and 304 carry no body bytes; HEAD keeps the handler's content-length", () =>
      Effect.gen(function*() {
        const server = yield* serve((req) => {
          const status = req.url === "/204" ? 204 : req.url === "/304" ? 304 : 200
          const body = req.url === "/stream" ? Message.streamed(Readable.from([Buffer.from("abc")])) : Message.buffered(
            "body!"
          )
          return Effect.succeed({ status, headers: { "content-length": "5" }, body })
        })
        const c = yield* connect(server.port)
        c.write(`HEAD / HTTP/1.1\r\nHost: t\r\n\r\n`)
        yield* c.responses(1, { head: true })
        c.write(`HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n`)
        yield* c.responses(2, { head: true })
        c.write(get("/204"))
        yield* c.responses(3, { head: true })
        c.write(get("/304"))
        yield* c.responses(4, { head: true })
        c.write(get("/"))
        const rs = yield* c.responses(5)
        expect(rs.map((r) => r.status)).toEqual([200, 200, 204, 304, 200])
        expect(rs[0]!.headers["content-length"]).toBe("5")
        expect(rs[2]!.headers["content-length"]).toBeUndefined()
        expect(rs[3]!.headers["content-length"]).toBe("5")
        expect(rs[4]!.body).toBe("body!")
        // no stray body bytes: everything parsed as heads, in order
        expect(c.text.split("HTTP/1.1 ").length).toBe(6)
        expect(c.text.endsWith("body!")).toBe(true)
      }))

    it.live("a stream without length is chunked to HTTP/1.1 and close-delimited to HTTP/1.0; with length it has Content-Length", () =>
      Effect.gen(function*() {
        const server = yield* serve((req) => {
          const parts = [Buffer.from("one,"), Buffer.alloc(0), Buffer.from("two")]
          return Effect.succeed({
            status: 200,
            headers: { "content-length": "1" },
            body: Message.streamed(Readable.from(parts), req.url === "/len" ? 7 : req.url === "/nan" ? NaN : undefined)
          })
        })
        const a = yield* connect(server.port)
        a.write(get("/"))
        const [ra] = yield* a.responses(1)
        expect(ra!.headers["transfer-encoding"]).toBe("chunked")
        expect(ra!.headers["content-length"]).toBeUndefined()
        expect(ra!.body).toBe("one,two")
        a.write(get("/len"))
        const rs = yield* a.responses(2)
        expect(rs[1]!.headers["content-length"]).toBe("7")
        expect(rs[1]!.body).toBe("one,two")
        a.write(get("/nan"))
        const rs3 = yield* a.responses(3)
        expect(rs3[2]!.headers["transfer-encoding"]).toBe("chunked")
        expect(rs3[2]!.body).toBe("one,two")

        const b = yield* connect(server.port)
        b.write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        yield* b.waitClosed()
        const [rb] = parseResponses(b.text, { closed: true })
        expect(rb!.headers["connection"]).toBe("close")
        expect(rb!.headers["transfer-encoding"]).toBeUndefined()
        expect(rb!.body).toBe("one,two")
      }))

    it.live("a stream that ends short, overflows, errors or is destroyed breaks its connection only", () =>
      Effect.gen(function*() {
        const server = yield* serve((req) => {
          const stream = new Readable({ read() {} })
          stream.push("abc")
          const length = req.url === "/error" || req.url === "/destroy" ? undefined : 10
          if (req.url === "/short") stream.push(null)
          if (req.url === "/over") stream.push("0123456789")
          if (req.url === "/error") setTimeout(() => stream.destroy(new Error("boom")), 10)
          if (req.url === "/destroy") setTimeout(() => stream.destroy(), 10)
          return Effect.succeed({ status: 200, headers: {}, body: Message.streamed(stream, length) })
        })
        for (const path of ["/short", "/over", "/error", "/destroy"]) {
          const c = yield* connect(server.port)
          c.write(get(path) + get("/second"))
          yield* c.waitClosed()
          expect(c.text).toMatch(/^HTTP\/1\.1 200 /)
          expect(parseResponses(c.text).length).toBe(0)
          yield* until("nothing in flight", () => server.inFlight() === 0)
        }
        expect(server.connections()).toBe(0)
      }))

    it.live("a stream of strings is sent as UTF-8 bytes; a stream of non-bytes breaks its connection only", () =>
      Effect.gen(function*() {
        const server = yield* serve((req) =>
          Effect.succeed({
            status: 200,
            headers: {},
            body: Message.streamed(Readable.from(req.url === "/objects" ? [{ not: "bytes" }] : ["é€", "x"]))
          })
        )
        const c = yield* connect(server.port)
        c.write(get("/strings"))
        const [r] = yield* c.responses(1)
        expect(Buffer.from(r!.body, "latin1").toString("utf8")).toBe("é€x")
        c.write(get("/objects"))
        yield* c.waitClosed()
        expect(parseResponses(c.text).length).toBe(1)
        yield* until("nothing in flight", () => server.inFlight() === 0)
      }))

    it.live("a body-less response drops the handler's stream, even one that fails", () =>
      Effect.gen(function*() {
        let stream: Readable | undefined
        const server = yield* serve(() => {
          stream = new Readable({ read() {} })
          stream.push("never sent")
          return Effect.succeed({ status: 204, headers: {}, body: Message.streamed(stream) })
        })
        const c = yield* connect(server.port)
        c.write(get())
        yield* c.responses(1)
        stream!.destroy(new Error("upstream broke"))
        c.write(get())
        const rs = yield* c.responses(2)
        expect(rs.map((r) => r.status)).toEqual([204, 204])
        expect(c.text).not.toContain("never sent")
      }))

    // Codec.invalidHeader lets code points above U+00FF through, and the head is written as latin1,
    // which keeps only their low byte: U+010D U+010A become CR LF. Enable once the codec refuses them.
    it.live("a response header with a code point above U+00FF is refused with 502", () =>
      Effect.gen(function*() {
        const server = yield* serve(() =>
          Effect.succeed({ status: 200, headers: { "x-a": "1\u010d\u010aset-cookie: x" }, body: Message.buffered("b") })
        )
        const c = yield* connect(server.port)
        c.write(get())
        const [r] = yield* c.responses(1)
        expect(r!.status).toBe(502)
        expect(r!.headers["set-cookie"]).toBeUndefined()
      }))

    it.live("a response header with CR or LF or a 1xx or invalid status is a 502; a handler defect is a 500", () =>
      Effect.gen(function*() {
        const server = yield* serve((req) =>
          req.url === "/die"
            ? Effect.die(new Error("secret internals"))
            : req.url.startsWith("/status/")
            ? Effect.succeed(Message.response(Number(req.url.slice(8)), "x"))
            : Effect.succeed({
              status: 200,
              headers: req.url === "/name"
                ? { "x-a\r\nx-b": "1" }
                : { "x-a": req.url === "/lf" ? "1\nx: 2" : "1\r\nset-cookie: x" },
              body: Message.buffered("body")
            })
        )
        const c = yield* connect(server.port)
        c.write(get("/crlf") + get("/lf") + get("/name") + get("/die"))
        const rs = yield* c.responses(4)
        expect(rs.map((r) => r.status)).toEqual([502, 502, 502, 500])
        expect(c.text).not.toContain("set-cookie")
        expect(rs[3]!.headers["l5d-err"]).toBeDefined()
        expect(rs[3]!.body).not.toContain("secret internals")
        c.write(
          get("/status/100") + get("/status/101") + get("/status/1000") + get("/status/200.5") + get("/status/299")
        )
        const more = yield* c.responses(9)
        expect(more.slice(4).map((r) => r.status)).toEqual([502, 502, 502, 502, 299])
        expect(server.inFlight()).toBe(0)
      }))
  })

  describe("clients that misbehave", () => {
    it.live("a client disconnecting interrupts the handler", () =>
      Effect.gen(function*() {
        let interrupted = 0
        let started = 0
        const server = yield* serve(() =>
          Effect.onInterrupt(
            Effect.andThen(Effect.sync(() => started++), Effect.never),
            () => Effect.sync(() => interrupted++)
          )
        )
        const c = yield* connect(server.port)
        c.write(get())
        yield* until("the handler", () => started === 1)
        expect(server.inFlight()).toBe(1)
        // a reset (a FIN does the same, see above)
        c.socket.resetAndDestroy()
        yield* until("the interruption", () => interrupted === 1)
        yield* until("nothing in flight", () => server.inFlight() === 0)
        yield* until("no connection", () => server.connections() === 0)
      }))

    it.live("a slow reader of a big streamed response does not make the server buffer it", () =>
      Effect.gen(function*() {
        const total = 256 * 1024 * 1024
        const gen = generated(total)
        const server = yield* serve(() =>
          Effect.succeed({ status: 200, headers: {}, body: Message.streamed(gen.stream, total) })
        )
        const c = yield* connect(server.port)
        c.socket.pause()
        c.write(get())
        yield* settled(gen.pulled)
        expect(gen.pulled()).toBeGreaterThan(0)
        expect(gen.pulled()).toBeLessThan(32 * 1024 * 1024)
        expect(server.inFlight()).toBe(1)
        // now read it all (counting only)
        c.socket.removeAllListeners("data")
        let got = 0
        c.socket.on("data", (d: Buffer) => (got += d.length))
        c.socket.resume()
        yield* until("the whole body", () => got >= total + 40)
        yield* until("nothing in flight", () => server.inFlight() === 0)
      }))

    it.live("a partial head past headersTimeout gets 408; an idle connection is closed after keepAliveTimeout", () =>
      Effect.gen(function*() {
        const errors: Array<[number, string]> = []
        const server = yield* serve(echo, {
          headersTimeout: 200,
          keepAliveTimeout: 200,
          onClientError: (s, code) => errors.push([s, code])
        })
        const slow = yield* connect(server.port)
        slow.write("GET / HTTP/1.1\r\nHost: t\r\n")
        const idle = yield* connect(server.port)
        idle.write(get())
        yield* idle.responses(1)
        const blank = yield* connect(server.port)
        blank.write(get())
        yield* blank.responses(1)
        blank.write("\r\n")
        yield* slow.waitClosed()
        expect(slow.text).toMatch(/^HTTP\/1\.1 408 /)
        expect(errors).toEqual([[408, "ERR_HTTP_REQUEST_TIMEOUT"]])
        yield* idle.waitClosed()
        yield* blank.waitClosed()
        expect(parseResponses(idle.text).length).toBe(1)
        expect(idle.text.indexOf("HTTP/1.1", 5)).toBe(-1)
        expect(blank.text.indexOf("HTTP/1.1", 5)).toBe(-1)
        expect(errors.length).toBe(1)
      }))

    it.live("a client that never closes its side is dropped after the server closed", () =>
      Effect.gen(function*() {
        const server = yield* serve(echo, { keepAliveTimeout: 200 })
        const a = yield* connect(server.port, true)
        a.write(get("/", "Connection: close\r\n"))
        yield* a.responses(1)
        yield* until("the server's FIN", () => a.ended)
        const b = yield* connect(server.port, true)
        b.write(get())
        yield* b.responses(1)
        yield* until("the server's FIN", () => b.ended)
        yield* until("no connection", () => server.connections() === 0)
      }))

    it.live("a closing connection slowly reading a large response is not cut before the last byte is sent", () =>
      Effect.gen(function*() {
        const size = 4 * 1024 * 1024
        const server = yield* serve(() => Effect.succeed(Message.response(200, Buffer.alloc(size, 97))), {
          keepAliveTimeout: 100
        })
        const c = yield* connect(server.port)
        c.socket.pause()
        c.write(get("/", "Connection: close\r\n"))
        let got = 0
        // read in bursts, the whole taking many times the server's keepAliveTimeout
        const reader = setInterval(() => {
          for (let d = c.socket.read() as Buffer | null; d !== null; d = c.socket.read() as Buffer | null) {
            got += d.length
          }
        }, 20)
        yield* until("the whole response", () => got >= size || c.closed)
        clearInterval(reader)
        expect(got).toBeGreaterThanOrEqual(size)
      }))
  })

  describe("listening", () => {
    it.live("a port in use or out of range is a ListenError", () =>
      Effect.gen(function*() {
        const server = yield* serve(echo)
        const inUse = yield* Effect.flip(serve(echo, { port: server.port }))
        expect(inUse._tag).toBe("ListenError")
        expect(inUse.message).toContain(`127.0.0.1:${server.port}`)
        const range = yield* Effect.flip(serve(echo, { port: 70000 }))
        expect(range._tag).toBe("ListenError")
        expect(range.detail).toMatch(/port/i)
      }))
  })

  describe("drain", () => {
    it.live("lets requests in flight finish with connection: close, refuses new connections, closes idle ones", () =>
      Effect.gen(function*() {
        let release: () => void = () => {}
        const gate = new Promise<void>((r) => (release = r))
        const server = yield* serve((req) =>
          req.url === "/slow" ? Effect.andThen(Effect.promise(() => gate), echo(req)) : echo(req)
        )
        const busy = yield* connect(server.port)
        busy.write(get("/slow"))
        const idle = yield* connect(server.port)
        idle.write(get("/fast"))
        yield* idle.responses(1)
        yield* until("in flight", () => server.inFlight() === 1)
        const fiber = yield* Effect.forkChild(server.drain())
        yield* idle.waitClosed()
        const late = yield* connect(server.port)
        yield* late.waitClosed()
        expect(late.text).toBe("")
        expect(busy.closed).toBe(false)
        release()
        const [r] = yield* busy.responses(1)
        expect(r!.headers["connection"]).toBe("close")
        expect(r!.body).toBe("GET /slow Empty ")
        yield* Fiber.join(fiber)
        yield* busy.waitClosed()
        expect(server.inFlight()).toBe(0)
      }))

    it.live("two drains at once both end when the last request does", () =>
      Effect.gen(function*() {
        let release: () => void = () => {}
        const gate = new Promise<void>((r) => (release = r))
        const server = yield* serve((req) => Effect.andThen(Effect.promise(() => gate), echo(req)), {
          drainGrace: 60_000
        })
        const c = yield* connect(server.port)
        c.write(get())
        yield* until("in flight", () => server.inFlight() === 1)
        const first = yield* Effect.forkChild(server.drain())
        const second = yield* Effect.forkChild(server.drain())
        yield* sleep(10)
        release()
        yield* Fiber.join(first)
        yield* Fiber.join(second)
        const [r] = yield* c.responses(1)
        expect(r!.headers["connection"]).toBe("close")
      }))

    it.live("a drain's grace cuts a stuck request", () =>
      Effect.gen(function*() {
        let interrupted = false
        const server = yield* serve(() =>
          Effect.onInterrupt(Effect.never, () => Effect.sync(() => (interrupted = true)))
        )
        const c = yield* connect(server.port)
        c.write(get())
        yield* until("in flight", () => server.inFlight() === 1)
        yield* server.drain(100)
        yield* c.waitClosed()
        yield* until("the interruption", () => interrupted)
        yield* until("nothing in flight", () => server.inFlight() === 0)
      }))
  })
})
