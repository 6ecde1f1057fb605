import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Curator from "../../src/namers/Curator.js"
import type * as ChildrenNamer from "../../src/namers/zk/ChildrenNamer.js"
import * as ZkLeader from "../../src/namers/ZkLeader.js"
import { waitFor } from "../support/poll.js"
import { follow, member, zkWriter, zookeeper } from "./zk-support.js"

const instance = (id: string, address: string, port: number | null, sslPort: number | null = null) =>
  JSON.stringify({
    name: "web",
    id,
    address,
    port,
    sslPort,
    payload: null,
    registrationTimeUTC: 0,
    serviceType: "DYNAMIC"
  })

describe("io.l5d.curator and io.l5d.zkLeader against a real ZooKeeper", () => {
  it.live(
    "curator: instances under basePath/<service> added, changed, removed; sslPort; garbage skipped",
    () =>
      Effect.gen(function*() {
        const zk = yield* zookeeper
        const w = yield* zkWriter(zk.connectString)
        const namer = yield* Curator.make({ connectString: zk.connectString, basePath: "/services" })
        yield* Effect.promise(() => w.create("/services/web/a1", instance("a1", "127.0.0.1", 8080)))
        const s = yield* follow(namer, "/web/extra")
        yield* waitFor(() => s.addrs === "127.0.0.1:8080", "the first instance")
        expect(s.tree).toBe("/web /extra")
        yield* Effect.promise(() => w.create("/services/web/a2", instance("a2", "127.0.0.2", null, 8443)))
        yield* Effect.promise(() => w.create("/services/web/a3", "garbage"))
        yield* waitFor(() => s.addrs === "127.0.0.1:8080,127.0.0.2:8443", "an ssl-only instance")
        yield* Effect.promise(() => w.set("/services/web/a1", instance("a1", "127.0.0.1", 9090)))
        yield* waitFor(() => s.addrs === "127.0.0.1:9090,127.0.0.2:8443", "a changed instance")
        yield* Effect.promise(() => w.remove("/services/web/a1"))
        yield* Effect.promise(() => w.remove("/services/web/a2"))
        yield* waitFor(() => s.tree === "neg", "no instance left")
        const state = (yield* namer.state!) as ChildrenNamer.ZkNamerState
        expect(state.kind).toBe("io.l5d.curator")
        expect(state.watches["/services/web"]).toMatchObject({ state: "ok", exists: true, entries: 0, invalid: 1 })
      }),
    { timeout: 120_000 }
  )

  it.live(
    "zkLeader: the lowest sequence number leads; the next takes over when it leaves",
    () =>
      Effect.gen(function*() {
        const zk = yield* zookeeper
        const w = yield* zkWriter(zk.connectString)
        const namer = yield* ZkLeader.make({ connectString: zk.connectString })
        yield* Effect.promise(() => w.create("/election/db/member_0000000003", "127.0.0.3:5432"))
        yield* Effect.promise(() => w.create("/election/db/member_0000000002", member("127.0.0.2", 5432)))
        yield* Effect.promise(() => w.create("/election/db/member_0000000001", "[::1]:5432"))
        const s = yield* follow(namer, "/election/db")
        yield* waitFor(() => s.addrs === "[::1]:5432", "the first leader")
        yield* Effect.promise(() => w.remove("/election/db/member_0000000001"))
        yield* waitFor(() => s.addrs === "127.0.0.2:5432", "the next leader")
        yield* Effect.promise(() => w.remove("/election/db/member_0000000002"))
        yield* waitFor(() => s.addrs === "127.0.0.3:5432", "the last leader")
        yield* Effect.promise(() => w.remove("/election/db/member_0000000003"))
        yield* waitFor(() => s.tree === "neg", "no candidate")
        expect(ZkLeader.candidateAddress("nonsense")).toBeUndefined()
        expect(ZkLeader.candidateAddress("h:70000")).toBeUndefined()
      }),
    { timeout: 120_000 }
  )
})
