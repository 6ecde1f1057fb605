/**
 * What the conformance corpus (test/conformance/*.json) and the codec fuzzer share: the case format,
 * a whole-message reading of raw bytes with the codec alone, and clients that put raw bytes through a
 * real weir `Server`, a real `Upstream`, and node's own parser (llhttp) on loopback.
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as path from "node:path"
import type { Readable } from "node:stream"
import { fileURLToPath } from "node:url"
import * as Address from "../../src/Address.js"
import * as Chunked from "../../src/http/transport/Chunked.js"
import * as Codec from "../../src/http/transport/Codec.js"
import type { Body, Headers, HttpRequest, HttpResponse } from "../../src/http/transport/Message.js"
import * as Message from "../../src/http/transport/Message.js"
import * as Server from "../../src/http/transport/Server.js"
import * as Upstream from "../../src/http/transport/Upstream.js"

// ---------------------------------------------------------------------------------------------
// the case format

/** Fields of an accepted message the case pins; any left out are not checked. */
export interface Accepted {
  readonly method?: string | undefined
  readonly target?: string | undefined
  readonly version?: "1.0" | "1.1" | undefined
  readonly status?: number | undefined
  /** header values by lower-case name (only these are checked) */
  readonly headers?: Headers | undefined
  readonly framing?: "None" | "Length" | "Chunked" | "Close" | undefined
  /** the decoded body, latin1 */
  readonly body?: string | undefined
  /** bytes left after the message (the next pipelined one) */
  readonly rest?: string | undefined
}

/** One rule: raw bytes (a JSON string, one character per byte), the verdict, where the rule is written. */
export interface Case {
  readonly name: string
  readonly rfc: string
  readonly raw: string
  /** the request method a response answers (responses only), default GET */
  readonly method?: string
  readonly accept?: Accepted
  /** the status weir answers (requests) or any refusal (responses: `true`) */
  readonly reject?: number | true
  /** `server`: a rule of the connection (Host required, Expect), not of the codec */
  readonly layer?: "server"
  /** why weir's verdict differs from llhttp's, on purpose (only when it does) */
  readonly llhttp?: string
}

/** One exchange on a connection: a status and, for a 200 from the echo handler, what it saw. */
export interface Exchange {
  readonly status: number
  readonly method?: string
  readonly target?: string
  readonly body?: string
}

/** A connection-level case: bytes written on one connection, the responses, whether the server closes. */
export interface ConnectionCase {
  readonly name: string
  readonly rfc: string
  /** written in order, one write each */
  readonly raw: string | ReadonlyArray<string>
  readonly responses: ReadonlyArray<Exchange>
  readonly close: boolean
  /** a 100 Continue is expected before the final responses */
  readonly interim?: boolean
}

export type CorpusFile =
  | { readonly kind: "request"; readonly cases: ReadonlyArray<Case> }
  | { readonly kind: "response"; readonly cases: ReadonlyArray<Case> }
  | { readonly kind: "connection"; readonly cases: ReadonlyArray<ConnectionCase> }

const here = path.dirname(fileURLToPath(import.meta.url))

/** Every corpus file, by name. */
export const corpus = (): Array<readonly [string, CorpusFile]> =>
  fs.readdirSync(here).filter((f) => f.endsWith(".json")).sort().map((f) =>
    [f, JSON.parse(fs.readFileSync(path.join(here, f), "utf8")) as CorpusFile] as const
  )

export const bytes = (s: string): Buffer => Buffer.from(s, "latin1")

// ---------------------------------------------------------------------------------------------
// the codec alone

export type Reading =
  | {
    readonly verdict: "accept"
    readonly method: string
    readonly target: string
    readonly status: number
    readonly version: "1.0" | "1.1"
    readonly headers: Headers
    readonly framing: Codec.Framing["_tag"]
    readonly body: string
    readonly rest: string
  }
  | { readonly verdict: "reject"; readonly status: number; readonly reason: string }
  | { readonly verdict: "incomplete" }

const readBody = (
  buf: Buffer,
  end: number,
  framing: Codec.Framing
): { body: string; rest: string } | Codec.ParseError | "incomplete" => {
  switch (framing._tag) {
    case "None":
      return { body: "", rest: buf.toString("latin1", end) }
    case "Close":
      return { body: buf.toString("latin1", end), rest: "" }
    case "Length":
      if (buf.length - end < framing.length) return "incomplete"
      return {
        body: buf.toString("latin1", end, end + framing.length),
        rest: buf.toString("latin1", end + framing.length)
      }
    case "Chunked": {
      const parts: Array<Buffer> = []
      const decoder = new Chunked.Decoder((c) => parts.push(Buffer.from(c)))
      const used = decoder.push(buf, end)
      if (used instanceof Codec.ParseError) return used
      if (!decoder.done) return "incomplete"
      return { body: Buffer.concat(parts).toString("latin1"), rest: buf.toString("latin1", end + used) }
    }
  }
}

/** Reads one request from `buf` with the codec alone: the head, its framing and its body. */
export const readRequest = (buf: Buffer): Reading => {
  const start = Codec.skipLeadingBlankLines(buf, 0)
  const end = Codec.headEnd(buf, start)
  if (end < 0) return { verdict: "incomplete" }
  const head = Codec.parseRequestHead(buf, start, end)
  if (head instanceof Codec.ParseError) return { verdict: "reject", status: head.status, reason: head.reason }
  const framing = Codec.requestFraming(head)
  if (framing instanceof Codec.ParseError) return { verdict: "reject", status: framing.status, reason: framing.reason }
  const body = readBody(buf, end, framing)
  if (body === "incomplete") return { verdict: "incomplete" }
  if (body instanceof Codec.ParseError) return { verdict: "reject", status: body.status, reason: body.reason }
  return { verdict: "accept", ...head, status: 0, framing: framing._tag, ...body }
}

/** Reads one response to `method` from `buf` (interim 1xx responses skipped), the connection closed after it. */
export const readResponse = (buf: Buffer, method: string): Reading => {
  let start = 0
  for (;;) {
    start = Codec.skipEmptyLines(buf, start)
    if (start < 0) return { verdict: "reject", status: 502, reason: "empty lines before the status line" }
    const end = Codec.headEnd(buf, start)
    if (end < 0) return { verdict: "incomplete" }
    const head = Codec.parseResponseHead(buf, start, end)
    if (head instanceof Codec.ParseError) return { verdict: "reject", status: 502, reason: head.reason }
    if (head.status === 101) return { verdict: "reject", status: 502, reason: "101" }
    if (head.status < 200) {
      start = end
      continue
    }
    const framing = Codec.responseFraming(method, head)
    if (framing instanceof Codec.ParseError) return { verdict: "reject", status: 502, reason: framing.reason }
    const body = readBody(buf, end, framing)
    if (body === "incomplete") return { verdict: "reject", status: 502, reason: "closed within the body" }
    if (body instanceof Codec.ParseError) return { verdict: "reject", status: 502, reason: body.reason }
    return { verdict: "accept", method, target: "", ...head, framing: framing._tag, ...body }
  }
}

// ---------------------------------------------------------------------------------------------
// a real weir server on loopback

const readAll = (stream: Readable): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const parts: Array<Buffer> = []
    stream.on("data", (c: Buffer) => parts.push(c))
    stream.once("end", () => resolve(Buffer.concat(parts)))
    stream.once("error", reject)
  })

const bodyOf = (body: Body): Promise<Buffer> =>
  body._tag === "Empty"
    ? Promise.resolve(Buffer.alloc(0))
    : body._tag === "Buffered"
    ? Promise.resolve(body.data)
    : readAll(body.stream)

/** Answers 200 with what it received as JSON: method, target, version, body (latin1). */
export const echo = (req: HttpRequest): Effect.Effect<HttpResponse> =>
  Effect.orDie(Effect.tryPromise(async () => {
    const body = (await bodyOf(req.body)).toString("latin1")
    const seen = { method: req.method, target: req.url, version: req.version, body, headers: req.headers }
    // latin1 both ways: every character here is one byte of the request
    return Message.response(200, Buffer.from(JSON.stringify(seen), "latin1"), { "content-type": "application/json" })
  }))

/** Runs `effect` in a scope of its own; `close` ends the scope. */
export const scoped = async <A, E>(
  effect: Effect.Effect<A, E, Scope.Scope>
): Promise<{ readonly value: A; readonly close: () => Promise<void> }> => {
  const scope = Scope.makeUnsafe()
  const value = await Effect.runPromise(Scope.provide(scope)(effect))
  return { value, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** A weir server with the echo handler on 127.0.0.1. */
export const echoServer = () =>
  scoped(Server.make({ ip: "127.0.0.1", port: 0, drainGrace: 100, maxHeaderBytes: 8 * 1024 }, echo))

/** A response read off a raw socket: status, head text and body. */
export interface Wire {
  readonly status: number
  readonly headers: Headers
  readonly body: string
}

/**
 * Writes `raw` (one write per piece) on a fresh connection and reads responses until `count` are
 * complete and, when `untilClose`, the server has closed; or until the server closes. A guard of
 * `guardMs` ends a wait that would never end (the result then says so: `hung`). `halfClose` ends the
 * sending side after the last write (the client sends nothing more).
 */
export const exchange = (
  port: number,
  raw: string | ReadonlyArray<string>,
  count: number,
  untilClose: boolean,
  method = "GET",
  guardMs = 3000,
  halfClose = false
): Promise<
  { readonly responses: Array<Wire>; readonly closed: boolean; readonly hung: boolean; readonly text: string }
> =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    let buf = Buffer.alloc(0)
    let closed = false
    let settled = false
    const responses: Array<Wire> = []
    const finish = (hung: boolean) => {
      if (settled) return
      settled = true
      clearTimeout(guard)
      socket.destroy()
      resolve({ responses, closed, hung, text: buf.toString("latin1") })
    }
    const guard = setTimeout(() => finish(true), guardMs)
    let at = 0
    const scan = () => {
      for (;;) {
        const r = readResponse(buf.subarray(at), method)
        if (r.verdict !== "accept" || r.framing === "Close") break
        // skip the interim 100s the reading passed over: only final responses count
        responses.push({ status: r.status, headers: r.headers, body: r.body })
        at = buf.length - Buffer.byteLength(r.rest, "latin1")
      }
      if (responses.length >= count && (!untilClose || closed)) finish(false)
    }
    socket.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      scan()
    })
    socket.on("end", () => {
      closed = true
      scan()
      finish(false)
    })
    socket.on("close", () => {
      closed = true
      finish(false)
    })
    socket.on("error", () => {})
    const pieces = typeof raw === "string" ? [raw] : raw
    pieces.forEach((p, i) =>
      setTimeout(() => {
        if (!socket.writable) return
        socket.write(bytes(p))
        if (halfClose && i === pieces.length - 1) socket.end()
      }, i * 5)
    )
  })

/** The method of a raw request (what its response is read as): HEAD or anything else. */
export const methodOf = (raw: string): string => raw.startsWith("HEAD ") ? "HEAD" : "GET"

// ---------------------------------------------------------------------------------------------
// node's parser (llhttp)

export type Verdict = "accept" | "reject"

/** A node:http server that answers 200 once it has read the whole request body. */
export const nodeServer = async (): Promise<{ readonly port: number; readonly close: () => Promise<void> }> => {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on("end", () => res.end("ok"))
    req.on("error", () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** node's verdict on a request: the status of its first answer (a close without one is a refusal). */
export const nodeRequestVerdict = (port: number, raw: string): Promise<Verdict | "no answer"> =>
  exchange(port, raw, 1, false, methodOf(raw)).then((r) =>
    r.responses.length > 0
      ? (r.responses[0]!.status >= 400 ? "reject" : "accept")
      : /^HTTP\/1\.[01] [45]/.test(r.text) || r.closed
      ? "reject"
      : "no answer"
  )

/** A raw TCP server that answers every request head with `raw`, then closes. */
export const rawBackend = async (
  raw: string
): Promise<{ readonly port: number; readonly close: () => Promise<void> }> => {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on("error", () => {})
    socket.on("close", () => sockets.delete(socket))
    let got = ""
    socket.on("data", (d) => {
      got += d.toString("latin1")
      if (got.includes("\r\n\r\n")) {
        got = ""
        socket.end(bytes(raw))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

/**
 * node's verdict on a response: read whole through `http.request`, or taken as an upgrade (accept);
 * an error, or nothing within `guardMs` (reject).
 */
export const nodeResponseVerdict = (port: number, method: string, guardMs = 3000): Promise<Verdict> =>
  new Promise((resolve) => {
    const done = (v: Verdict) => {
      clearTimeout(guard)
      req.destroy()
      resolve(v)
    }
    const guard = setTimeout(() => done("reject"), guardMs)
    const req = http.request({ host: "127.0.0.1", port, method, path: "/", agent: false }, (res) => {
      res.on("data", () => {})
      res.on("end", () => done("accept"))
      res.on("error", () => done("reject"))
      res.on("aborted", () => done("reject"))
    })
    req.on("upgrade", (_res, socket) => {
      socket.destroy()
      done("accept")
    })
    req.on("error", () => done("reject"))
    req.end()
  })

/** weir's verdict on a response, through a real `Upstream` (the body read whole). */
export const weirResponse = (port: number, method: string): Promise<Reading> =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const up = yield* Upstream.make(Address.make("127.0.0.1", port))
    const exit = yield* Effect.exit(up.call(Message.request({ method, url: "/" })))
    if (exit._tag === "Failure") return { verdict: "reject", status: 502, reason: String(exit.cause) } as const
    const res = exit.value
    const body = yield* Effect.promise(() => bodyOf(res.body).then((b) => b.toString("latin1"), (e: Error) => e))
    if (body instanceof Error) return { verdict: "reject", status: 502, reason: body.message } as const
    return {
      verdict: "accept",
      method,
      target: "",
      version: "1.1",
      status: res.status,
      headers: res.headers,
      framing: "None",
      body,
      rest: ""
    } as const
  })))
