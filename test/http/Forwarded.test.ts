import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Forwarded from "../../src/http/Forwarded.js"
import * as Message from "../../src/http/transport/Message.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { sendE, textBackend } from "./support.js"

/** A seeded generator in [0, 1) (a 32-bit LCG), so labels are the same every run. */
const seeded = (seed: number) => {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const req = (options: { url?: string; headers?: Message.Headers; remote?: string } = {}): Message.HttpRequest => ({
  ...Message.request({ url: options.url ?? "/", headers: options.headers ?? { host: "web" } }),
  ...(options.remote !== undefined ? { remote: options.remote } : {})
})

const stampOf = (request: Message.HttpRequest) => Message.header(request.headers, "forwarded")

const local = "127.0.0.1:4140"

describe("Forwarded nodes and formatting", () => {
  it("writes IPv4 bare, IPv6 bracketed and quoted, ports quoted", () => {
    expect(Forwarded.node("192.0.2.43:51514", false)).toBe("192.0.2.43")
    expect(Forwarded.node("192.0.2.43:51514", true)).toBe(`"192.0.2.43:51514"`)
    expect(Forwarded.node("2001:db8:cafe::17:8080", false)).toBe(`"[2001:db8:cafe::17]"`)
    expect(Forwarded.node("2001:db8:cafe::17:8080", true)).toBe(`"[2001:db8:cafe::17]:8080"`)
    expect(Forwarded.node("[::1]:4140", true)).toBe(`"[::1]:4140"`)
  })

  it("writes IPv4-mapped addresses as IPv4, and unknown for wildcards, missing or malformed ones", () => {
    expect(Forwarded.node("::ffff:10.1.2.3:999", false)).toBe("10.1.2.3")
    expect(Forwarded.node("0.0.0.0:4140", true)).toBe("unknown")
    expect(Forwarded.node(":::4140", false)).toBe("unknown")
    expect(Forwarded.node(undefined, false)).toBe("unknown")
    expect(Forwarded.node("undefined:undefined", true)).toBe("unknown")
    expect(Forwarded.node("web:80", false)).toBe("unknown")
  })

  it("quotes values that are not tokens, escaping quotes and backslashes", () => {
    expect(Forwarded.quote("_abc")).toBe("_abc")
    expect(Forwarded.quote("web.example:8080")).toBe(`"web.example:8080"`)
    expect(Forwarded.quote(`a"b\\c`)).toBe(`"a\\"b\\\\c"`)
  })

  it("builds an element with host and proto only when known", () => {
    expect(Forwarded.element({ by: "_a", for: "_b" })).toBe("by=_a;for=_b")
    expect(Forwarded.element({ by: "_a", for: "_b", host: "web:80", proto: "http" })).toBe(
      `by=_a;for=_b;host="web:80";proto=http`
    )
    expect(Forwarded.element({ by: "_a", for: "_b", host: "" })).toBe("by=_a;for=_b")
    expect(Forwarded.element({ by: "_a", for: "_b", host: "bad\nhost" })).toBe("by=_a;for=_b")
  })

  it("appends after earlier elements, keeping them", () => {
    const h: Message.Headers = { forwarded: ["for=192.0.2.60;proto=http", "for=_x"] }
    Forwarded.append(h, "by=_a;for=_b")
    expect(h["forwarded"]).toBe("for=192.0.2.60;proto=http, for=_x, by=_a;for=_b")
    const fresh: Message.Headers = {}
    Forwarded.append(fresh, "by=_a;for=_b")
    expect(fresh["forwarded"]).toBe("by=_a;for=_b")
    const blank: Message.Headers = { forwarded: "" }
    Forwarded.append(blank, "for=_c")
    expect(blank["forwarded"]).toBe("for=_c")
  })
})

describe("Forwarded labels", () => {
  it("random labels are obfuscated identifiers, the same for the same seed", () => {
    const a = Forwarded.randomLabel(seeded(7))
    expect(a).toMatch(/^_[A-Za-z0-9]{6}$/)
    expect(Forwarded.isObfuscated(a)).toBe(true)
    expect(Forwarded.randomLabel(seeded(7))).toBe(a)
    expect(Forwarded.randomLabel(seeded(8))).not.toBe(a)
  })

  it("static labels get a leading underscore; invalid ones are reported and cleaned", () => {
    expect(Forwarded.staticLabel("edge")).toEqual({ _tag: "Static", label: "_edge" })
    expect(Forwarded.staticLabel("_edge.1-a")).toEqual({ _tag: "Static", label: "_edge.1-a" })
    expect(Forwarded.router("incoming")).toEqual({ _tag: "Static", label: "_incoming" })
    expect(Forwarded.labelProblem("edge")).toBeUndefined()
    expect(Forwarded.labelProblem("_e")).toBeUndefined()
    expect(Forwarded.labelProblem("a b")).toContain(`invalid label "a b"`)
    expect(Forwarded.labelProblem("")).toBeDefined()
    expect(Forwarded.labelProblem("_")).toBeDefined()
    expect(Forwarded.labelProblem("[::1]")).toBeDefined()
    expect(Forwarded.staticLabel("a b")).toEqual({ _tag: "Static", label: "_a-b" })
    expect(Forwarded.isObfuscated("_a b")).toBe(false)
    expect(Forwarded.isObfuscated("abc")).toBe(false)
  })

  it("maps config kinds to labelers", () => {
    expect(Forwarded.fromConfig({ kind: "ip" }, "rt")).toBe(Forwarded.ip)
    expect(Forwarded.fromConfig({ kind: "ip:port" }, "rt")).toBe(Forwarded.ipPort)
    expect(Forwarded.fromConfig({ kind: "connectionRandom" }, "rt")).toBe(Forwarded.connectionRandom)
    expect(Forwarded.fromConfig({ kind: "requestRandom" }, "rt")).toBe(Forwarded.requestRandom)
    expect(Forwarded.fromConfig({ kind: "router" }, "rt")).toEqual({ _tag: "Static", label: "_rt" })
    expect(Forwarded.fromConfig({ kind: "static", label: "x" }, "rt")).toEqual({ _tag: "Static", label: "_x" })
  })
})

describe("Forwarded.make", () => {
  it("ip and ip:port label the server's listening address and the client", () => {
    const stamp = Forwarded.make({ by: Forwarded.ipPort, for: Forwarded.ip })
    const r = req({ remote: "10.0.0.9:50000" })
    stamp(r, local)
    expect(stampOf(r)).toBe(`by="127.0.0.1:4140";for=10.0.0.9;host=web`)
    const v6 = req({ remote: "::1:50001", headers: { host: "web:8080" } })
    stamp(v6, "::1:4140")
    expect(stampOf(v6)).toBe(`by="[::1]:4140";for="[::1]";host="web:8080"`)
    const wild = req({ remote: "10.0.0.9:50000" })
    stamp(wild, "0.0.0.0:4140")
    expect(stampOf(wild)).toBe(`by=unknown;for=10.0.0.9;host=web`)
  })

  it("requestRandom (the default) gives every request new labels", () => {
    const stamp = Forwarded.make({ random: seeded(1) })
    const a = req({ remote: "10.0.0.9:50000" })
    const b = req({ remote: "10.0.0.9:50000" })
    stamp(a, local)
    stamp(b, local)
    const re = /^by=(_[A-Za-z0-9]{6});for=(_[A-Za-z0-9]{6});host=web$/
    const ma = re.exec(stampOf(a)!)!
    const mb = re.exec(stampOf(b)!)!
    expect(ma).not.toBeNull()
    expect(mb).not.toBeNull()
    expect(ma[1]).not.toBe(mb[1])
    expect(ma[2]).not.toBe(mb[2])
    expect(ma[1]).not.toBe(ma[2])
  })

  it("connectionRandom keeps a label per client connection, separately for by and for", () => {
    const stamp = Forwarded.make({ by: Forwarded.connectionRandom, for: Forwarded.connectionRandom, random: seeded(2) })
    const labels = (remote: string) => {
      const r = req({ remote })
      stamp(r, local)
      const m = /^by=(_\w{6});for=(_\w{6});host=web$/.exec(stampOf(r)!)
      expect(m).not.toBeNull()
      return { by: m![1], for: m![2] }
    }
    const first = labels("10.0.0.9:50000")
    expect(labels("10.0.0.9:50000")).toEqual(first)
    const other = labels("10.0.0.9:50001")
    expect(other.for).not.toBe(first.for)
    expect(other.by).not.toBe(first.by)
    expect(first.by).not.toBe(first.for)
  })

  it("connectionRandom forgets the least recently used connections beyond its bound", () => {
    const stamp = Forwarded.make({ for: Forwarded.connectionRandom, by: Forwarded.staticLabel("p"), connections: 2 })
    const forOf = (remote: string) => {
      const r = req({ remote })
      stamp(r, local)
      return /for=(_\w+)/.exec(stampOf(r)!)![1]
    }
    const a = forOf("10.0.0.1:1")
    const b = forOf("10.0.0.1:2")
    expect(forOf("10.0.0.1:1")).toBe(a) // a is now the most recent
    forOf("10.0.0.1:3") // evicts b
    expect(forOf("10.0.0.1:1")).toBe(a)
    expect(forOf("10.0.0.1:2")).not.toBe(b)
  })

  it("static labels, unknown peers, absolute-form URIs and earlier elements", () => {
    const stamp = Forwarded.make({ by: Forwarded.router("edge"), for: Forwarded.requestRandom })
    const noPeer = req()
    stamp(noPeer, local)
    expect(stampOf(noPeer)).toBe("by=_edge;for=unknown;host=web")
    const absolute = req({
      url: "HTTP://user@web.example:8080/p?q",
      headers: { host: "ignored", forwarded: "for=192.0.2.60;proto=https" },
      remote: "10.0.0.9:50000"
    })
    stamp(absolute, local)
    expect(stampOf(absolute)).toMatch(
      /^for=192\.0\.2\.60;proto=https, by=_edge;for=_[A-Za-z0-9]{6};host="web\.example:8080";proto=http$/
    )
    const noHost = req({ headers: {}, remote: "10.0.0.9:50000" })
    Forwarded.make({ by: Forwarded.ip, for: Forwarded.ip })(noHost, local)
    expect(stampOf(noHost)).toBe("by=127.0.0.1;for=10.0.0.9")
  })
})

describe("Forwarded through a router", () => {
  // issue 16: the client's `Connection: forwarded` used to strip the element this hop had just added
  it.live("a client's Connection-listed headers are dropped before weir stamps its own", () =>
    Effect.gen(function*() {
      const b = yield* textBackend("ok")
      const parsed = Config.parse(`
admin: {port: 0}
routers:
- protocol: http
  label: edge
  dtab: /svc/web => /$/inet/127.0.0.1/${b.port};
  servers:
  - {port: 0, addForwardedHeader: {by: {kind: router}, for: {kind: static, label: client}}, timestampHeader: x-ts}
`)
      if (Result.isFailure(parsed)) throw new Error(JSON.stringify(parsed.failure))
      yield* Effect.scoped(Effect.gen(function*() {
        const linker = yield* Linker.make(parsed.success)
        const port = linker.routers[0]!.servers[0]!.port
        const reply = yield* sendE(port, {
          headers: {
            host: "web",
            connection: "forwarded, x-ts, x-secret",
            forwarded: "for=spoofed",
            "x-secret": "hop",
            "x-kept": "end"
          }
        })
        expect(reply.status).toBe(200)
      }))
      expect(b.seen.length).toBe(1)
      const seen = b.seen[0]!.headers
      // the client's own Forwarded was hop-by-hop by its Connection header: gone; this hop's is there
      expect(seen["forwarded"]).toBe("by=_edge;for=_client;host=web")
      expect(seen["x-ts"]).toMatch(/^\d+$/)
      expect(seen["x-secret"]).toBeUndefined()
      expect(seen["x-kept"]).toBe("end")
    }))
})
