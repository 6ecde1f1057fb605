import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { Path } from "../../src/index.js"
import * as Serversets from "../../src/namers/Serversets.js"
import type * as ChildrenNamer from "../../src/namers/zk/ChildrenNamer.js"
import * as ZkClient from "../../src/namers/zk/Client.js"
import * as Stats from "../../src/Stats.js"
import { waitFor } from "../support/poll.js"
import { follow, member, zkWriter, zookeeper } from "./zk-support.js"
import * as ZooKeeper from "./zookeeper.js"

const withStats = <A, E, R>(f: (stats: Stats.InMemory) => Effect.Effect<A, E, R>) => {
  const stats = Stats.makeInMemory()
  return Effect.provideService(f(stats), Stats.Receiver, stats)
}

describe("io.l5d.serversets against a real ZooKeeper", () => {
  it.live(
    "a member added, changed and removed reaches the answer; prefixes, endpoints and shards",
    () =>
      withStats((stats) =>
        Effect.gen(function*() {
          const zk = yield* zookeeper
          const w = yield* zkWriter(zk.connectString)
          const namer = yield* Serversets.make({ connectString: zk.connectString, sessionTimeout: "2 seconds" })
          yield* Effect.promise(() => w.create("/discovery/prod/web/member_0000000001", member("127.0.0.1", 8080)))
          const s = yield* follow(namer, "/discovery/prod/web/extra")
          yield* waitFor(() => s.addrs === "127.0.0.1:8080", "the first member")
          expect(s.tree).toBe("/discovery/prod/web /extra")

          yield* Effect.promise(() =>
            w.create(
              "/discovery/prod/web/member_0000000002",
              member("127.0.0.2", 8081, { additionalEndpoints: { admin: { host: "127.0.0.2", port: 9990 } }, shard: 2 })
            )
          )
          yield* waitFor(() => s.addrs === "127.0.0.1:8080,127.0.0.2:8081", "the added member")
          yield* Effect.promise(() => w.set("/discovery/prod/web/member_0000000001", member("127.0.0.1", 8090)))
          yield* waitFor(() => s.addrs === "127.0.0.1:8090,127.0.0.2:8081", "the changed member")
          yield* Effect.promise(() =>
            w.set("/discovery/prod/web/member_0000000001", member("127.0.0.1", 8090, { status: "DEAD" }))
          )
          yield* waitFor(() => s.addrs === "127.0.0.2:8081", "the dead member left out")
          yield* Effect.promise(() => w.remove("/discovery/prod/web/member_0000000002"))
          yield* waitFor(() => s.tree === "neg", "no member left: negative")

          yield* Effect.promise(() =>
            w.create(
              "/discovery/prod/api/member_0000000001",
              member("127.0.0.3", 80, { additionalEndpoints: { admin: { host: "127.0.0.3", port: 9990 } }, shard: 1 })
            )
          )
          yield* Effect.promise(() =>
            w.create("/discovery/prod/api/member_0000000002", member("127.0.0.4", 80, { shard: 2 }))
          )
          yield* Effect.promise(() => w.create("/discovery/prod/api/member_0000000003", "{not json"))
          const admin = yield* follow(namer, "/discovery/prod/api:admin")
          const shard2 = yield* follow(namer, "/discovery/prod/api#2")
          yield* waitFor(
            () => admin.addrs === "127.0.0.3:9990" && shard2.addrs === "127.0.0.4:80",
            "endpoint and shard"
          )
          expect(admin.tree).toBe("/discovery/prod/api:admin /")

          const none = yield* follow(namer, "/nowhere/at/all")
          yield* waitFor(() => none.tree !== "", "an answer for a missing path")
          expect(none.tree).toBe("neg")
          yield* Effect.promise(() => w.create("/nowhere/member_0000000001", member("127.0.0.5", 1)))
          yield* waitFor(() => none.tree === "/nowhere /at/all" && none.addrs === "127.0.0.5:1", "a created prefix")

          expect(stats.counterValue("namer/#/io.l5d.serversets/lookups")).toBeGreaterThanOrEqual(4)
          expect(stats.counterValue("namer/#/io.l5d.serversets/updates")).toBeGreaterThan(4)
          const state = (yield* namer.state!) as ChildrenNamer.ZkNamerState
          expect(state.zookeeper.connected).toBe(true)
          expect(state.watches["/discovery/prod/api"]).toMatchObject({ state: "ok", exists: true, entries: 2 })
          expect((yield* namer.enumerate!).map(Path.show)).toContain("/discovery/prod/api")
        })
      ),
    { timeout: 120_000 }
  )

  it.live(
    "ZooKeeper stopped: the last answer is kept, stale in metrics and state; restarted: watches resume",
    () =>
      withStats((stats) =>
        Effect.gen(function*() {
          const zk = yield* zookeeper
          const w = yield* zkWriter(zk.connectString)
          const namer = yield* Serversets.make({ connectString: zk.connectString, sessionTimeout: "4 seconds" })
          yield* Effect.promise(() => w.create("/svc/web/member_0000000001", member("127.0.0.1", 8080)))
          const s = yield* follow(namer, "/svc/web")
          yield* waitFor(() => s.addrs === "127.0.0.1:8080", "the first answer")
          const watch = () => Effect.map(namer.state!, (x) => (x as ChildrenNamer.ZkNamerState).watches["/svc/web"]!)

          yield* Effect.promise(() => zk.stop())
          let info = yield* watch()
          for (let i = 0; i < 250 && info.state !== "stale"; i++) {
            yield* Effect.sleep("20 millis")
            info = yield* watch()
          }
          expect(info.state).toBe("stale")
          expect(info.error).toContain("not reachable")
          expect(s.addrs).toBe("127.0.0.1:8080")
          expect(s.tree).toBe("/svc/web /")
          expect(s.failed).toBe("")
          expect(stats.counterValue("namer/#/io.l5d.serversets/stale")).toBe(1)
          expect(stats.gaugeValues().get("namer/#/io.l5d.serversets/stale_watches")).toBe(1)

          yield* Effect.promise(() => zk.restart())
          yield* waitFor(() => Effect.runSync(watch()).state === "ok", "fresh again", 1500)
          expect(stats.gaugeValues().get("namer/#/io.l5d.serversets/stale_watches")).toBe(0)
          yield* Effect.promise(() => w.create("/svc/web/member_0000000002", member("127.0.0.2", 8080)))
          yield* waitFor(() => s.addrs === "127.0.0.1:8080,127.0.0.2:8080", "a member added after the restart", 1500)
        })
      ),
    { timeout: 120_000 }
  )

  it.live("session expired: a new session is opened and the watches are re-armed on it", () =>
    Effect.gen(function*() {
      const zk = yield* zookeeper
      const w = yield* zkWriter(zk.connectString)
      const client = yield* ZkClient.make({ connectString: zk.connectString, sessionTimeout: "2 seconds" })
      const namer = yield* Serversets.make({ connectString: zk.connectString, client })
      yield* Effect.promise(() => w.create("/svc/api/member_0000000001", member("127.0.0.1", 1)))
      const s = yield* follow(namer, "/svc/api")
      yield* waitFor(() => s.addrs === "127.0.0.1:1", "the first answer")
      expect(((yield* namer.state!) as ChildrenNamer.ZkNamerState).zookeeper.sessions).toBe(1)
      const sessionsBefore = client.info().sessions
      yield* Effect.promise(() =>
        ZooKeeper.expireSession(zk.connectString, client.credentials, () => client.info().sessions > sessionsBefore)
      )
      yield* waitFor(
        () => (Effect.runSync(namer.state!) as ChildrenNamer.ZkNamerState).zookeeper.sessions >= 2,
        "a new session",
        1500
      )
      yield* Effect.promise(() => w.create("/svc/api/member_0000000002", member("127.0.0.2", 2)))
      yield* waitFor(() => s.addrs === "127.0.0.1:1,127.0.0.2:2", "a member added on the new session", 1500)
    }), { timeout: 120_000 })
})
