import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import * as Zk from "node-zookeeper-client"
import * as NamerdConfig from "../../src/namerd/Config.js"
import * as Namerd from "../../src/namerd/Namerd.js"
import * as ZkStore from "../../src/namerd/ZkStore.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Stats from "../../src/Stats.js"
import { waitFor } from "../support/poll.js"
import { request, waitLines, watch } from "./support.js"
import * as ZooKeeper from "./zookeeper.js"

const zookeeper = Effect.acquireRelease(Effect.promise(ZooKeeper.start), (z) => Effect.promise(z.close))
const zkAddrs = (port: number) => [{ host: "127.0.0.1", port }]
const dtabHeaders = { "content-type": "application/dtab" }

const namerdOn = (port: number) => {
  const r = NamerdConfig.decode({
    admin: { port: 0 },
    storage: { kind: "io.l5d.zk", zkAddrs: zkAddrs(port), sessionTimeoutMs: 2000 },
    interfaces: [{ kind: "io.l5d.httpController", port: 0 }]
  })
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return Effect.map(Namerd.make(r.success), (n) => n.interfaces[0]!.port)
}

const shown = (o: Option.Option<{ readonly dtab: Dtab.Dtab }>) => Option.isSome(o) ? Dtab.show(o.value.dtab) : "none"

describe("namerd io.l5d.zk on a real ZooKeeper", () => {
  it.live("CRUD with versions through two namerds, and watches", () =>
    Effect.gen(function*() {
      const zk = yield* zookeeper
      const a = yield* namerdOn(zk.port)
      const b = yield* namerdOn(zk.port)
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
      expect(JSON.parse((yield* request(a, "GET", "/api/1/dtabs")).body)).toEqual(["default"])
      expect((yield* request(a, "DELETE", "/api/1/dtabs/default")).status).toBe(204)
      expect((yield* request(a, "DELETE", "/api/1/dtabs/default")).status).toBe(404)
      expect(
        (yield* request(a, "PUT", "/api/1/dtabs/default", {
          headers: { ...dtabHeaders, "if-match": etag },
          body: "/svc=>/lost"
        })).status
      ).toBe(404)
    }), 60_000)

  it.live(
    "keeps serving across a ZooKeeper restart, and its watches see changes made after it",
    () =>
      Effect.gen(function*() {
        const zk = yield* zookeeper
        const store = yield* ZkStore.make({ zkAddrs: zkAddrs(zk.port), sessionTimeout: "4 seconds" })
        yield* store.create("ns", Dtab.parseUnsafe("/a=>/b"))
        const seen: Array<string> = []
        yield* Effect.forkScoped(
          Stream.runForEach(store.observe("ns"), (o) => Effect.sync(() => seen.push(shown(o))))
        )
        yield* waitFor(() => seen.length === 1, "the first dtab")
        yield* Effect.promise(zk.stop)
        expect(Option.isSome(Option.flatten(yield* Stream.runHead(store.observe("ns"))))).toBe(true)
        yield* Effect.promise(zk.restart)
        const other = yield* ZkStore.make({ zkAddrs: zkAddrs(zk.port) })
        yield* other.put("ns", Dtab.parseUnsafe("/a=>/c"))
        yield* waitFor(() => seen.includes("/a=>/c"), "the change made after the restart", 500)
        expect(seen[0]).toBe("/a=>/b")
      }),
    60_000
  )

  it.live(
    "opens a new session once the connection is lost for longer than the session timeout, and catches up",
    () =>
      Effect.gen(function*() {
        const zk = yield* zookeeper
        const stats = Stats.makeInMemory()
        const store = yield* ZkStore.make({ zkAddrs: zkAddrs(zk.port), sessionTimeout: "1 second", stats })
        yield* store.create("ns", Dtab.parseUnsafe("/a=>/b"))
        const seen: Array<string> = []
        yield* Effect.forkScoped(
          Stream.runForEach(store.observe("ns"), (o) => Effect.sync(() => seen.push(shown(o))))
        )
        yield* waitFor(() => seen.length === 1, "the first dtab")
        yield* Effect.promise(zk.stop)
        yield* waitFor(() => stats.counterValue("zk/session_expirations") > 0, "the session to be given up")
        yield* Effect.promise(zk.restart)
        const other = yield* ZkStore.make({ zkAddrs: zkAddrs(zk.port) })
        yield* other.put("ns", Dtab.parseUnsafe("/a=>/d"))
        yield* waitFor(() => seen.includes("/a=>/d"), "the change seen through the new session", 750)
        expect(stats.gaugeValues().get("zk/connected")).toBe(1)
      }),
    60_000
  )

  it.live(
    "survives ZooKeeper expiring its session: a new session, watches re-established",
    () =>
      Effect.gen(function*() {
        const zk = yield* zookeeper
        const stats = Stats.makeInMemory()
        const sessions: Array<Zk.Client> = []
        const store = yield* ZkStore.make({
          zkAddrs: zkAddrs(zk.port),
          sessionTimeout: "4 seconds",
          stats,
          onSession: (c) => sessions.push(c)
        })
        yield* store.create("ns", Dtab.parseUnsafe("/a=>/b"))
        const seen: Array<string> = []
        yield* Effect.forkScoped(
          Stream.runForEach(store.observe("ns"), (o) => Effect.sync(() => seen.push(shown(o))))
        )
        yield* waitFor(() => seen.length === 1, "the first dtab")
        // another client takes over the session and closes it at once: ZooKeeper ends the session for
        // good (retried: the store's client may win the session back before the close is sent)
        const first = sessions[0]!
        for (let attempt = 0; attempt < 10 && stats.counterValue("zk/session_expirations") === 0; attempt++) {
          yield* Effect.promise(() =>
            new Promise<void>((resolve) => {
              const impostor = Zk.createClient(`127.0.0.1:${zk.port}`, {
                sessionId: first.getSessionId(),
                sessionPassword: first.getSessionPassword(),
                sessionTimeout: 4000
              } as Partial<Zk.Option>)
              const done = () => {
                clearTimeout(timer)
                impostor.close()
                resolve()
              }
              const timer = setTimeout(done, 2000)
              impostor.once("connected", done)
              impostor.once("expired", done)
              impostor.connect()
            })
          )
          for (let i = 0; i < 50 && stats.counterValue("zk/session_expirations") === 0; i++) {
            yield* Effect.sleep("20 millis")
          }
        }
        expect(stats.counterValue("zk/session_expirations")).toBeGreaterThan(0)
        expect(sessions.length).toBe(2)
        expect(sessions[1]!.getSessionId().equals(first.getSessionId())).toBe(false)
        const other = yield* ZkStore.make({ zkAddrs: zkAddrs(zk.port) })
        yield* other.put("ns", Dtab.parseUnsafe("/a=>/e"))
        yield* waitFor(() => seen.includes("/a=>/e"), "the change seen through the new session")
        yield* store.put("ns", Dtab.parseUnsafe("/a=>/f"))
        yield* waitFor(() => seen.includes("/a=>/f"), "a write through the new session")
      }),
    60_000
  )
})
