import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import * as NamerdConfig from "../../src/namerd/Config.js"
import * as EtcdStore from "../../src/namerd/EtcdStore.js"
import * as Namerd from "../../src/namerd/Namerd.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Stats from "../../src/Stats.js"
import { waitFor } from "../support/poll.js"
import * as Etcd from "./etcd.js"
import { request, waitLines, watch } from "./support.js"

const etcd = Effect.acquireRelease(Effect.promise(Etcd.start), (e) => Effect.promise(e.close))

const namerdOn = (port: number) => {
  const r = NamerdConfig.decode({
    admin: { port: 0 },
    storage: { kind: "io.l5d.etcd", host: "127.0.0.1", port },
    interfaces: [{ kind: "io.l5d.httpController", port: 0 }]
  })
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return Effect.map(Namerd.make(r.success), (n) => n.interfaces[0]!.port)
}

const dtabHeaders = { "content-type": "application/dtab" }

describe("namerd io.l5d.etcd on a real etcd", () => {
  it.live("a dtab changed through one namerd is served, and watched, by another", () =>
    Effect.gen(function*() {
      const server = yield* etcd
      const a = yield* namerdOn(server.port)
      const b = yield* namerdOn(server.port)
      const created = yield* request(a, "POST", "/api/1/dtabs/default", { headers: dtabHeaders, body: "/svc => /a" })
      expect(created.status).toBe(204)
      const w = yield* watch(b, "/api/1/dtabs/default?watch=true")
      yield* waitLines(w, 1, "namerd b to see the dtab created through a")
      expect(w.lines[0]).toEqual([{ prefix: "/svc", dst: "/a" }])
      const got = yield* request(b, "GET", "/api/1/dtabs/default")
      const etag = String(got.headers.etag)
      expect((yield* request(a, "GET", "/api/1/dtabs/default")).headers.etag).toBe(etag)

      const updated = yield* request(a, "PUT", "/api/1/dtabs/default", {
        headers: { ...dtabHeaders, "if-match": etag },
        body: "/svc => /b"
      })
      expect(updated.status).toBe(204)
      yield* waitLines(w, 2, "namerd b to see the update made through a")
      expect(w.lines[1]).toEqual([{ prefix: "/svc", dst: "/b" }])
      const stale = yield* request(b, "PUT", "/api/1/dtabs/default", {
        headers: { ...dtabHeaders, "if-match": etag },
        body: "/svc => /lost"
      })
      expect(stale.status).toBe(412)
      expect((yield* request(b, "POST", "/api/1/dtabs/default", { headers: dtabHeaders, body: "/x=>/y" })).status)
        .toBe(409)
      expect(JSON.parse((yield* request(b, "GET", "/api/1/dtabs")).body)).toEqual(["default"])
      expect((yield* request(b, "DELETE", "/api/1/dtabs/default")).status).toBe(204)
      let status = 200
      for (let i = 0; i < 100 && status !== 404; i++) {
        status = (yield* request(a, "GET", "/api/1/dtabs/default")).status
        if (status !== 404) yield* Effect.sleep("20 millis")
      }
      expect(status).toBe(404)
      expect((yield* request(a, "DELETE", "/api/1/dtabs/default")).status).toBe(404)
    }), 30_000)

  it.live(
    "concurrent read-modify-write updates through two namerds: a stale If-Match gets 412, no update is lost",
    () =>
      Effect.gen(function*() {
        const server = yield* etcd
        const a = yield* namerdOn(server.port)
        const b = yield* namerdOn(server.port)
        yield* request(a, "POST", "/api/1/dtabs/counter", { headers: dtabHeaders, body: "" })
        // ten writers, each appending its own dentry with read-modify-write and retrying on 412
        const writer = (i: number) =>
          Effect.gen(function*() {
            let conflicts = 0
            for (;;) {
              const port = i % 2 === 0 ? a : b
              const got = yield* request(port, "GET", "/api/1/dtabs/counter", {
                headers: { accept: "application/dtab" }
              })
              const next = got.body.trim() + (got.body.trim() === "" ? "" : ";") + `/w${i}=>/done`
              const put = yield* request(port, "PUT", "/api/1/dtabs/counter", {
                headers: { ...dtabHeaders, "if-match": String(got.headers.etag) },
                body: next
              })
              if (put.status === 204) return conflicts
              expect(put.status).toBe(412)
              conflicts++
            }
          })
        const conflicts = yield* Effect.forEach([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], writer, { concurrency: "unbounded" })
        const final = yield* request(a, "GET", "/api/1/dtabs/counter", { headers: { accept: "application/dtab" } })
        const dtab = Dtab.parseUnsafe(final.body)
        expect(dtab.dentries.length).toBe(10)
        expect(conflicts.reduce((x, y) => x + y, 0)).toBeGreaterThan(0)
      }),
    60_000
  )

  it.live(
    "the store's watch resumes after etcd restarts and catches up with writes made meanwhile",
    () =>
      Effect.gen(function*() {
        const server = yield* etcd
        const stats = Stats.makeInMemory()
        const store = yield* EtcdStore.make({ host: "127.0.0.1", port: server.port, stats })
        const other = yield* EtcdStore.make({ host: "127.0.0.1", port: server.port })
        yield* store.create("ns", Dtab.parseUnsafe("/a=>/b"))
        const seen: Array<string> = []
        yield* Effect.forkScoped(
          Stream.runForEach(
            store.observe("ns"),
            (o) => Effect.sync(() => seen.push(Option.isSome(o) ? Dtab.show(o.value.dtab) : "none"))
          )
        )
        yield* waitFor(() => seen.length === 1, "the first dtab")
        yield* Effect.promise(server.restart)
        yield* other.put("ns", Dtab.parseUnsafe("/a=>/c"))
        yield* waitFor(() => seen.includes("/a=>/c"), "the write made through another client after the restart")
        expect(seen[0]).toBe("/a=>/b")
        expect(stats.counterValue("etcd/watch_errors")).toBeGreaterThan(0)
        yield* waitFor(() => stats.gaugeValues().get("etcd/connected") === 1, "the watch to count as connected again")
      }),
    60_000
  )
})
