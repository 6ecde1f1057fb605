import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as ServersetsAnnouncer from "../../src/namers/ServersetsAnnouncer.js"
import * as ZkClient from "../../src/namers/zk/Client.js"
import { waitFor } from "../support/poll.js"
import { zkWriter, zookeeper } from "./zk-support.js"
import * as ZooKeeper from "./zookeeper.js"

describe("ServersetsAnnouncer against a real ZooKeeper", () => {
  it.live(
    "announces an ephemeral sequential member; re-announces after session expiry and deletion; withdraws on close",
    () =>
      Effect.gen(function*() {
        const zk = yield* zookeeper
        const w = yield* zkWriter(zk.connectString)
        const client = yield* ZkClient.make({ connectString: zk.connectString, sessionTimeout: "2 seconds" })
        const announcer = yield* ServersetsAnnouncer.make({ connectString: zk.connectString, client })
        const scope = yield* Scope.make()
        yield* announcer.announce("/discovery/api", "127.0.0.1", 8080).pipe(Scope.provide(scope))
        let members: Array<string> = []
        const poll = (cond: (xs: Array<string>) => boolean, what: string) =>
          waitFor(
            () => {
              void w.children("/discovery/api").then((xs) => (members = xs), () => (members = []))
              return cond(members)
            },
            what,
            1500
          )
        yield* poll((xs) => xs.length === 1, "the member")
        const first = members[0]!
        expect(first).toMatch(/^member_\d{10}$/)
        expect(announcer.announcements()).toEqual([
          { zkPath: "/discovery/api", host: "127.0.0.1", port: 8080, member: `/discovery/api/${first}` }
        ])

        const sessionsBefore = client.info().sessions

        yield* Effect.promise(() =>
          ZooKeeper.expireSession(zk.connectString, client.credentials, () => client.info().sessions > sessionsBefore)
        )
        yield* poll((xs) => xs.length === 1 && xs[0] !== first, "a member on the new session")
        expect(client.info().sessions).toBeGreaterThan(sessionsBefore)
        const second = members[0]!

        yield* Effect.promise(() => w.remove(`/discovery/api/${second}`))
        yield* poll((xs) => xs.length === 1 && xs[0] !== second, "the deleted member re-created")

        yield* Scope.close(scope, Exit.void)
        yield* poll((xs) => xs.length === 0, "withdrawn")
        expect(announcer.announcements()).toEqual([])
      }),
    { timeout: 120_000 }
  )

  it("member data is a serverset member", () => {
    expect(JSON.parse(ServersetsAnnouncer.memberData("10.0.0.1", 4140).toString())).toEqual({
      serviceEndpoint: { host: "10.0.0.1", port: 4140 },
      additionalEndpoints: {},
      status: "ALIVE"
    })
  })
})
