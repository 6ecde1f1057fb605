import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as NamerdConfig from "../../src/namerd/Config.js"
import * as Namerd from "../../src/namerd/Namerd.js"
import * as Fake from "./consul-kv-fake.js"
import { request, waitLines, watch } from "./support.js"

const fake = Effect.acquireRelease(Effect.promise(Fake.start), (f) => Effect.promise(f.close))
const dtabHeaders = { "content-type": "application/dtab" }

const namerdOn = (port: number) => {
  const r = NamerdConfig.decode({
    admin: { port: 0 },
    storage: { kind: "io.l5d.consul", host: "127.0.0.1", port, token: "secret" },
    interfaces: [{ kind: "io.l5d.httpController", port: 0 }]
  })
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return Effect.map(Namerd.make(r.success), (n) => n.interfaces[0]!.port)
}

describe("namerd io.l5d.consul (KV, fake Consul API)", () => {
  it.live("CRUD with check-and-set through two namerds, and blocking-query watches", () =>
    Effect.gen(function*() {
      const consul = yield* fake
      const a = yield* namerdOn(consul.port)
      const b = yield* namerdOn(consul.port)
      expect((yield* request(a, "POST", "/api/1/dtabs/default", { headers: dtabHeaders, body: "/svc=>/a" })).status)
        .toBe(204)
      expect((yield* request(b, "POST", "/api/1/dtabs/default", { headers: dtabHeaders, body: "/svc=>/x" })).status)
        .toBe(409)
      const w = yield* watch(b, "/api/1/dtabs/default?watch=true")
      yield* waitLines(w, 1, "namerd b to see the dtab created through a")
      const etag = String((yield* request(b, "GET", "/api/1/dtabs/default")).headers.etag)
      expect(
        (yield* request(b, "PUT", "/api/1/dtabs/default", {
          headers: { ...dtabHeaders, "if-match": etag },
          body: "/svc=>/b"
        })).status
      ).toBe(204)
      yield* waitLines(w, 2, "the watch to see the update")
      expect(w.lines[1]).toEqual([{ prefix: "/svc", dst: "/b" }])
      expect(
        (yield* request(a, "PUT", "/api/1/dtabs/default", {
          headers: { ...dtabHeaders, "if-match": etag },
          body: "/svc=>/lost"
        })).status
      ).toBe(412)
      expect(
        (yield* request(a, "PUT", "/api/1/dtabs/nope", {
          headers: { ...dtabHeaders, "if-match": etag },
          body: "/svc=>/lost"
        })).status
      ).toBe(404)
      expect((yield* request(a, "PUT", "/api/1/dtabs/other", { headers: dtabHeaders, body: "/x=>/y" })).status)
        .toBe(204)
      expect(JSON.parse((yield* request(b, "GET", "/api/1/dtabs")).body)).toEqual(["default", "other"])
      expect((yield* request(a, "DELETE", "/api/1/dtabs/default")).status).toBe(204)
      expect((yield* request(a, "DELETE", "/api/1/dtabs/default")).status).toBe(404)
      expect((yield* request(b, "GET", "/api/1/dtabs/default")).status).toBe(404)
      expect(consul.tokens.every((t) => t === "secret")).toBe(true)
    }))
})
