import { describe, expect, it } from "@effect/vitest"
import * as http from "node:http"
import * as net from "node:net"
import * as Chunked from "../../../src/http/transport/Chunked.js"
import * as Codec from "../../../src/http/transport/Codec.js"
import type { Headers } from "../../../src/http/transport/Message.js"

// ---------------------------------------------------------------------------------------------
// helpers

const bytes = (s: string): Buffer => Buffer.from(s, "latin1")

const isError = (u: unknown): u is Codec.ParseError => u instanceof Codec.ParseError

/** Parses the request head at the start of `s` (after any leading blank lines). */
const request = (s: string): Codec.RequestHead | Codec.ParseError => {
  const b = bytes(s)
  const start = Codec.skipLeadingBlankLines(b, 0)
  const end = Codec.headEnd(b, start)
  if (end < 0) throw new Error(`test input has no complete head: ${JSON.stringify(s)}`)
  return Codec.parseRequestHead(b, start, end)
}

const response = (s: string): Codec.ResponseHead | Codec.ParseError => {
  const b = bytes(s)
  const end = Codec.headEnd(b, 0)
  if (end < 0) throw new Error(`test input has no complete head: ${JSON.stringify(s)}`)
  return Codec.parseResponseHead(b, 0, end)
}

const ok = <A>(r: A | Codec.ParseError): A => {
  if (isError(r)) throw new Error(`unexpected ParseError ${r.status}: ${r.reason}`)
  return r
}

const fails = (r: unknown, status: number, reason?: RegExp): Codec.ParseError => {
  if (!isError(r)) throw new Error(`expected a ParseError ${status}, got ${JSON.stringify(r)}`)
  expect(r.status).toBe(status)
  expect(r.reason.length).toBeGreaterThan(0)
  expect(r.message).toContain(r.reason)
  if (reason !== undefined) expect(r.reason).toMatch(reason)
  return r
}

/** The request framing of a GET/POST head with the given header lines. */
const framing = (headerLines: string, version = "1.1", method = "POST"): Codec.Framing | Codec.ParseError => {
  const head = request(`${method} / HTTP/${version}\r\nHost: x\r\n${headerLines}\r\n`)
  return isError(head) ? head : Codec.requestFraming(head)
}

const respFraming = (status: number, headerLines: string, method = "GET"): Codec.Framing | Codec.ParseError =>
  Codec.responseFraming(method, ok(response(`HTTP/1.1 ${status} X\r\n${headerLines}\r\n`)))

/** mulberry32: a small seeded PRNG, so every property below is reproducible. */
const rng = (seed: number) => {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1))
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[int(0, xs.length - 1)]!
  const string = (alphabet: string, min: number, max: number): string => {
    let s = ""
    for (let n = int(min, max); n > 0; n--) s += alphabet[int(0, alphabet.length - 1)]
    return s
  }
  const buffer = (n: number): Buffer => {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = int(0, 255)
    return b
  }
  return { next, int, pick, string, buffer }
}

/** Runs `property` for `runs` cases from `seed`, naming the failing case. */
const forAll = (seed: number, runs: number, property: (r: ReturnType<typeof rng>, run: number) => void): void => {
  const r = rng(seed)
  for (let run = 0; run < runs; run++) {
    try {
      property(r, run)
    } catch (e) {
      throw new Error(`property failed at seed ${seed}, run ${run}: ${e instanceof Error ? e.message : String(e)}`)
    }
  }
}

const tchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
const lowerTchar = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
const vchar = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join("")
const obsText = "\x80\xa0\xe9\xff"

// ---------------------------------------------------------------------------------------------
// 1. request and response heads

describe("Codec request heads", () => {
  it("parses a typical GET", () => {
    const head = ok(request("GET /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n"))
    expect(head).toEqual({
      method: "GET",
      target: "/a/b?c=d",
      version: "1.1",
      headers: { host: "example.com", "user-agent": "curl/8", accept: "*/*" }
    })
    expect(Codec.requestFraming(head)).toEqual({ _tag: "None" })
  })

  it("finds the end of a head, resuming a scan, and reports an incomplete one", () => {
    const b = bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\nNEXT")
    expect(Codec.headEnd(b, 0)).toBe(b.length - 4)
    for (let cut = 0; cut < b.length - 4; cut++) expect(Codec.headEnd(b.subarray(0, cut), 0)).toBe(-1)
    // resuming from any point a shorter buffer was scanned to still finds a CRLFCRLF straddling it
    for (let from = 0; from < b.length - 4; from++) expect(Codec.headEnd(b, 0, from)).toBe(b.length - 4)
    // a head that starts later in the buffer
    const two = bytes("GET / HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\nHost: y\r\n\r\n")
    const first = Codec.headEnd(two, 0)
    expect(first).toBe(18)
    const second = Codec.headEnd(two, first)
    expect(second).toBe(two.length)
    expect(ok(Codec.parseRequestHead(two, first, second)).target).toBe("/2")
    // bare LF line endings never complete a head (the caller's size limit ends the wait)
    expect(Codec.headEnd(bytes("GET / HTTP/1.1\nHost: x\n\n"), 0)).toBe(-1)
  })

  it("skips leading blank lines", () => {
    const b = bytes("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
    expect(Codec.skipLeadingBlankLines(b, 0)).toBe(4)
    expect(Codec.skipLeadingBlankLines(b, 4)).toBe(4)
    expect(Codec.skipLeadingBlankLines(bytes("\r\n"), 0)).toBe(2)
    expect(ok(request("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")).method).toBe("GET")
  })

  it("keeps repeated headers in order, lower-cases names and trims OWS", () => {
    const head = ok(request(
      "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a:2\r\nX-B: \t spaced  value \t\r\nX-A:   3   \r\nEmpty:\r\nBlank:  \t \r\n\r\n"
    ))
    expect(head.headers).toEqual({
      host: "x",
      "x-a": ["1", "2", "3"],
      "x-b": "spaced  value",
      empty: "",
      blank: ""
    })
  })

  it("keeps obs-text and HTAB inside values", () => {
    const head = ok(request("GET / HTTP/1.1\r\nHost: x\r\nX: caf\xe9\tbar\r\n\r\n"))
    expect(head.headers["x"]).toBe("caf\xe9\tbar")
  })

  it("parses HTTP/1.0, and lower-case or extension methods and any target form", () => {
    expect(ok(request("GET / HTTP/1.0\r\n\r\n")).version).toBe("1.0")
    expect(ok(request("PURGE /x HTTP/1.1\r\nHost: x\r\n\r\n")).method).toBe("PURGE")
    expect(ok(request("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")).target).toBe("*")
    expect(ok(request("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")).target).toBe(
      "example.com:443"
    )
    expect(ok(request("GET http://a/b?c HTTP/1.1\r\nHost: a\r\n\r\n")).target).toBe("http://a/b?c")
    expect(ok(request("GET HTTPS://[::1]:8443 HTTP/1.1\r\nHost: a\r\n\r\n")).target).toBe("HTTPS://[::1]:8443")
    expect(ok(request("GET http://a:/?q HTTP/1.1\r\nHost: a\r\n\r\n")).target).toBe("http://a:/?q")
  })

  it("accepts a Host that is one host[:port], or empty", () => {
    for (const host of ["a", "a.b-c_d~e", "a:80", "a:", "[::1]", "[::1]:8080", "127.0.0.1:1", "%41b", "x!$&'()*+;="]) {
      expect(ok(request(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`)).headers["host"]).toBe(host)
    }
    expect(ok(request("GET / HTTP/1.1\r\nHost:\r\n\r\n")).headers["host"]).toBe("")
    for (const host of ["%4", "%zz", ":80", "[::1", "a:80:90", "[v1.x]", "[1.2.3.4]", "[:::::]", "[::1]x"]) {
      fails(request(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`), 400, /invalid Host/)
    }
  })

  it("does not trip over header names that Object.prototype has", () => {
    const head = ok(request(
      "GET / HTTP/1.1\r\nHost: x\r\n__proto__: a\r\nConstructor: b\r\n__proto__: c\r\ntoString: d\r\nconstructor: e\r\n" +
        "hasOwnProperty: f\r\n__proto__: g\r\n\r\n"
    ))
    expect(Object.getPrototypeOf(head.headers)).toBe(Object.prototype)
    expect(Object.prototype.hasOwnProperty.call(head.headers, "__proto__")).toBe(true)
    expect(head.headers["__proto__"]).toEqual(["a", "c", "g"])
    expect(head.headers["constructor"]).toEqual(["b", "e"])
    expect(head.headers["tostring"]).toBe("d")
    expect(head.headers["hasownproperty"]).toBe("f")
    expect(Object.keys(head.headers)).toEqual(["host", "__proto__", "constructor", "tostring", "hasownproperty"])
    expect(Codec.requestFraming(head)).toEqual({ _tag: "None" })
    const single = ok(request("GET / HTTP/1.1\r\nHost: x\r\nconstructor: only\r\n\r\n"))
    expect(single.headers["constructor"]).toBe("only")
  })

  describe("rejects", () => {
    const cases: ReadonlyArray<readonly [string, string, 400 | 505, RegExp]> = [
      ["an empty request line", "\r\nHost: x\r\n\r\n", 400, /request line/],
      ["a request line of one word", "GET\r\nHost: x\r\n\r\n", 400, /request line/],
      ["a request line without a version", "GET /\r\nHost: x\r\n\r\n", 400, /request line/],
      ["a request line ending in a space", "GET / \r\nHost: x\r\n\r\n", 400, /version/],
      ["a request line with a trailing space", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400, /request line/],
      ["a request line with a leading space", " GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400, /request line/],
      ["a double space after the method", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, /request line/],
      ["an empty target", "GET  HTTP/1.1\r\nHost: x\r\n\r\n", 400, /target/],
      ["a double space before the version", "GET /  HTTP/1.1\r\nHost: x\r\n\r\n", 400, /request line/],
      ["four words", "GET / x HTTP/1.1\r\nHost: x\r\n\r\n", 400, /request line/],
      ["a tab between method and target", "GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, /request line|method/],
      ["a tab between target and version", "GET /\tHTTP/1.1\r\nHost: x\r\n\r\n", 400, /request line|target/],
      ["a tab inside a three-part line", "GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n", 400, /target/],
      ["a method with a bad character", "G@T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, /method/],
      ["a method with a control character", "GE\x01T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, /method/],
      ["a method with a non-ASCII byte", "G\xe9T / HTTP/1.1\r\nHost: x\r\n\r\n", 400, /method/],
      ["a target with a control character", "GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n", 400, /target/],
      ["a target with NUL", "GET /a\x00 HTTP/1.1\r\nHost: x\r\n\r\n", 400, /target/],
      ["a target with DEL", "GET /a\x7f HTTP/1.1\r\nHost: x\r\n\r\n", 400, /target/],
      ["HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, /version/],
      ["HTTP/1.2", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505, /version/],
      ["HTTP/0.9", "GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505, /version/],
      ["a lower-case version", "GET / http/1.1\r\nHost: x\r\n\r\n", 400, /version/],
      ["a garbage version", "GET / HTTP/1.1x\r\nHost: x\r\n\r\n", 400, /version/],
      ["a two-digit version", "GET / HTTP/11.1\r\nHost: x\r\n\r\n", 400, /version/],
      ["a version that is not HTTP", "GET / FTP/1.1\r\nHost: x\r\n\r\n", 400, /version/],
      ["a header without a colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", 400, /colon/],
      ["a header with an empty name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 400, /colon/],
      ["a space before the colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, /header name/],
      ["a tab before the colon", "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400, /header name/],
      ["obs-fold with a space", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400, /folding/],
      ["obs-fold with a tab", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n", 400, /folding/],
      [
        "obs-fold that looks like a header",
        "GET / HTTP/1.1\r\nHost: x\r\n Transfer-Encoding: chunked\r\n\r\n",
        400,
        /folding/
      ],
      ["a header line that starts with a space", "GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400, /folding/],
      ["a bare LF between headers", "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400, /bare CR or LF/],
      ["a bare LF after the request line", "GET / HTTP/1.1\nHost: x\r\n\r\n", 400, /bare CR or LF/],
      ["a bare LF inside a value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\nb\r\n\r\n", 400, /bare CR or LF/],
      ["a bare CR inside a value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 400, /bare CR or LF/],
      ["a bare CR ending a value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\r\n\r\n", 400, /bare CR or LF/],
      ["a bare CR in the request line", "GET /\r HTTP/1.1\r\nHost: x\r\n\r\n", 400, /bare CR or LF/],
      ["LF CR line endings", "GET / HTTP/1.1\n\rHost: x\r\n\r\n", 400, /bare CR or LF/],
      ["NUL in a value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", 400, /invalid character in header X/],
      ["a control character in a value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\x1bb\r\n\r\n", 400, /invalid character/],
      ["a vertical tab in a value", "GET / HTTP/1.1\r\nHost: x\r\nX: \x0bchunked\r\n\r\n", 400, /invalid character/],
      ["DEL in a value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\x7f\r\n\r\n", 400, /invalid character/],
      ["a header name with '@'", "GET / HTTP/1.1\r\nHost: x\r\nX@Y: 1\r\n\r\n", 400, /header name/],
      ["a header name with a slash", "GET / HTTP/1.1\r\nHost: x\r\nX/Y: 1\r\n\r\n", 400, /header name/],
      ["a header name with a quote", "GET / HTTP/1.1\r\nHost: x\r\n\"X\": 1\r\n\r\n", 400, /header name/],
      ["a header name with NUL", "GET / HTTP/1.1\r\nHost: x\r\nX\x00Y: 1\r\n\r\n", 400, /header name/],
      ["a header name with DEL", "GET / HTTP/1.1\r\nHost: x\r\nX\x7f: 1\r\n\r\n", 400, /header name/],
      ["a header name with a non-ASCII byte", "GET / HTTP/1.1\r\nHost: x\r\nX\xe9: 1\r\n\r\n", 400, /header name/],
      ["two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, /Host/],
      ["two Host headers differing in case", "GET / HTTP/1.1\r\nHost: a\r\nhOST: a\r\n\r\n", 400, /Host/],
      // issue 16 ("Wire details"): each of these was accepted and forwarded
      ["a Host list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400, /invalid Host/],
      ["a Host list without a space", "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", 400, /invalid Host/],
      ["a Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400, /invalid Host/],
      ["a Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, /invalid Host/],
      ["a Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, /invalid Host/],
      ["a Host with a bad port", "GET / HTTP/1.1\r\nHost: a:b\r\n\r\n", 400, /invalid Host/],
      ["a Host with a non-ASCII byte", "GET / HTTP/1.1\r\nHost: caf\xe9\r\n\r\n", 400, /invalid Host/],
      ["a raw non-ASCII byte in the target", "GET /caf\xe9 HTTP/1.1\r\nHost: x\r\n\r\n", 400, /non-ASCII/],
      ["a raw 0x80 in the target", "GET /\x80 HTTP/1.1\r\nHost: x\r\n\r\n", 400, /non-ASCII/],
      ["a raw 0xFF in the target", "GET /?q=\xff HTTP/1.1\r\nHost: x\r\n\r\n", 400, /non-ASCII/],
      ["userinfo in an absolute-form target", "GET http://u@evil@echo/x HTTP/1.1\r\nHost: x\r\n\r\n", 400, /userinfo/],
      ["plain userinfo", "GET http://user:pw@echo/x HTTP/1.1\r\nHost: x\r\n\r\n", 400, /userinfo/],
      ["an empty authority", "GET http:///x HTTP/1.1\r\nHost: x\r\n\r\n", 400, /empty authority/],
      ["an empty authority, no path", "GET http:// HTTP/1.1\r\nHost: x\r\n\r\n", 400, /empty authority/],
      ["an authority with a bad port", "GET http://a:b/ HTTP/1.1\r\nHost: x\r\n\r\n", 400, /invalid authority/],
      ["an absolute URI without an authority", "GET http:/x HTTP/1.1\r\nHost: x\r\n\r\n", 400, /no known form/],
      ["a relative target", "GET x/y HTTP/1.1\r\nHost: x\r\n\r\n", 400, /no known form/],
      ["absolute-form with another scheme", "GET ftp://a/x HTTP/1.1\r\nHost: x\r\n\r\n", 400, /scheme/],
      ["authority-form outside CONNECT", "GET a:80 HTTP/1.1\r\nHost: x\r\n\r\n", 400, /no known form/],
      ["CONNECT with origin-form", "CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n", 400, /authority-form/],
      ["CONNECT without a port", "CONNECT a HTTP/1.1\r\nHost: x\r\n\r\n", 400, /authority-form/],
      ["CONNECT with userinfo", "CONNECT u@a:443 HTTP/1.1\r\nHost: x\r\n\r\n", 400, /authority-form/],
      ["asterisk-form outside OPTIONS", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400, /asterisk/]
    ]
    for (const [name, input, status, reason] of cases) {
      it(name, () => {
        fails(request(input), status, reason)
      })
    }
  })

  it("names the header at fault, cut short", () => {
    const long = "X".repeat(500) + "\x01"
    const e = fails(request(`GET / HTTP/1.1\r\n${long}: 1\r\n\r\n`), 400, /header name/)
    expect(e.reason.length).toBeLessThan(100)
  })
})

describe("Codec empty lines before a status line", () => {
  it("skips up to four CRLFs, waits on a lone CR, refuses more or a bare CR/LF", () => {
    const at = (s: string) => Codec.skipEmptyLines(bytes(s), 0)
    expect(at("HTTP/1.1")).toBe(0)
    expect(at("\r\nHTTP/1.1")).toBe(2)
    expect(at("\r\n".repeat(4) + "HTTP/1.1")).toBe(8)
    expect(at("\r\n\r")).toBe(2)
    expect(at("\r\n")).toBe(2)
    expect(at("")).toBe(0)
    expect(at("\r\n".repeat(5) + "HTTP/1.1")).toBe(-1)
    expect(at("\nHTTP/1.1")).toBe(-1)
    expect(at("\r\n\nHTTP/1.1")).toBe(-1)
    expect(at("\rHTTP/1.1")).toBe(-1)
    expect(Codec.skipEmptyLines(bytes("xx\r\nH"), 2)).toBe(4)
  })
})

describe("Codec response heads", () => {
  it("parses status lines with and without a reason phrase", () => {
    expect(ok(response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"))).toEqual({
      status: 200,
      version: "1.1",
      headers: { "content-length": "2" }
    })
    expect(ok(response("HTTP/1.0 404 \r\n\r\n")).status).toBe(404)
    expect(ok(response("HTTP/1.1 204\r\n\r\n")).status).toBe(204)
    expect(ok(response("HTTP/1.1 503 Service Unavailable, try again\r\n\r\n")).version).toBe("1.1")
    expect(ok(response("HTTP/1.1 599 Whatever\r\n\r\n")).status).toBe(599)
  })

  it("rejects malformed status lines and headers", () => {
    fails(response("HTTP/1.1 20 OK\r\n\r\n"), 400, /status/)
    fails(response("HTTP/1.1 2000 OK\r\n\r\n"), 400, /status/)
    fails(response("HTTP/1.1 2x0 OK\r\n\r\n"), 400, /status/)
    fails(response("HTTP/1.1 -20 OK\r\n\r\n"), 400, /status/)
    fails(response("HTTP/1.1 099 OK\r\n\r\n"), 400, /status/)
    fails(response("HTTP/1.1 000\r\n\r\n"), 400, /status/)
    fails(response("HTTP/1.1  200 OK\r\n\r\n"), 400, /status/)
    fails(response("HTTP/1.1\t200 OK\r\n\r\n"), 400, /status/)
    fails(response("HTTP/1.1\r\n\r\n"), 400, /status/)
    fails(response("HTTP/1.1 \r\n\r\n"), 400, /status/)
    fails(response("HTTP/2.0 200 OK\r\n\r\n"), 505, /version/)
    fails(response("HTTP/1.x 200 OK\r\n\r\n"), 400, /version/)
    fails(response("ICY 200 OK\r\n\r\n"), 400, /version/)
    fails(response("\r\n\r\n"), 400)
    fails(response("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n"), 400, /header name/)
    fails(response("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), 400, /folding/)
    fails(response("HTTP/1.1 200 OK\nX: a\r\n\r\n"), 400, /bare/)
    fails(response("HTTP/1.1 200 OK\r\nX: \x00\r\n\r\n"), 400, /invalid character/)
  })
})

// ---------------------------------------------------------------------------------------------
// 2. framing

describe("Codec request framing", () => {
  it("chunked when Transfer-Encoding is chunked, any case, OWS around it", () => {
    expect(framing("Transfer-Encoding: chunked\r\n")).toEqual({ _tag: "Chunked" })
    expect(framing("Transfer-Encoding: CHUNKED\r\n")).toEqual({ _tag: "Chunked" })
    expect(framing("Transfer-Encoding:\t Chunked \t\r\n")).toEqual({ _tag: "Chunked" })
    expect(framing("Transfer-Encoding: chunked\r\n", "1.1", "GET")).toEqual({ _tag: "Chunked" })
  })

  it("refuses a transfer coding weir does not implement with 501 (it would be passed on undecoded)", () => {
    for (
      const te of ["gzip, chunked", "gzip ,\tChunked", "identity, chunked", "deflate,chunked", "chunked;q=1"]
    ) {
      fails(framing(`Transfer-Encoding: ${te}\r\n`), 501, /unsupported/)
    }
    fails(framing("Transfer-Encoding: chunked; a=\"b\"\r\n"), 501, /parameters/)
    fails(framing("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 501, /gzip/)
  })

  it("refuses a malformed Transfer-Encoding or a repeated chunked with 400", () => {
    for (
      const [te, reason] of [
        ["chunked, chunked", /more than once/],
        ["chunked,CHUNKED", /more than once/],
        ["chunked,", /empty element/],
        ["chunked, ", /empty element/],
        [", chunked", /empty element/],
        ["", /empty element/],
        ["x chunked", /malformed/],
        ["\"chunked\"", /malformed/],
        ["chunked\xa0", /malformed/],
        ["\xa0chunked", /malformed/],
        ["gzip,\xa0chunked", /malformed/],
        ["chunked;", /malformed/],
        ["chunked;q", /malformed/],
        ["chunked;q=\"x", /malformed/],
        ["gzip", /not the final/],
        ["identity", /not the final/],
        ["chunked, gzip", /not the final/],
        ["xchunked", /not the final/],
        ["chunkedx", /not the final/],
        ["chunk", /not the final/],
        ["cHunKed2", /not the final/],
        ["chunked, chunked, gzip", /not the final/]
      ] as const
    ) {
      fails(framing(`Transfer-Encoding: ${te}\r\n`), 400, reason)
    }
    fails(framing("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400, /more than once/)
    fails(framing("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), 400, /not the final/)
    fails(framing("Transfer-Encoding: chunked\r\nTransfer-Encoding: \r\n"), 400, /empty element/)
  })

  it("refuses Transfer-Encoding together with Content-Length (CL.TE / TE.CL)", () => {
    fails(framing("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400, /both/)
    fails(framing("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400, /both/)
    fails(framing("Content-Length: 0\r\nTransfer-Encoding: gzip\r\n"), 400, /both/)
  })

  it("refuses Transfer-Encoding on HTTP/1.0", () => {
    fails(framing("Transfer-Encoding: chunked\r\n", "1.0"), 400, /1\.0/)
  })

  it("reads Content-Length, accepting identical repeats", () => {
    expect(framing("Content-Length: 5\r\n")).toEqual({ _tag: "Length", length: 5 })
    expect(framing("Content-Length: 5, 5\r\n")).toEqual({ _tag: "Length", length: 5 })
    expect(framing("Content-Length: 5,5 ,\t5\r\n")).toEqual({ _tag: "Length", length: 5 })
    expect(framing("Content-Length: 5\r\nContent-Length: 5\r\n")).toEqual({ _tag: "Length", length: 5 })
    expect(framing("Content-Length: 5\r\ncontent-length: 5, 5\r\n")).toEqual({ _tag: "Length", length: 5 })
    expect(framing("Content-Length:    7   \r\n")).toEqual({ _tag: "Length", length: 7 })
    expect(framing("Content-Length: 007\r\n")).toEqual({ _tag: "Length", length: 7 })
    expect(framing("Content-Length: 999999999999999\r\n")).toEqual({ _tag: "Length", length: 999999999999999 })
    expect(framing("Content-Length: 5\r\n", "1.0")).toEqual({ _tag: "Length", length: 5 })
    expect(framing("Content-Length: 0\r\n")).toEqual({ _tag: "None" })
    expect(framing("Content-Length: 0, 0\r\n")).toEqual({ _tag: "None" })
    expect(framing("")).toEqual({ _tag: "None" })
  })

  it("refuses differing or malformed Content-Length values", () => {
    fails(framing("Content-Length: 5\r\nContent-Length: 6\r\n"), 400, /conflicting/)
    fails(framing("Content-Length: 5, 6\r\n"), 400, /conflicting/)
    fails(framing("Content-Length: 0\r\nContent-Length: 5\r\n"), 400, /conflicting/)
    fails(framing("Content-Length: 5, 5\r\nContent-Length: 6\r\n"), 400, /conflicting/)
    for (
      const cl of [
        "+5",
        "-1",
        "0x10",
        "5.0",
        "1e3",
        "5 5",
        "5,",
        ",5",
        "5,,5",
        "",
        "five",
        "1_000",
        "\xa05",
        "5\xa0",
        "\xa0",
        "1234567890123456",
        "9".repeat(400)
      ]
    ) {
      fails(framing(`Content-Length: ${cl}\r\n`), 400, /invalid Content-Length/)
    }
  })
})

describe("Codec response framing", () => {
  it("has no body for HEAD, 1xx, 204 and 304, whatever the headers say", () => {
    expect(respFraming(200, "Content-Length: 10\r\n", "HEAD")).toEqual({ _tag: "None" })
    expect(respFraming(200, "Transfer-Encoding: chunked\r\n", "HEAD")).toEqual({ _tag: "None" })
    expect(respFraming(100, "")).toEqual({ _tag: "None" })
    expect(respFraming(101, "Content-Length: 5\r\n")).toEqual({ _tag: "None" })
    expect(respFraming(103, "")).toEqual({ _tag: "None" })
    expect(respFraming(204, "Content-Length: 5\r\n")).toEqual({ _tag: "None" })
    expect(respFraming(304, "Content-Length: 5\r\n")).toEqual({ _tag: "None" })
    expect(respFraming(304, "Transfer-Encoding: chunked\r\n")).toEqual({ _tag: "None" })
  })

  it("chunked, Content-Length, or until close", () => {
    expect(respFraming(200, "Transfer-Encoding: chunked\r\n")).toEqual({ _tag: "Chunked" })
    expect(respFraming(200, "Content-Length: 12\r\n")).toEqual({ _tag: "Length", length: 12 })
    expect(respFraming(200, "Content-Length: 0\r\n")).toEqual({ _tag: "None" })
    expect(respFraming(500, "Content-Length: 3, 3\r\n")).toEqual({ _tag: "Length", length: 3 })
    expect(respFraming(200, "")).toEqual({ _tag: "Close" })
  })

  it("refuses any other transfer coding (weir drops Transfer-Encoding when it forwards a response)", () => {
    fails(respFraming(200, "Transfer-Encoding: gzip, chunked\r\n"), 501, /gzip/)
    fails(respFraming(200, "Transfer-Encoding: gzip\r\n"), 400, /not the final/)
    fails(respFraming(200, "Transfer-Encoding: chunked, gzip\r\n"), 400, /not the final/)
    fails(respFraming(200, "Transfer-Encoding: chunked, chunked\r\n"), 400, /more than once/)
    fails(respFraming(200, "Transfer-Encoding: chunked\xa0\r\n"), 400, /malformed/)
  })

  it("refuses both headers and bad lengths", () => {
    fails(respFraming(200, "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400, /both/)
    fails(respFraming(200, "Content-Length: 5\r\nContent-Length: 7\r\n"), 400, /conflicting/)
    fails(respFraming(200, "Content-Length: -5\r\n"), 400, /invalid/)
    fails(respFraming(200, "Content-Length: 1234567890123456\r\n"), 400, /invalid/)
  })
})

// ---------------------------------------------------------------------------------------------
// 3. chunked decoding

interface Decoded {
  readonly consumed: number
  readonly data: Buffer
  readonly done: boolean
  readonly error?: Codec.ParseError
}

/** Feeds `pieces` in order, stopping at the first error or once the body is done. */
const decode = (pieces: ReadonlyArray<Buffer>): Decoded => {
  const out: Array<Buffer> = []
  const decoder = new Chunked.Decoder((chunk) => out.push(Buffer.from(chunk)))
  let consumed = 0
  for (const piece of pieces) {
    const n = decoder.push(piece)
    if (isError(n)) return { consumed, data: Buffer.concat(out), done: decoder.done, error: n }
    expect(n).toBeGreaterThanOrEqual(0)
    expect(n).toBeLessThanOrEqual(piece.length)
    // until the body ends, a push takes every byte it is given
    if (!decoder.done) expect(n).toBe(piece.length)
    consumed += n
    if (decoder.done) break
  }
  return { consumed, data: Buffer.concat(out), done: decoder.done }
}

const decodeString = (s: string): Decoded => decode([bytes(s)])

/** Encodes `body` as chunks of the given sizes, with optional extensions and trailers. */
const encodeChunked = (
  body: Buffer,
  sizes: ReadonlyArray<number>,
  options: { readonly upper?: boolean; readonly extension?: string; readonly trailers?: string } = {}
): Buffer => {
  const parts: Array<Buffer> = []
  let at = 0
  for (const size of sizes) {
    const hex = size.toString(16)
    parts.push(bytes((options.upper ? hex.toUpperCase() : hex) + (options.extension ?? "") + "\r\n"))
    parts.push(body.subarray(at, at + size), bytes("\r\n"))
    at += size
  }
  parts.push(bytes("0" + (options.extension ?? "") + "\r\n" + (options.trailers ?? "") + "\r\n"))
  return Buffer.concat(parts)
}

const randomSizes = (r: ReturnType<typeof rng>, total: number): Array<number> => {
  const sizes: Array<number> = []
  let left = total
  while (left > 0) {
    const size = r.int(1, Math.min(left, r.pick([1, 3, 16, 64, 300])))
    sizes.push(size)
    left -= size
  }
  return sizes
}

describe("Codec ChunkedDecoder", () => {
  const next = bytes("GET /next HTTP/1.1\r\nHost: x\r\n\r\n")

  it("decodes a body split at every byte boundary, leaving the next message", () => {
    const body = bytes("hello, chunked world! \r\n0\r\n\r\n (this is data, not the end)")
    const wire = encodeChunked(body, [5, 1, 17, body.length - 23], {
      extension: ";name=\"va;lue\"; flag",
      trailers: "X-Sum: 1\r\nX-Other: two\r\n"
    })
    const all = Buffer.concat([wire, next])
    for (let cut = 0; cut <= all.length; cut++) {
      const d = decode([all.subarray(0, cut), all.subarray(cut)])
      expect(d.error).toBeUndefined()
      expect(d.done).toBe(true)
      expect(d.consumed).toBe(wire.length)
      expect(d.data.toString("latin1")).toBe(body.toString("latin1"))
    }
    // one byte at a time
    const d = decode(Array.from(all, (b) => Buffer.from([b])))
    expect(d.consumed).toBe(wire.length)
    expect(d.data.equals(body)).toBe(true)
  })

  it("decodes random bodies, chunkings and splits (property, 400 cases)", () => {
    forAll(20261125, 400, (r) => {
      const body = r.buffer(r.int(0, 2000))
      const wire = encodeChunked(body, randomSizes(r, body.length), {
        upper: r.next() < 0.5,
        ...(r.next() < 0.3 ? { extension: r.pick([";a=b", ";a", " ;a=\"x y\"", ";a=b;c=d", "\t; x"]) } : {}),
        ...(r.next() < 0.3
          ? { trailers: r.pick(["X: 1\r\n", "A: b\r\nC: d\r\n", "Long: " + "z".repeat(500) + "\r\n"]) }
          : {})
      })
      const all = Buffer.concat([wire, next])
      const pieces: Array<Buffer> = []
      let at = 0
      while (at < all.length) {
        const n = r.int(0, Math.min(all.length - at, r.pick([1, 7, 100, 5000])))
        pieces.push(all.subarray(at, at + n))
        at += n
      }
      const d = decode(pieces)
      expect(d.error).toBeUndefined()
      expect(d.done).toBe(true)
      expect(d.consumed).toBe(wire.length)
      expect(d.data.equals(body)).toBe(true)
    })
  })

  it("honours the `from` offset and hands data as views of the input", () => {
    const prefix = bytes("HEADERS-ALREADY-READ")
    const all = Buffer.concat([prefix, bytes("3\r\nabc\r\n0\r\n\r\n"), next])
    const seen: Array<Buffer> = []
    const decoder = new Chunked.Decoder((chunk) => seen.push(chunk))
    expect(decoder.push(all, prefix.length)).toBe(13)
    expect(decoder.done).toBe(true)
    expect(seen.map((b) => b.toString())).toEqual(["abc"])
    expect(seen[0]!.buffer).toBe(all.buffer)
    // done: further pushes take nothing
    expect(decoder.push(next)).toBe(0)
  })

  it("passes a whole buffer of data through without copying", () => {
    const seen: Array<Buffer> = []
    const decoder = new Chunked.Decoder((chunk) => seen.push(chunk))
    expect(decoder.push(bytes("a\r\n"))).toBe(3)
    const data = bytes("0123456789")
    expect(decoder.push(data)).toBe(10)
    expect(seen[0]).toBe(data)
    expect(decoder.done).toBe(false)
  })

  it("accepts leading zeros, upper-case hex, extensions and trailers", () => {
    const d = decodeString("00A;ext=1\r\n0123456789\r\n0002 ; x = \"y\"\r\nAB\r\n0;last\r\nTrailer: t\r\n\r\n")
    expect(d.error).toBeUndefined()
    expect(d.data.toString()).toBe("0123456789AB")
    expect(d.done).toBe(true)
  })

  it("accepts every form of the chunk-ext grammar (RFC 9112 §7.1.1)", () => {
    for (
      const ext of [
        ";a",
        ";a=b",
        " ;a",
        "\t;\ta",
        "; a ; b",
        ";a = b",
        ";a=\"\"",
        ";a=\"x;y, z\"",
        ";a=\"q\\\"uote\"",
        ";a=\"caf\xe9\"",
        ";a=\"\"; b=c ;d",
        ";!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~"
      ]
    ) {
      const d = decodeString(`5${ext}\r\nhello\r\n0${ext}\r\nX-T: v\r\n\r\n`)
      expect(d.error, JSON.stringify(ext)).toBeUndefined()
      expect(d.data.toString()).toBe("hello")
      expect(d.done).toBe(true)
    }
  })

  it("an empty body is just the last chunk", () => {
    const d = decodeString("0\r\n\r\nNEXT")
    expect(d).toEqual({ consumed: 5, data: Buffer.alloc(0), done: true })
    expect(decodeString(Chunked.lastChunk).done).toBe(true)
  })

  it("a 13-hex-digit size is accepted (as far as it goes)", () => {
    const d = decodeString("fffffffffffff\r\nabc")
    expect(d.error).toBeUndefined()
    expect(d.data.toString()).toBe("abc")
    expect(d.done).toBe(false)
  })

  describe("rejects", () => {
    const cases: ReadonlyArray<readonly [string, string, RegExp]> = [
      ["an invalid hex digit", "g\r\n", /invalid chunk size/],
      ["a sign", "-1\r\n", /invalid chunk size/],
      ["a 0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", /invalid chunk size/],
      ["an empty size", "\r\n", /missing chunk size/],
      ["leading whitespace", " 5\r\nhello\r\n0\r\n\r\n", /missing chunk size/],
      ["an extension without a size", ";a=b\r\n", /missing chunk size/],
      ["a size split by whitespace", "1 0\r\n0123456789abcdef\r\n0\r\n\r\n", /invalid chunk size/],
      ["a size split by a tab", "1\t0\r\n0123456789abcdef\r\n0\r\n\r\n", /invalid chunk size/],
      ["more than 13 hex digits", "12345678901234\r\n", /too large/],
      ["13 digits plus leading zeros", "00000000000001\r\nx\r\n0\r\n\r\n", /too large/],
      ["a bare LF after the size", "5\nhello\r\n0\r\n\r\n", /invalid chunk size/],
      ["a bare LF in an extension", "5;a=b\nhello\r\n0\r\n\r\n", /bare LF/],
      ["a bare CR after the size", "5\rhello\r\n0\r\n\r\n", /expected LF/],
      ["a control character in an extension", "5;a=\x00\r\nhello\r\n0\r\n\r\n", /chunk extension/],
      ["DEL in an extension", "5;a=\x7f\r\nhello\r\n0\r\n\r\n", /chunk extension/],
      ["data longer than its size", "5\r\nhello!\r\n0\r\n\r\n", /CRLF after chunk data/],
      ["data shorter than its size", "5\r\nhell\r\n0\r\n\r\n", /CRLF after chunk data/],
      ["data followed by a bare LF", "5\r\nhello\n0\r\n\r\n", /CRLF after chunk data/],
      ["data followed by a bare CR", "5\r\nhello\r0\r\n\r\n", /CRLF after chunk data/],
      ["a bare LF in the trailers", "0\r\nX: y\n\r\n", /bare LF/],
      ["a bare LF ending the trailers", "0\r\n\n", /bare LF/],
      ["a bare CR in the trailers", "0\r\nX: y\rz\r\n\r\n", /bare CR/],
      // the RFC 9112 §7.1.1 chunk-ext grammar (issue 16: these were accepted)
      ["trailing whitespace after the size", "5 \r\nhello\r\n0\r\n\r\n", /whitespace/],
      ["trailing tab after the size", "5\t\r\nhello\r\n0\r\n\r\n", /whitespace/],
      ["a bare semicolon", "5;\r\nhello\r\n0\r\n\r\n", /incomplete extension/],
      ["a semicolon then spaces", "5; \r\nhello\r\n0\r\n\r\n", /incomplete extension/],
      ["an unbalanced quote", "5;a=\"b\r\nhello\r\n0\r\n\r\n", /unterminated quoted/],
      ["a quote ending in a backslash", "5;a=\"b\\\r\nhello\r\n0\r\n\r\n", /unterminated quoted/],
      ["a name with a bad character", "5;a@b\r\nhello\r\n0\r\n\r\n", /chunk extension/],
      ["an empty value", "5;a=\r\nhello\r\n0\r\n\r\n", /incomplete extension/],
      ["whitespace after a value", "5;a=b \r\nhello\r\n0\r\n\r\n", /whitespace/],
      ["two values", "5;a=b c\r\nhello\r\n0\r\n\r\n", /chunk extension/],
      ["text after a quoted value", "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", /chunk extension/],
      ["a double equals", "5;a==b\r\nhello\r\n0\r\n\r\n", /chunk extension/],
      ["a control character in a quoted value", "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", /chunk extension/],
      ["a trailer without a colon", "0\r\nX\r\n\r\n", /without a colon/],
      ["a trailer with a space before its colon", "0\r\nX : y\r\n\r\n", /trailer field name/],
      ["a folded trailer", "0\r\nX: y\r\n z\r\n\r\n", /trailer field name/],
      ["a trailer with an empty name", "0\r\n: y\r\n\r\n", /trailer field name/],
      ["a control character in a trailer", "0\r\nX: \x01\r\n\r\n", /trailer field/]
    ]
    for (const [name, input, reason] of cases) {
      it(name, () => {
        // whole, and one byte at a time: the verdict must not depend on how the bytes arrive
        for (const pieces of [[bytes(input)], Array.from(bytes(input), (b) => Buffer.from([b]))]) {
          const d = decode(pieces)
          expect(d.error, JSON.stringify(input)).toBeDefined()
          expect(d.error!.status).toBe(400)
          expect(d.error!.reason).toMatch(reason)
        }
      })
    }

    it("an oversized size line", () => {
      const d = decodeString("5;" + "a".repeat(5000) + "\r\nhello\r\n0\r\n\r\n")
      fails(d.error, 400, /too long/)
      // the limit holds across pushes too
      fails(
        decode(Array.from({ length: 50 }, () => bytes("x".repeat(100))).map((b, i) => i === 0 ? bytes("5;") : b)).error,
        400,
        /too long/
      )
    })

    it("an oversized trailer section, with 431", () => {
      const d = decodeString("0\r\n" + "X: y\r\n".repeat(4000) + "\r\n")
      fails(d.error, 431, /trailer/)
    })
  })
})

// ---------------------------------------------------------------------------------------------
// 4. writing, and round trips

describe("Codec writing", () => {
  it("writes request and response heads", () => {
    expect(Codec.writeRequestHead("GET", "/x", { host: "a", "x-b": ["1", "2"] }, "content-length: 0\r\n")).toBe(
      "GET /x HTTP/1.1\r\nhost: a\r\nx-b: 1\r\nx-b: 2\r\ncontent-length: 0\r\n\r\n"
    )
    expect(Codec.writeResponseHead(404, {}, "")).toBe("HTTP/1.1 404 Not Found\r\n\r\n")
    expect(Codec.writeResponseHead(299, { a: "b" }, "connection: close\r\n")).toBe(
      "HTTP/1.1 299 Unknown\r\na: b\r\nconnection: close\r\n\r\n"
    )
  })

  it("reason phrases, chunk headers and the last chunk", () => {
    expect(Codec.reasonPhrase(200)).toBe("OK")
    expect(Codec.reasonPhrase(502)).toBe("Bad Gateway")
    expect(Codec.reasonPhrase(431)).toBe("Request Header Fields Too Large")
    expect(Codec.reasonPhrase(799)).toBe("Unknown")
    expect(Chunked.chunkHeader(255)).toBe("ff\r\n")
    expect(Chunked.chunkHeader(1)).toBe("1\r\n")
    expect(Chunked.lastChunk).toBe("0\r\n\r\n")
    const d = decode([bytes(Chunked.chunkHeader(3) + "abc\r\n" + Chunked.lastChunk)])
    expect(d.data.toString()).toBe("abc")
    expect(d.done).toBe(true)
  })

  it("invalidHeader finds names and values that would break a head", () => {
    expect(Codec.invalidHeader({})).toBeUndefined()
    expect(Codec.invalidHeader({ a: "b", "x-y": ["1", "caf\xe9\tx"], empty: "" })).toBeUndefined()
    expect(Codec.invalidHeader({ a: "b", bad: "x\r\ninjected: 1" })).toBe("bad")
    expect(Codec.invalidHeader({ bad: "x\ny" })).toBe("bad")
    expect(Codec.invalidHeader({ bad: "x\ry" })).toBe("bad")
    expect(Codec.invalidHeader({ bad: "x\x00y" })).toBe("bad")
    expect(Codec.invalidHeader({ bad: "\x7f" })).toBe("bad")
    expect(Codec.invalidHeader({ bad: ["ok", "no\r\n"] })).toBe("bad")
    expect(Codec.invalidHeader({ "a b": "1" })).toBe("a b")
    expect(Codec.invalidHeader({ "a:b": "1" })).toBe("a:b")
    expect(Codec.invalidHeader({ "": "1" })).toBe("")
    expect(Codec.invalidHeader({ "x\r\ny": "1" })).toBe("x\r\ny")
  })

  it("what it writes parses back to the same request (property, 500 cases)", () => {
    forAll(7, 500, (r) => {
      const headers: Headers = {}
      const count = r.int(0, 12)
      for (let i = 0; i < count; i++) {
        const name = "x-" + r.string(lowerTchar, 1, 20)
        const value = () => {
          const inner = r.string(vchar + vchar + " \t" + obsText, 0, 40)
          // writing adds no OWS, so surrounding OWS is not expected to survive; keep a VCHAR at each end
          return inner.length === 0 ? inner : r.pick([...vchar]) + inner + r.pick([...vchar])
        }
        headers[name] = r.next() < 0.2 ? Array.from({ length: r.int(2, 4) }, value) : value()
      }
      expect(Codec.invalidHeader(headers)).toBeUndefined()
      const method = r.string(tchar, 1, 10)
      const target = "/" + r.string(vchar, 0, 60)
      const head = ok(request(Codec.writeRequestHead(method, target, headers, "")))
      expect(head).toEqual({ method, target, version: "1.1", headers })
      const status = r.int(100, 599)
      const resp = ok(response(Codec.writeResponseHead(status, headers, "")))
      expect(resp).toEqual({ status, version: "1.1", headers })
    })
  })

  it("a name or value invalidHeader lets through never breaks the head (property, 2000 cases)", () => {
    forAll(11, 2000, (r) => {
      const name = r.string(tchar + ":; \r\n\x00\x7f\xe9", 0, 8)
      const value = r.string("ab \t:\r\n\x00\x01\x7f\xe9", 0, 8)
      const headers: Headers = { [name]: value }
      const wire = Codec.writeRequestHead("GET", "/", headers, "")
      const parsed = request(wire)
      if (Codec.invalidHeader(headers) === undefined) {
        const head = ok(parsed)
        expect(head.headers[name.toLowerCase()]).toBe(value.replace(/^[ \t]+|[ \t]+$/g, ""))
      } else {
        // an injection attempt either fails to parse or does not sneak in a second header
        if (!isError(parsed)) expect(Object.keys(parsed.headers).length).toBeLessThanOrEqual(1)
      }
    })
  })

  it("the checked heads are the written heads when invalidHeader passes, and undefined when it does not (property, 2000 cases)", () => {
    forAll(13, 2000, (r) => {
      const headers: Headers = {}
      const count = r.int(0, 4)
      for (let i = 0; i < count; i++) {
        const name = r.string(tchar + ":; \r\n\x00\xe9", 1, 6)
        const value = () => r.string("ab \t:\r\n\x00\x01\x7f\xe9\u0130", 0, 6)
        headers[name] = r.next() < 0.2 ? [value(), value()] : value()
      }
      const valid = Codec.invalidHeader(headers) === undefined
      expect(Codec.checkedRequestHead("GET", "/", headers, "x: 1\r\n")).toBe(
        valid ? Codec.writeRequestHead("GET", "/", headers, "x: 1\r\n") : undefined
      )
      expect(Codec.checkedResponseHead(200, headers, "")).toBe(
        valid ? Codec.writeResponseHead(200, headers, "") : undefined
      )
    })
  })

  it("a framing header the response head leaves out is not checked", () => {
    const headers: Headers = { "transfer-encoding": "chunked\r\nx-injected: 1", a: "b" }
    expect(Codec.checkedResponseHead(200, headers, "content-length: 0\r\n", "framing")).toBe(
      "HTTP/1.1 200 OK\r\na: b\r\ncontent-length: 0\r\n\r\n"
    )
    expect(Codec.checkedResponseHead(200, headers, "")).toBeUndefined()
  })
})

// ---------------------------------------------------------------------------------------------
// 5. robustness

/** Feeds `b` to every parsing entry point; anything but a value or a ParseError fails. */
const everything = (b: Buffer): void => {
  const check = (r: unknown): void => {
    if (isError(r)) {
      expect([400, 431, 501, 505]).toContain(r.status)
      expect(typeof r.reason).toBe("string")
    }
  }
  const start = Codec.skipLeadingBlankLines(b, 0)
  expect(start).toBeGreaterThanOrEqual(0)
  expect(start).toBeLessThanOrEqual(b.length)
  const end = Codec.headEnd(b, start)
  if (end >= 0) {
    const req = Codec.parseRequestHead(b, start, end)
    check(req)
    if (!isError(req)) {
      for (const name in req.headers) {
        expect(name).toMatch(/^[!#$%&'*+\-.^_`|~0-9a-z]+$/)
        const v = req.headers[name]!
        for (const s of typeof v === "string" ? [v] : v) expect(s).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f]|^[ \t]|[ \t]$/)
      }
      expect(req.target).not.toMatch(/[\x00-\x20\x7f]/)
      check(Codec.requestFraming(req))
    }
    const res = Codec.parseResponseHead(b, start, end)
    check(res)
    if (!isError(res)) {
      expect(res.status).toBeGreaterThanOrEqual(100)
      check(Codec.responseFraming("GET", res))
      check(Codec.responseFraming("HEAD", res))
    }
  }
  // odd bounds must not throw either
  check(Codec.parseRequestHead(b, 0, b.length))
  check(Codec.parseResponseHead(b, 0, b.length))
  const decoder = new Chunked.Decoder(() => {})
  const n = decoder.push(b)
  check(n)
  if (!isError(n)) expect(n).toBeLessThanOrEqual(b.length)
}

const seeds: ReadonlyArray<string> = [
  "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
  "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
  "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n",
  "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX: a, b\r\n\r\n",
  "HTTP/1.0 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
  "\r\nGET http://a:80/x?y#z HTTP/1.0\r\n__proto__: 1\r\nconstructor: 2\r\n\r\n",
  "5\r\nhello\r\n0\r\n\r\n"
]

describe("Codec robustness", () => {
  it("never throws on random bytes (3000 cases)", () => {
    const alphabet =
      "\r\n\r\n :;,\t\x00\x7f\xa0\xffGETPOSTHTTP/1.01chunkedContent-LengthTransfer-Encoding0123456789abcdef"
    forAll(1, 3000, (r) => {
      const b = r.next() < 0.5 ? r.buffer(r.int(0, 120)) : bytes(r.string(alphabet, 0, 160) + "\r\n\r\n")
      everything(b)
    })
  })

  it("never throws on mutations of valid messages (4000 cases)", () => {
    const interesting = [0, 9, 10, 13, 32, 44, 58, 59, 0x7f, 0xa0, 0xff, 48, 70]
    forAll(2, 4000, (r) => {
      const b = [...bytes(r.pick(seeds))]
      for (let k = r.int(1, 6); k > 0; k--) {
        const at = r.int(0, b.length)
        const byte = r.next() < 0.6 ? r.pick(interesting) : r.int(0, 255)
        const op = r.int(0, 2)
        if (op === 0 && at < b.length) b[at] = byte
        else if (op === 1) b.splice(at, 0, byte)
        else b.splice(at, 1)
      }
      everything(Buffer.from(b))
    })
  })
})

// ---------------------------------------------------------------------------------------------
// 6. differential: weir refuses at least what node's own parser (llhttp, strict) refuses

type Verdict = "accept" | "reject"

const weirVerdict = (s: string): Verdict => {
  const b = bytes(s)
  const start = Codec.skipLeadingBlankLines(b, 0)
  const end = Codec.headEnd(b, start)
  // a head that never completes is never forwarded
  if (end < 0) return "reject"
  const head = Codec.parseRequestHead(b, start, end)
  return isError(head) || isError(Codec.requestFraming(head)) ? "reject" : "accept"
}

/** Sends `s` raw to node's server; a 4xx/5xx status line means its parser refused it. */
const nodeVerdict = (port: number, s: string): Promise<Verdict | "no answer"> =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    let got = ""
    const finish = (v: Verdict | "no answer") => {
      clearTimeout(timer)
      socket.destroy()
      resolve(v)
    }
    const timer = setTimeout(() => finish("no answer"), 2000)
    socket.on("data", (d) => {
      got += d.toString("latin1")
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got)
      if (m) finish(Number(m[1]) >= 400 ? "reject" : "accept")
    })
    socket.on("error", () => finish(got.length === 0 ? "reject" : "no answer"))
    socket.on("close", () => finish(got.length === 0 ? "reject" : "no answer"))
    socket.write(bytes(s))
  })

const H = "Host: x\r\n"

/** [name, raw request, weir's verdict]; node's is measured. */
const smuggling: ReadonlyArray<readonly [string, string, Verdict]> = [
  ["plain GET", `GET / HTTP/1.1\r\n${H}\r\n`, "accept"],
  ["plain POST", `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\nhello`, "accept"],
  ["chunked POST", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, "accept"],
  ["CL.TE", `POST / HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG`, "reject"],
  [
    "TE.CL",
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n`,
    "reject"
  ],
  ["TE.CL with CL 0", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n`, "reject"],
  [
    "TE.TE space before colon",
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n`,
    "reject"
  ],
  ["TE.TE tab before colon", `POST / HTTP/1.1\r\n${H}Transfer-Encoding\t: chunked\r\n\r\n`, "reject"],
  ["TE xchunked", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n`, "reject"],
  ["TE chunked-x", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked-false\r\n\r\n`, "reject"],
  ["TE quoted", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: "chunked"\r\n\r\n`, "reject"],
  [
    "TE chunked then identity",
    `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n`,
    "reject"
  ],
  ["TE chunked, gzip", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, "reject"],
  ["TE with vertical tab", `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\x0bchunked\r\n\r\n`, "reject"],
  ["TE with form feed", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\x0c\r\n\r\n`, "reject"],
  ["TE with NBSP", `POST / HTTP/1.1\r\n${H}Transfer-Encoding: \xa0chunked\r\n\r\n`, "reject"],
  ["TE obs-folded", `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n`, "reject"],
  ["TE as a folded line", `POST / HTTP/1.1\r\n${H}X: y\r\n Transfer-Encoding: chunked\r\n\r\n`, "reject"],
  ["TE on HTTP/1.0", `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, "reject"],
  ["TE behind a bare LF", `POST / HTTP/1.1\r\n${H}X: y\nTransfer-Encoding: chunked\r\n\r\n`, "reject"],
  ["TE behind a bare CR", `POST / HTTP/1.1\r\n${H}X: y\rTransfer-Encoding: chunked\r\n\r\n`, "reject"],
  ["CL leading zeros", `POST / HTTP/1.1\r\n${H}Content-Length: 005\r\n\r\nhello`, "accept"],
  ["CL differing", `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, "reject"],
  ["CL plus sign", `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`, "reject"],
  ["CL negative", `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, "reject"],
  ["CL hex", `POST / HTTP/1.1\r\n${H}Content-Length: 0x5\r\n\r\nhello`, "reject"],
  ["CL with NBSP", `POST / HTTP/1.1\r\n${H}Content-Length: 5\xa0\r\n\r\nhello`, "reject"],
  ["CL two numbers", `POST / HTTP/1.1\r\n${H}Content-Length: 1 2\r\n\r\nhello`, "reject"],
  ["CL space before colon", `POST / HTTP/1.1\r\n${H}Content-Length : 5\r\n\r\nhello`, "reject"],
  ["CL huge", `POST / HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n`, "reject"],
  ["duplicate Host", `GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`, "reject"],
  ["NUL in a value", `GET / HTTP/1.1\r\n${H}X: a\x00b\r\n\r\n`, "reject"],
  ["bad header name", `GET / HTTP/1.1\r\n${H}X{Y}: 1\r\n\r\n`, "reject"],
  ["space in the target", `GET /a b HTTP/1.1\r\n${H}\r\n`, "reject"],
  ["tab in the request line", `GET\t/ HTTP/1.1\r\n${H}\r\n`, "reject"],
  ["HTTP/2.0", `GET / HTTP/2.0\r\n${H}\r\n`, "reject"],
  ["HTTP/1.2", `GET / HTTP/1.2\r\n${H}\r\n`, "reject"],
  ["lower-case version", `GET / http/1.1\r\n${H}\r\n`, "reject"],
  ["trailing space in request line", `GET / HTTP/1.1 \r\n${H}\r\n`, "reject"]
]

/**
 * Where weir is knowingly more lenient than llhttp: RFC 9110 §8.6 lets a recipient accept a
 * Content-Length repeated with one value, which llhttp refuses.
 */
const lenient: ReadonlyArray<readonly [string, string]> = [
  ["CL repeated, same value", `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`],
  ["CL list, same value", `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`]
]

describe("Codec vs node:http", () => {
  it("weir refuses every smuggling classic that node refuses", async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { connection: "close" })
      res.end()
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    try {
      const port = (server.address() as net.AddressInfo).port
      const all = [...smuggling.map(([n, s]) => [n, s] as const), ...lenient]
      const node = await Promise.all(all.map(([, s]) => nodeVerdict(port, s)))
      const rows = all.map(([name, s], i) => ({ name, weir: weirVerdict(s), node: node[i]! }))
      // the harness works: node accepts the plain requests
      expect(rows.slice(0, 3).map((r) => r.node)).toEqual(["accept", "accept", "accept"])
      // weir's verdicts are pinned
      expect(rows.slice(0, smuggling.length).map((r) => [r.name, r.weir])).toEqual(
        smuggling.map(([name, , weir]) => [name, weir])
      )
      // and weir refuses whatever node refuses, except the documented leniency
      const missed = rows.filter((r, i) => r.node === "reject" && r.weir !== "reject" && i < smuggling.length)
      expect(missed).toEqual([])
      expect(lenient.map(([, s]) => weirVerdict(s))).toEqual(["accept", "accept"])
    } finally {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})

describe("Codec.writeMessage", () => {
  /** What a peer reads when `write` writes on a fresh loopback connection and ends it. */
  const received = async (write: (socket: net.Socket) => void): Promise<Buffer> => {
    let done!: (b: Buffer) => void
    const all = new Promise<Buffer>((resolve) => done = resolve)
    const server = net.createServer((socket) => {
      const chunks: Array<Buffer> = []
      socket.on("data", (c: Buffer) => chunks.push(c))
      socket.on("end", () => done(Buffer.concat(chunks)))
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    try {
      const port = (server.address() as net.AddressInfo).port
      const client = net.connect(port, "127.0.0.1")
      await new Promise<void>((resolve) => client.once("connect", resolve))
      write(client)
      client.end()
      return await all
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }

  it("sends the head then the body, joined or (past joinedBodyBytes) as two buffers, latin1 head intact", async () => {
    const head = "HTTP/1.1 200 OK\r\nx-obs: caf\xe9\r\ncontent-length: N\r\n\r\n"
    for (const size of [0, 1, 100, Codec.joinedBodyBytes, Codec.joinedBodyBytes + 1, 200_000]) {
      const body = rng(size).buffer(size)
      const got = await received((socket) => Codec.writeMessage(socket, head, body))
      expect(got.length).toBe(head.length + size)
      expect(got.subarray(0, head.length).toString("latin1")).toBe(head)
      expect(got.subarray(head.length).equals(body)).toBe(true)
    }
  })
})
