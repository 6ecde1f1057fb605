import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import * as Headers from "../../src/http/Headers.js"
import * as TraceContext from "../../src/http/TraceContext.js"

const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
const span = "00f067aa0ba902b7"

describe("TraceContext W3C", () => {
  it("reads traceparent and tracestate", () => {
    expect(TraceContext.parseTraceparent(`00-${trace}-${span}-01`, "congo=t61rcWkgMzE")).toEqual({
      traceId: trace,
      spanId: span,
      sampled: true,
      debug: false,
      traceState: "congo=t61rcWkgMzE"
    })
    expect(TraceContext.parseTraceparent(`00-${trace}-${span}-00`)?.sampled).toBe(false)
  })

  it("refuses what the specification calls invalid", () => {
    for (
      const bad of [
        `ff-${trace}-${span}-01`,
        `00-${"0".repeat(32)}-${span}-01`,
        `00-${trace}-${"0".repeat(16)}-01`,
        `00-${trace.toUpperCase()}-${span}-01`,
        `00-${trace}-${span}-01-extra`,
        `00-${trace}-${span}`,
        `00-${trace.slice(1)}-${span}-01`,
        `0-${trace}-${span}-01`
      ]
    ) expect(TraceContext.parseTraceparent(bad)).toBeUndefined()
    expect(TraceContext.parseTraceparent(`01-${trace}-${span}-01-future`)?.traceId).toBe(trace)
  })

  it("round-trips through format", () =>
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9a-f]{32}$/).filter((s) => !/^0+$/.test(s)),
        fc.stringMatching(/^[0-9a-f]{16}$/).filter((s) => !/^0+$/.test(s)),
        fc.boolean(),
        (t, s, sampled) => {
          const c = TraceContext.parseTraceparent(TraceContext.formatTraceparent(t, s, sampled))
          expect(c).toEqual({ traceId: t, spanId: s, sampled, debug: false })
        }
      ),
      { seed: 7, numRuns: 200 }
    ))
})

describe("TraceContext B3", () => {
  it("reads the single header with and without sampling and parent", () => {
    expect(TraceContext.parseB3(`${trace}-${span}-1-05e3ac9a4f6e3b90`)).toEqual({
      traceId: trace,
      spanId: span,
      sampled: true,
      debug: false
    })
    expect(TraceContext.parseB3(`a3ce929d0e0e4736-${span}`)).toEqual({
      traceId: "0000000000000000a3ce929d0e0e4736",
      spanId: span,
      sampled: undefined,
      debug: false
    })
    expect(TraceContext.parseB3(`${trace}-${span}-d`)).toMatchObject({ sampled: true, debug: true })
    expect(TraceContext.parseB3(`${trace}-${span}-0`)?.sampled).toBe(false)
    for (const bad of ["0", "1", "d", `${trace}-${span}-x`, `${trace}`, `${trace}-${span}-1-zz`, "a-b"]) {
      expect(TraceContext.parseB3(bad)).toBeUndefined()
    }
  })

  it("reads the multi-header form", () => {
    const h: Record<string, string> = {
      "x-b3-traceid": trace,
      "x-b3-spanid": span,
      "x-b3-sampled": "0"
    }
    expect(TraceContext.parseB3Multi((n) => h[n])).toEqual({
      traceId: trace,
      spanId: span,
      sampled: false,
      debug: false
    })
    h["x-b3-flags"] = "1"
    expect(TraceContext.parseB3Multi((n) => h[n])).toMatchObject({ sampled: true, debug: true })
    expect(TraceContext.parseB3Multi((n) => (n === "x-b3-spanid" ? undefined : h[n]))).toBeUndefined()
  })
})

describe("TraceContext l5d-ctx-trace", () => {
  it("encodes a span as the base64 of its ids and flags, 32 bytes or 40 with a high trace id (property)", () => {
    const hex16 = fc.stringMatching(/^[0-9a-f]{16}$/)
    fc.assert(
      fc.property(hex16, hex16, hex16, hex16, fc.option(hex16, { nil: undefined }), (a, b, c, d, high) => {
        const id: Headers.TraceId = { spanId: a, parentId: b, traceId: c, flags: d, traceIdHigh: high }
        const encoded = Headers.encodeTrace(id)
        expect(encoded).toBe(Buffer.from(a + b + c + d + (high ?? ""), "hex").toString("base64"))
        expect(Headers.decodeTrace(encoded)).toEqual(id)
      }),
      { seed: 17, numRuns: 300 }
    )
  })

  it("reads Finagle's sampling flags and the 128-bit trace id", () => {
    const id: Headers.TraceId = {
      spanId: span,
      parentId: span,
      traceId: "a3ce929d0e0e4736",
      flags: TraceContext.l5dFlags(true),
      traceIdHigh: "4bf92f3577b34da6"
    }
    const decoded = Headers.decodeTrace(Headers.encodeTrace(id))!
    expect(TraceContext.fromL5d(decoded)).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: span,
      sampled: true,
      debug: false
    })
    expect(TraceContext.fromL5d({ ...id, flags: TraceContext.l5dFlags(undefined) }).sampled).toBeUndefined()
    expect(TraceContext.fromL5d({ ...id, flags: TraceContext.l5dFlags(false, true) })).toMatchObject({
      sampled: false,
      debug: true
    })
  })
})

describe("TraceContext.extract and inject", () => {
  it("prefers l5d-ctx-trace, then traceparent, then b3, then X-B3-*; ignores malformed values", () => {
    const all: Record<string, string> = {
      traceparent: `00-${trace}-${span}-01`,
      b3: `${"1".repeat(32)}-${"2".repeat(16)}-1`,
      "x-b3-traceid": "3".repeat(32),
      "x-b3-spanid": "4".repeat(16)
    }
    const get = (h: Record<string, string>) => (n: string) => h[n]
    expect(TraceContext.extract(get(all))?.format).toBe("w3c")
    expect(TraceContext.extract(get({ ...all, traceparent: "garbage" }))?.format).toBe("b3")
    expect(TraceContext.extract(get({ ...all, traceparent: "garbage", b3: "1" }))?.format).toBe("b3multi")
    expect(TraceContext.extract(get({}))).toBeUndefined()
    const l5d: Headers.TraceId = { spanId: span, parentId: span, traceId: span, flags: "0".repeat(16) }
    expect(TraceContext.extract(get(all), l5d)?.format).toBe("l5d")
  })

  it("writes every form, each readable back to the same span", () => {
    const headers: Record<string, string | Array<string> | undefined> = { "x-b3-flags": "1" }
    TraceContext.inject(headers, { traceId: trace, spanId: span, parentSpanId: "05e3ac9a4f6e3b90" }, true, "a=b")
    const get = (n: string) => headers[n] as string | undefined
    expect(TraceContext.parseTraceparent(get("traceparent")!, get("tracestate"))).toMatchObject({
      traceId: trace,
      spanId: span,
      sampled: true,
      traceState: "a=b"
    })
    expect(TraceContext.parseB3(get("b3")!)).toMatchObject({ traceId: trace, spanId: span, sampled: true })
    expect(TraceContext.parseB3Multi(get)).toMatchObject({ traceId: trace, spanId: span, sampled: true, debug: false })
    expect(headers["x-b3-parentspanid"]).toBe("05e3ac9a4f6e3b90")
  })
})
