/**
 * The codec under byte-level mutation (fast-check, seeded). Valid requests and responses are made,
 * then bytes are inserted, deleted and flipped, CR/LF and delimiters spliced in, lines duplicated and
 * lengths changed. Whatever comes of it:
 *
 * - the codec never throws: every input is accepted, refused with a `ParseError` (a status) or
 *   waits for more bytes;
 * - the verdict does not depend on how the bytes arrive (whole, or the body split anywhere);
 * - what was accepted is forwarded as parsed: written again with the codec's own head writer and a
 *   framing of weir's choosing, it parses back to the same method, target, headers and body, with
 *   exactly one framing header and nothing left over;
 * - a real `Server` on loopback answers every mutated request with a response or a clean close,
 *   never a hang, and keeps serving; a real `Upstream` reading a mutated response (the backend then
 *   closes) gives the codec's verdict: the response with its body, or a `ConnectionFailed`.
 *
 * `npm test` runs a few hundred cases per property (well under 5 s); `npm run fuzz`
 * (`FUZZ_RUNS=100`) multiplies every count for a long run.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as Chunked from "../../src/http/transport/Chunked.js"
import * as Codec from "../../src/http/transport/Codec.js"
import type { Headers } from "../../src/http/transport/Message.js"
import type { Reading } from "../conformance/harness.js"
import {
  bytes,
  echoServer,
  exchange,
  rawBackend,
  readRequest,
  readResponse,
  weirResponse
} from "../conformance/harness.js"

const factor = Math.max(1, Number(process.env["FUZZ_RUNS"] ?? 1))
const runs = (n: number): number => n * factor
/** `FUZZ_SEED` shifts every seed, for long runs that explore elsewhere (a failure names the seed to replay) */
const seed = (base: number): number => base + Number(process.env["FUZZ_SEED"] ?? 0)
/** generous: a guard against a hang, scaled with the run count, never a measure of speed */
const timeout = 30_000 * factor

// ---------------------------------------------------------------------------------------------
// valid messages

const framingNames = new Set(["host", "content-length", "transfer-encoding", "connection", "expect", "keep-alive"])

const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,12}$/).filter((n) =>
  !framingNames.has(n.toLowerCase())
)
/** a value as the codec returns it: no OWS at either end */
const headerValue = fc.stringMatching(/^(?:[!-~\x80-\xff](?:[ -~\t\x80-\xff]{0,20}[!-~\x80-\xff])?)?$/)
const target = fc.oneof(
  fc.stringMatching(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/?%-]{0,30}$/),
  fc.constantFrom("/", "*", "http://a/b?c", "https://[::1]:8443/x", "http://h:80")
)
const method = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PURGE", "X-CUSTOM")
const extension = fc.constantFrom("", "", ";a", ";a=b", " ; a = \"q;\\\"x\"", ";n=v;m")
const trailers = fc.constantFrom("", "", "X-T: 1\r\n", "A: b\r\nC: \xe9\r\n")

interface Message {
  readonly wire: Buffer
  readonly body: Buffer
}

interface Request extends Message {
  readonly method: string
  readonly target: string
  readonly headers: Array<readonly [string, string]>
}

/** Encodes `body` as chunks of random sizes (from `cuts`), with an extension on each size line. */
const chunk = (body: Buffer, cuts: ReadonlyArray<number>, ext: string, trailer: string): string => {
  let out = ""
  let at = 0
  for (const cut of cuts) {
    const n = Math.min(body.length - at, 1 + (cut % 17))
    if (n <= 0) break
    out += n.toString(16) + ext + "\r\n" + body.toString("latin1", at, at + n) + "\r\n"
    at += n
  }
  if (at < body.length) out += (body.length - at).toString(16) + "\r\n" + body.toString("latin1", at) + "\r\n"
  return out + "0" + ext + "\r\n" + trailer + "\r\n"
}

const request: fc.Arbitrary<Request> = fc.record({
  method,
  target,
  headers: fc.uniqueArray(fc.tuple(headerName, headerValue), { maxLength: 5, selector: ([n]) => n.toLowerCase() }),
  body: fc.uint8Array({ maxLength: 48 }),
  framing: fc.constantFrom("none", "length", "chunked"),
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
  ext: extension,
  trailer: trailers
}).map((r) => {
  const m = r.target === "*" ? "OPTIONS" : r.method
  const body = r.framing === "none" ? Buffer.alloc(0) : Buffer.from(r.body)
  let head = `${m} ${r.target} HTTP/1.1\r\nHost: example.com:8080\r\n`
  for (const [n, v] of r.headers) head += `${n}: ${v}\r\n`
  let tail = ""
  if (r.framing === "length") {
    head += `Content-Length: ${body.length}\r\n`
    tail = body.toString("latin1")
  } else if (r.framing === "chunked") {
    head += "Transfer-Encoding: chunked\r\n"
    tail = chunk(body, r.cuts, r.ext, r.trailer)
  }
  return { method: m, target: r.target, headers: r.headers, body, wire: bytes(head + "\r\n" + tail) }
})

const response: fc.Arbitrary<Message & { readonly status: number }> = fc.record({
  status: fc.constantFrom(200, 201, 204, 301, 404, 500, 503),
  interim: fc.boolean(),
  headers: fc.uniqueArray(fc.tuple(headerName, headerValue), { maxLength: 4, selector: ([n]) => n.toLowerCase() }),
  body: fc.uint8Array({ maxLength: 48 }),
  framing: fc.constantFrom("length", "chunked", "close"),
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
  ext: extension,
  trailer: trailers
}).map((r) => {
  const body = r.status === 204 ? Buffer.alloc(0) : Buffer.from(r.body)
  let head = (r.interim ? "HTTP/1.1 100 Continue\r\n\r\n" : "") + `HTTP/1.1 ${r.status} X\r\n`
  for (const [n, v] of r.headers) head += `${n}: ${v}\r\n`
  let tail = body.toString("latin1")
  if (r.status !== 204 && r.framing === "length") head += `Content-Length: ${body.length}\r\n`
  else if (r.status !== 204 && r.framing === "chunked") {
    head += "Transfer-Encoding: chunked\r\n"
    tail = chunk(body, r.cuts, r.ext, r.trailer)
  }
  return { status: r.status, body, wire: bytes(head + "\r\n" + tail) }
})

// ---------------------------------------------------------------------------------------------
// mutations

type Mutation =
  | { readonly op: "insert"; readonly at: number; readonly byte: number }
  | { readonly op: "delete"; readonly at: number; readonly n: number }
  | { readonly op: "flip"; readonly at: number; readonly bit: number }
  | { readonly op: "splice"; readonly at: number; readonly text: string }
  | { readonly op: "duplicate"; readonly line: number }
  | { readonly op: "length"; readonly which: number; readonly delta: number }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    op: fc.constant("splice" as const),
    at: fc.nat(),
    text: fc.constantFrom("\r", "\n", "\r\n", "\r\n\r\n", " ", "\t", ",", ";", "\"", "0", ":", "\x00", "\xa0", "@")
  }),
  fc.record({ op: fc.constant("duplicate" as const), line: fc.nat() }),
  fc.record({ op: fc.constant("length" as const), which: fc.nat(), delta: fc.integer({ min: -3, max: 3 }) })
)

const apply = (wire: Buffer, m: Mutation): Buffer => {
  const at = (i: number) => i % (wire.length + 1)
  switch (m.op) {
    case "insert":
      return Buffer.concat([wire.subarray(0, at(m.at)), Buffer.from([m.byte]), wire.subarray(at(m.at))])
    case "delete":
      return Buffer.concat([wire.subarray(0, at(m.at)), wire.subarray(at(m.at) + m.n)])
    case "flip": {
      if (wire.length === 0) return wire
      const out = Buffer.from(wire)
      out[m.at % wire.length] = out[m.at % wire.length]! ^ (1 << m.bit)
      return out
    }
    case "splice":
      return Buffer.concat([wire.subarray(0, at(m.at)), bytes(m.text), wire.subarray(at(m.at))])
    case "duplicate": {
      const lines = wire.toString("latin1").split("\r\n")
      const i = m.line % lines.length
      lines.splice(i, 0, lines[i]!)
      return bytes(lines.join("\r\n"))
    }
    case "length": {
      // a decimal Content-Length or a hex chunk size, nudged
      const text = wire.toString("latin1")
      const spots = Array.from(text.matchAll(/Content-Length: (\d+)|\r\n([0-9a-f]+)(?=[;\r ])/gi))
      if (spots.length === 0) return wire
      const s = spots[m.which % spots.length]!
      const hex = s[1] === undefined
      const old = hex ? s[2]! : s[1]!
      const n = Math.max(0, parseInt(old, hex ? 16 : 10) + m.delta)
      const start = s.index! + s[0].length - old.length
      return bytes(text.slice(0, start) + n.toString(hex ? 16 : 10) + text.slice(start + old.length))
    }
  }
}

const mutated = <A extends Message>(arb: fc.Arbitrary<A>) =>
  fc.tuple(arb, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([m, ms]) => ({
    original: m,
    mutations: ms,
    wire: ms.reduce(apply, m.wire)
  }))

// ---------------------------------------------------------------------------------------------
// what weir forwards

/** The headers weir keeps when it forwards (framing and connection headers are its own). */
const forwardable = (headers: Headers): Headers => {
  const out: Headers = {}
  for (const name in headers) if (!framingNames.has(name) || name === "host") out[name] = headers[name]!
  return out
}

/** Parses `reading`'s message written again as weir writes it; the forwarded message must read the same. */
const reforward = (reading: Extract<Reading, { verdict: "accept" }>, kind: "request" | "response"): void => {
  const headers = forwardable(reading.headers)
  expect(Codec.invalidHeader(headers)).toBeUndefined()
  const body = bytes(reading.body)
  const extra = "content-length: " + body.length + "\r\n"
  const head = kind === "request"
    ? Codec.writeRequestHead(reading.method, reading.target, headers, extra)
    : Codec.writeResponseHead(reading.status, headers, extra)
  const again = kind === "request"
    ? readRequest(Buffer.concat([bytes(head), body]))
    : readResponse(Buffer.concat([bytes(head), body]), reading.method)
  expect(again.verdict).toBe("accept")
  if (again.verdict !== "accept") return
  // one framing, and it is the one weir wrote: the next hop cannot read another message boundary
  expect(again.headers["transfer-encoding"]).toBeUndefined()
  expect(again.headers["content-length"]).toBe(String(body.length))
  expect(again.body).toBe(reading.body)
  expect(again.rest).toBe("")
  expect(forwardable(again.headers)).toEqual(headers)
  if (kind === "request") expect([again.method, again.target]).toEqual([reading.method, reading.target])
  else expect(again.status).toBe(reading.status)
}

/** The same reading when the bytes after the head arrive one at a time (chunked bodies only). */
const splitInvariant = (wire: Buffer, reading: Reading): void => {
  if (reading.verdict !== "accept" || reading.framing !== "Chunked") return
  const end = Codec.headEnd(wire, Codec.skipLeadingBlankLines(wire, 0))
  const parts: Array<Buffer> = []
  const decoder = new Chunked.Decoder((c) => parts.push(Buffer.from(c)))
  for (let i = end; i < wire.length && !decoder.done; i++) {
    const used = decoder.push(wire.subarray(i, i + 1))
    expect(used).not.toBeInstanceOf(Codec.ParseError)
  }
  expect(decoder.done).toBe(true)
  expect(Buffer.concat(parts).toString("latin1")).toBe(reading.body)
}

const noThrow = (f: () => Reading): Reading => {
  try {
    return f()
  } catch (e) {
    throw new Error(`the codec threw: ${String(e)}`)
  }
}

// ---------------------------------------------------------------------------------------------

describe("codec fuzzing", () => {
  it("valid requests are accepted with exactly the fields they were made of", () => {
    fc.assert(
      fc.property(request, (r) => {
        const reading = readRequest(r.wire)
        expect(reading.verdict).toBe("accept")
        if (reading.verdict !== "accept") return
        expect([reading.method, reading.target, reading.body, reading.rest]).toEqual([
          r.method,
          r.target,
          r.body.toString("latin1"),
          ""
        ])
        for (const [n, v] of r.headers) expect(reading.headers[n.toLowerCase()]).toBe(v)
        reforward(reading, "request")
        splitInvariant(r.wire, reading)
      }),
      { seed: seed(1606), numRuns: runs(300) }
    )
  }, timeout)

  it("mutated requests: a verdict, never a throw; what is accepted is forwarded as parsed", () => {
    const verdicts = { accept: 0, reject: 0, incomplete: 0 }
    fc.assert(
      fc.property(mutated(request), ({ wire }) => {
        const reading = noThrow(() => readRequest(wire))
        verdicts[reading.verdict]++
        if (reading.verdict === "reject") {
          expect([400, 431, 501, 505]).toContain(reading.status)
          expect(reading.reason.length).toBeGreaterThan(0)
        }
        if (reading.verdict === "accept") {
          reforward(reading, "request")
          splitInvariant(wire, reading)
        }
      }),
      { seed: seed(1616), numRuns: runs(1500) }
    )
    // the mutations reach both sides of the parser
    expect(verdicts.accept).toBeGreaterThan(0)
    expect(verdicts.reject).toBeGreaterThan(0)
  }, timeout)

  it("valid and mutated responses: a verdict, never a throw; what is accepted is forwarded as parsed", () => {
    const verdicts = { accept: 0, reject: 0, incomplete: 0 }
    fc.assert(
      fc.property(response, fc.boolean(), mutated(response), (valid, head, { wire }) => {
        const clean = readResponse(valid.wire, head ? "HEAD" : "GET")
        expect(clean.verdict).toBe("accept")
        if (clean.verdict === "accept") {
          expect([clean.status, clean.body]).toEqual([valid.status, head ? "" : valid.body.toString("latin1")])
          reforward(clean, "response")
        }
        const reading = noThrow(() => readResponse(wire, "GET"))
        verdicts[reading.verdict]++
        if (reading.verdict === "accept") reforward(reading, "response")
      }),
      { seed: seed(1626), numRuns: runs(1000) }
    )
    expect(verdicts.accept).toBeGreaterThan(0)
    expect(verdicts.reject).toBeGreaterThan(0)
  }, timeout)

  it("a real Upstream reads a mutated response as the codec does: the response, or a failure", async () => {
    await fc.assert(
      fc.asyncProperty(mutated(response), async ({ wire }) => {
        const expected = readResponse(wire, "GET")
        const backend = await rawBackend(wire.toString("latin1"))
        try {
          const got = await weirResponse(backend.port, "GET")
          // the backend closes after its bytes: an incomplete response is a failure too
          expect(got.verdict).toBe(expected.verdict === "accept" ? "accept" : "reject")
          if (got.verdict === "accept" && expected.verdict === "accept") {
            expect([got.status, got.body]).toEqual([expected.status, expected.body])
          }
        } finally {
          await backend.close()
        }
      }),
      { seed: seed(1646), numRuns: runs(60) }
    )
  }, timeout)

  it("a real Server answers every mutated request with a response or a clean close, and keeps serving", async () => {
    const server = await echoServer()
    try {
      const port = server.value.port
      await fc.assert(
        fc.asyncProperty(mutated(request), async ({ wire }) => {
          const expected = readRequest(wire)
          // an incomplete message: the client then closes its side, and the server must not wait on
          const incomplete = expected.verdict === "incomplete"
          const r = await exchange(port, wire.toString("latin1"), 1, incomplete, "GET", 3000, incomplete)
          expect(r.hung).toBe(false)
          const got = r.responses[0]
          if (expected.verdict === "reject") {
            // the codec's status, and the connection closed after it
            expect(got?.status).toBe(expected.status)
            expect(got?.headers["connection"]).toBe("close")
          } else if (expected.verdict === "incomplete") {
            expect(got === undefined || got.status === 400).toBe(true)
          } else if (got !== undefined && got.status !== 200) {
            // rules of the server, not of the codec: a Host is required, an expectation must be 100-continue
            expect([400, 417]).toContain(got.status)
            expect(expected.headers["host"] === undefined || expected.headers["expect"] !== undefined).toBe(true)
          } else if (got !== undefined && expected.method !== "HEAD") {
            const seen = JSON.parse(got.body) as { target: string; body: string }
            expect([seen.target, seen.body]).toEqual([expected.target, expected.body])
          }
        }),
        { seed: seed(1636), numRuns: runs(60) }
      )
      // still serving
      const after = await exchange(port, "GET /after HTTP/1.1\r\nHost: x\r\n\r\n", 1, false)
      expect(after.responses[0]?.status).toBe(200)
    } finally {
      await server.close()
    }
  }, timeout)
})
