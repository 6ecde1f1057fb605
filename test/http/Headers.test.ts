import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import * as Errors from "../../src/http/Errors.js"
import * as Headers from "../../src/http/Headers.js"
import * as Identifiers from "../../src/http/Identifiers.js"
import * as Message from "../../src/http/transport/Message.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Path from "../../src/naming/Path.js"
import * as Deadline from "../../src/resilience/Deadline.js"

const svc = Path.make("svc")

describe("Headers", () => {
  it("reads ctx dtab before l5d-dtab, combines deadlines, removes them", () => {
    const headers: Message.Headers = {
      "l5d-ctx-dtab": "/a=>/b",
      "l5d-dtab": ["/c=>/d", "/e=>/f"],
      "l5d-ctx-deadline": ["1000000 5000000000", "1000000 3000000000", "garbage"],
      "l5d-sample": "0.5",
      "l5d-ctx-thing": "keep"
    }
    const ctx = Headers.readContext(headers)
    expect(Result.isSuccess(ctx)).toBe(true)
    const value = Result.getOrThrow(ctx)
    expect(Dtab.show(value.localDtab)).toBe("/a=>/b;/c=>/d;/e=>/f")
    expect(value.deadline?.deadline).toBe(3000)
    expect(Object.keys(headers)).toEqual(["l5d-ctx-thing"])
  })

  it("rejects an unparseable dtab header, naming it", () => {
    const r = Headers.readContext({ "l5d-dtab": "/a => " })
    expect(Result.isFailure(r) && r.failure.header).toBe("l5d-dtab")
  })

  it("strips hop-by-hop headers and those named in Connection", () => {
    const h: Message.Headers = {
      connection: "close, x-private",
      "x-private": "1",
      "keep-alive": "timeout=5",
      "transfer-encoding": "chunked",
      te: "trailers",
      upgrade: "websocket",
      "proxy-authorization": "x",
      "content-type": "text/plain"
    }
    Headers.stripHopByHop(h)
    expect(h).toEqual({ "content-type": "text/plain" })
  })

  it("withoutHopByHop copies only when something must go", () => {
    const clean: Message.Headers = { host: "a", "content-length": "1" }
    expect(Headers.withoutHopByHop(clean)).toBe(clean)
    const dirty: Message.Headers = { host: "a", connection: "keep-alive, x-hop", "x-hop": "1", expect: "100-continue" }
    const out = Headers.withoutHopByHop(dirty, "expect")
    expect(out).toEqual({ host: "a" })
    expect(dirty.connection).toBe("keep-alive, x-hop")
  })

  it("withoutHopByHop with framingLeft passes a response with only framing headers as it is", () => {
    const upstream: Message.Headers = {
      "content-type": "text/plain",
      connection: "keep-alive",
      "keep-alive": "timeout=5"
    }
    expect(Headers.withoutHopByHop(upstream, undefined, true)).toBe(upstream)
    const chunked: Message.Headers = { "transfer-encoding": "chunked", a: "1" }
    expect(Headers.withoutHopByHop(chunked, undefined, true)).toBe(chunked)
    // a header named in Connection, or another hop-by-hop one, still makes the copy, without the framing ones
    const named: Message.Headers = { connection: "x-hop", "x-hop": "1", a: "1" }
    expect(Headers.withoutHopByHop(named, undefined, true)).toEqual({ a: "1" })
    const te: Message.Headers = { connection: "keep-alive", trailer: "x", a: "1" }
    expect(Headers.withoutHopByHop(te, undefined, true)).toEqual({ a: "1" })
  })

  it("counts Via entries and appends this hop", () => {
    const h: Message.Headers = { via: ["1.1 a, 1.0 b", "1.1 c"] }
    expect(Headers.viaCount(h)).toBe(3)
    Headers.appendVia(h, "1.1")
    expect(h.via).toBe("1.1 a, 1.0 b, 1.1 c, 1.1 linkerd")
    const empty: Message.Headers = {}
    Headers.appendVia(empty, "1.0")
    expect(empty.via).toBe("1.0 linkerd")
  })

  it("writes outbound headers; residual only when non-empty; ctx-dtab only when local dtab is set", () => {
    const h: Message.Headers = { "l5d-dst-residual": "/old" }
    Headers.writeOutbound(h, {
      service: "/svc/a",
      client: "/$/inet/127.0.0.1/1",
      residual: "/",
      localDtab: Dtab.empty,
      requestId: "0123456789abcdef"
    })
    expect(h).toEqual({
      "l5d-dst-service": "/svc/a",
      "l5d-dst-client": "/$/inet/127.0.0.1/1",
      "l5d-reqid": "0123456789abcdef"
    })
    Headers.writeOutbound(h, {
      service: "/svc/a",
      client: "/$/inet/127.0.0.1/1",
      residual: "/x",
      localDtab: Dtab.parseUnsafe("/a=>/b"),
      deadline: Deadline.make(1, 2),
      requestId: "0123456789abcdef"
    })
    expect(h["l5d-dst-residual"]).toBe("/x")
    expect(h["l5d-ctx-dtab"]).toBe("/a=>/b")
    expect(h["l5d-ctx-deadline"]).toBe("1000000 2000000")
    expect(Headers.newRequestId()).toMatch(/^[0-9a-f]{16}$/)
    expect(Headers.newRequestId()).not.toBe(Headers.newRequestId())
  })

  it("clearContext strips every l5d- header", () => {
    const h: Message.Headers = { "l5d-err": "x", "l5d-anything": "y", host: "h" }
    Headers.stripL5d(h)
    expect(h).toEqual({ host: "h" })
  })
})

describe("Identifiers", () => {
  const req = (url: string, headers: Message.Headers = {}, version: "1.0" | "1.1" = "1.1", method = "GET") =>
    Message.request({ url, headers, version, method })
  const name = (r: Identifiers.Identification) => r._tag === "Identified" ? Path.show(r.name) : `!${r.reason}`

  it("header.token uses the raw Host as one label", () => {
    const id = Identifiers.fromConfigs(undefined, svc)
    expect(name(id(req("/", { host: "Books:8080" })))).toBe("/svc/Books:8080")
    expect(name(id(req("/")))).toBe("!Host header is absent")
  })

  it("methodAndHost lower-cases the host, handles 1.0 and the URI", () => {
    const id = Identifiers.methodAndHost(svc, true)
    expect(name(id(req("/a/b?x=1", { host: "WEB" })))).toBe("/svc/1.1/GET/web/a/b")
    expect(name(id(req("/a", {}, "1.0", "POST")))).toBe("/svc/1.0/POST/a")
    expect(name(id(req("/a")))).toBe("!HTTP/1.1 request missing hostname")
  })

  it("path takes N segments and consumes them, keeping query and trailing slash", () => {
    const id = Identifiers.path(svc, 2, true)
    const r = id(req("/a/b/c/?q=1"))
    expect(name(r)).toBe("/svc/a/b")
    expect(r._tag === "Identified" && r.request.url).toBe("/c/?q=1")
    const all = id(req("/a/b"))
    expect(all._tag === "Identified" && all.request.url).toBe("/")
    expect(name(id(req("/a")))).toBe("!not enough segments in path")
  })

  it("header parses a path; static is constant; a list is tried in order", () => {
    const id = Identifiers.fromConfigs([
      { kind: "io.l5d.header" },
      { kind: "io.l5d.static", path: Path.parseUnsafe("/fallback") }
    ], svc)
    expect(name(id(req("/", { "l5d-name": "/x/y" })))).toBe("/svc/x/y")
    expect(name(id(req("/")))).toBe("/svc/fallback")
    expect(name(Identifiers.header(svc)(req("/", { "l5d-name": "not a path" })))).toMatch(/^!l5d-name header is not/)
    expect(name(Identifiers.firstOf([])(req("/")))).toBe("!no identifier configured")
  })
})

describe("Errors", () => {
  it("encodes l5d-err like Java's URLEncoder and decodes it back", () => {
    expect(Errors.encodeErr("a b\nc/d*e.f-g_h")).toBe("a+b%0Ac%2Fd*e.f-g_h")
    expect(Errors.decodeErr(Errors.encodeErr("Unable to route request!\n\nservice: /svc/ü"))).toBe(
      "Unable to route request!\n\nservice: /svc/ü"
    )
    expect(Errors.encodeErr("x".repeat(10_000)).length).toBe(8192)
  })

  it("statuses and messages", () => {
    const r = Errors.unknownDestination(Message.request({ url: "/p" }), "Host header is absent")
    expect(r.status).toBe(400)
    expect(Errors.decodeErr(String(r.headers["l5d-err"]))).toBe(
      "Unknown destination: Request(\"GET /p\", from unknown) / Host header is absent"
    )
    expect(Errors.noRoute({ service: "/svc/a", baseDtab: ["/svc => /#/io.l5d.fs"], localDtab: [] }).status).toBe(502)
    expect(Errors.bindingTimeout("10 seconds", "/svc/a").headers["l5d-err"]).toBe(
      "exceeded+10.seconds+to+%2Fsvc%2Fa+while+binding+%2Fsvc%2Fa"
    )
    expect(Errors.totalTimeout("250 millis", "/svc/a").status).toBe(503)
    expect(Errors.overloaded("x").headers["l5d-retryable"]).toBe("true")
    expect(Errors.isRouterError(Message.response(500, "upstream"))).toBe(false)
  })
})
