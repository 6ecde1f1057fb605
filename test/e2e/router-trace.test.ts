import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Headers from "../../src/http/Headers.js"
import * as Router from "../../src/http/Router.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Stats from "../../src/Stats.js"
import { sendE, textBackend } from "../http/support.js"

const inet = (port: number) => `/$/inet/127.0.0.1/${port}`

describe("Router trace context", () => {
  it.live("l5d-reqid is the root trace id on every hop; l5d-ctx-trace carries the caller's span", () =>
    Effect.gen(function*() {
      const app = yield* textBackend("app")
      const interpreter = yield* Interpreter.make()
      const inner = yield* Router.make({
        label: "inner",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(`/svc/app => ${inet(app.port)}`),
        interpreter,
        stats: Stats.makeInMemory()
      })
      const edge = yield* Router.make({
        label: "edge",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(`/svc/app => ${inet(inner.servers[0]!.port)}`),
        interpreter,
        stats: Stats.makeInMemory()
      })
      const direct = yield* sendE(inner.servers[0]!.port, { headers: { host: "app" } })
      expect(direct.status).toBe(200)
      const root = Headers.decodeTrace(String(app.seen[0]!.headers["l5d-ctx-trace"]))!
      expect(root.traceId).toBe(app.seen[0]!.headers["l5d-reqid"])
      expect(root.spanId).toBe(root.traceId)
      expect(root.parentId).toBe(root.traceId)

      expect((yield* sendE(edge.servers[0]!.port, { headers: { host: "app" } })).status).toBe(200)
      const seen = app.seen[1]!.headers
      const span = Headers.decodeTrace(String(seen["l5d-ctx-trace"]))!
      // two hops: the inner router's span is a child of the edge's, both in the edge's trace
      expect(span.traceId).toBe(seen["l5d-reqid"])
      expect(span.parentId).not.toBe(span.spanId)
      expect(span.parentId).toBe(span.traceId)
      expect(span.traceId).not.toBe(root.traceId)

      // a caller's span is continued; a malformed one starts a new trace
      const caller = {
        spanId: "00000000000000aa",
        parentId: "00000000000000bb",
        traceId: "1234567890abcdef",
        flags: "0000000000000006"
      }
      yield* sendE(inner.servers[0]!.port, { headers: { host: "app", "l5d-ctx-trace": Headers.encodeTrace(caller) } })
      const child = Headers.decodeTrace(String(app.seen[2]!.headers["l5d-ctx-trace"]))!
      expect(app.seen[2]!.headers["l5d-reqid"]).toBe("1234567890abcdef")
      expect(child).toMatchObject({
        traceId: "1234567890abcdef",
        parentId: "00000000000000aa",
        flags: "0000000000000006"
      })
      expect(child.spanId).not.toBe("00000000000000aa")
      yield* sendE(inner.servers[0]!.port, { headers: { host: "app", "l5d-ctx-trace": "not base64 at all" } })
      const fresh = Headers.decodeTrace(String(app.seen[3]!.headers["l5d-ctx-trace"]))!
      expect(fresh.parentId).toBe(fresh.traceId)
      expect(app.seen[3]!.headers["l5d-reqid"]).toBe(fresh.traceId)
    }))
})

describe("Headers trace codec", () => {
  it("round-trips 32- and 40-byte trace contexts and refuses other shapes", () => {
    const t = {
      spanId: "0102030405060708",
      parentId: "1112131415161718",
      traceId: "2122232425262728",
      flags: "0000000000000004"
    }
    expect(Headers.decodeTrace(Headers.encodeTrace(t))).toEqual({ ...t, traceIdHigh: undefined })
    const wide = { ...t, traceIdHigh: "3132333435363738" }
    expect(Headers.decodeTrace(Headers.encodeTrace(wide))).toEqual(wide)
    expect(Headers.decodeTrace("")).toBeUndefined()
    expect(Headers.decodeTrace(Buffer.alloc(16).toString("base64"))).toBeUndefined()
    expect(Headers.decodeTrace("!".repeat(44))).toBeUndefined()
  })
})
