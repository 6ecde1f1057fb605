import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { Address, Name, Path } from "../../src/index.js"
import * as Consul from "../../src/namers/Consul.js"
import type * as Namer from "../../src/naming/Namer.js"
import * as Stats from "../../src/Stats.js"
import { waitFor } from "../support/poll.js"
import * as ConsulFake from "./consul-fake.js"

const fake = Effect.acquireRelease(Effect.promise(() => ConsulFake.start()), (c) => Effect.promise(() => c.close()))

/** Follows a lookup: tree shape and addresses (`ip:port*weight`). */
const follow = (namer: Namer.Namer, path: string) =>
  Effect.gen(function*() {
    const state = { tree: "", addrs: "" }
    yield* namer.lookup(Path.parseUnsafe(path)).pipe(
      Stream.tap((t) =>
        Effect.sync(() => {
          state.tree = t._tag === "Leaf" && t.value._tag === "Bound"
            ? `${Name.idString(t.value)} ${Path.show(t.value.residual)}`
            : t._tag.toLowerCase()
          if (t._tag !== "Leaf") state.addrs = ""
        })
      ),
      Stream.switchMap((t) =>
        t._tag === "Leaf" && t.value._tag === "Bound"
          ? Name.addresses(t.value)
          : Name.constant<ReadonlyArray<Address.Address>>([])
      ),
      Stream.runForEach((xs) =>
        Effect.sync(() => (state.addrs = xs.map((a) => `${Address.key(a)}*${a.weight}`).sort().join(",")))
      ),
      Effect.catch(() => Effect.void),
      Effect.forkChild
    )
    return state
  })

const withStats = <A, E, R>(f: (stats: Stats.InMemory) => Effect.Effect<A, E, R>) => {
  const stats = Stats.makeInMemory()
  return Effect.provideService(f(stats), Stats.Receiver, stats)
}

describe("io.l5d.consul against a fake Consul (Consul's documented HTTP API)", () => {
  it.live(
    "catalog: instances added and removed, tags, weights, service addresses; unknown service and dc are Neg",
    () =>
      Effect.gen(function*() {
        const consul = yield* fake
        consul.set("web", [{ node: "n1", address: "127.0.0.1", port: 8080, tags: ["canary"] }])
        const namer = yield* Consul.make({
          host: "127.0.0.1",
          port: consul.port,
          token: "s3cret",
          weights: [{ tag: "canary", weight: 0.25 }, { tag: "big", weight: 3 }],
          minBackoff: "10 millis"
        })
        const s = yield* follow(namer, "/.local/WEB/extra")
        yield* waitFor(() => s.addrs === "127.0.0.1:8080*0.25", "the first instance")
        expect(s.tree).toBe("/.local/web /extra")
        consul.set("web", [
          { node: "n1", address: "127.0.0.1", port: 8080, tags: ["canary", "big"] },
          { node: "n2", address: "127.0.0.9", serviceAddress: "127.0.0.2", port: 8081 }
        ])
        yield* waitFor(() => s.addrs === "127.0.0.1:8080*3,127.0.0.2:8081*1", "an instance added")
        consul.set("web", [])
        yield* waitFor(() => s.tree === "neg", "no instance: negative")
        consul.set("web", [{ node: "n2", address: "127.0.0.2", port: 9000 }])
        yield* waitFor(() => s.addrs === "127.0.0.2:9000*1", "back")

        const nope = yield* follow(namer, "/.local/nope")
        const otherDc = yield* follow(namer, "/dc9/web")
        yield* waitFor(() => nope.tree === "neg" && otherDc.tree === "neg", "negative answers")
        const blocking = consul.requests.filter((r) => r.query.get("index") !== null)
        expect(blocking.length).toBeGreaterThan(0)
        expect(blocking.every((r) => r.query.get("wait") === "300s")).toBe(true)
        expect(consul.requests.every((r) => r.headers["x-consul-token"] === "s3cret")).toBe(true)
        expect(JSON.stringify(yield* namer.state!)).not.toContain("s3cret")
      }),
    { timeout: 30_000 }
  )

  it.live(
    "includeTag and useHealthCheck: only the tag's instances with a health in healthStatuses",
    () =>
      Effect.gen(function*() {
        const consul = yield* fake
        consul.set("api", [
          { node: "n1", address: "127.0.0.1", port: 1, tags: ["v2"] },
          { node: "n2", address: "127.0.0.2", port: 2, tags: ["v2"], checks: [{ CheckID: "c", Status: "warning" }] },
          { node: "n3", address: "127.0.0.3", port: 3, tags: ["v1"] }
        ], "dc2")
        const namer = yield* Consul.make({
          host: "127.0.0.1",
          port: consul.port,
          includeTag: true,
          useHealthCheck: true,
          healthStatuses: ["passing", "warning"],
          minBackoff: "10 millis"
        })
        const s = yield* follow(namer, "/dc2/v2/api")
        yield* waitFor(() => s.addrs === "127.0.0.1:1*1,127.0.0.2:2*1", "passing and warning instances")
        expect(consul.requests.some((r) => r.path === "/v1/health/service/api" && r.query.get("tag") === "v2")).toBe(
          true
        )
        consul.set("api", [
          { node: "n1", address: "127.0.0.1", port: 1, tags: ["v2"], checks: [{ CheckID: "c", Status: "critical" }] },
          {
            node: "n2",
            address: "127.0.0.2",
            port: 2,
            tags: ["v2"],
            checks: [{ CheckID: "_service_maintenance:x", Status: "critical" }]
          },
          { node: "n4", address: "127.0.0.4", port: 4, tags: ["v2"] }
        ], "dc2")
        yield* waitFor(() => s.addrs === "127.0.0.4:4*1", "critical and maintenance left out")
        expect(Consul.healthOf([{ Status: "passing" }, { Status: "warning" }])).toBe("warning")
        expect(Consul.healthOf([{ CheckID: "_node_maintenance", Status: "critical" }])).toBe("maintenance")
      }),
    { timeout: 30_000 }
  )

  it.live(
    "an index that moves backwards is reset: the next query does not block, and updates keep coming",
    () =>
      Effect.gen(function*() {
        const consul = yield* fake
        for (let i = 0; i < 5; i++) consul.set("web", [{ node: "n", address: "127.0.0.1", port: 100 + i }])
        const namer = yield* Consul.make({ host: "127.0.0.1", port: consul.port, minBackoff: "10 millis" })
        const s = yield* follow(namer, "/.local/web")
        yield* waitFor(() => s.addrs === "127.0.0.1:104*1", "the first answer")
        yield* waitFor(() => consul.requests.some((r) => r.query.get("index") === String(consul.index())), "blocking")
        const before = consul.requests.length
        consul.resetIndex(1)
        yield* waitFor(
          () => consul.requests.slice(before).some((r) => r.query.get("index") === "1"),
          "blocking on the reset index"
        )
        const after = consul.requests.slice(before)
        expect(after[0]!.query.get("index")).toBeNull()
        consul.set("web", [{ node: "n", address: "127.0.0.1", port: 200 }])
        yield* waitFor(() => s.addrs === "127.0.0.1:200*1", "an update after the reset")
        const state = (yield* namer.state!) as Consul.ConsulState
        expect(state.watches["/.local/web"]!.index).toBe(2)
      }),
    { timeout: 30_000 }
  )

  it.live(
    "5XX and garbage answers keep the last good answer, stale in metrics and state; then it recovers",
    () =>
      withStats((stats) =>
        Effect.gen(function*() {
          const consul = yield* fake
          consul.set("web", [{ node: "n", address: "127.0.0.1", port: 1 }])
          const namer = yield* Consul.make({
            host: "127.0.0.1",
            port: consul.port,
            blockingWait: "1 second",
            minBackoff: "10 millis"
          })
          const s = yield* follow(namer, "/.local/web")
          yield* waitFor(() => s.addrs === "127.0.0.1:1*1", "the first answer")
          const watch = () => (Effect.runSync(namer.state!) as Consul.ConsulState).watches["/.local/web"]!

          consul.failNext(1_000_000, 503)
          consul.set("web", [{ node: "n", address: "127.0.0.1", port: 2 }])
          yield* waitFor(() => watch().state === "stale", "stale after 5XX", 250)
          expect(watch().error).toContain("503")
          expect(s.addrs).toBe("127.0.0.1:1*1")
          expect(stats.counterValue("namer/#/io.l5d.consul/stale")).toBe(1)
          expect(stats.gaugeValues().get("namer/#/io.l5d.consul/stale_watches")).toBe(1)
          consul.failNext(0)
          yield* waitFor(() => s.addrs === "127.0.0.1:2*1" && watch().state === "ok", "recovered", 500)

          consul.garbageNext(1_000_000)
          consul.set("web", [{ node: "n", address: "127.0.0.1", port: 3 }])
          yield* waitFor(() => watch().state === "stale", "stale after garbage", 250)
          expect(watch().error).toContain("cannot decode")
          expect(s.addrs).toBe("127.0.0.1:2*1")
          consul.garbageNext(0)
          yield* waitFor(() => s.addrs === "127.0.0.1:3*1" && watch().state === "ok", "recovered again", 500)
          expect(stats.counterValue("namer/#/io.l5d.consul/errors")).toBeGreaterThanOrEqual(2)
          expect(stats.gaugeValues().get("namer/#/io.l5d.consul/stale_watches")).toBe(0)
        })
      ),
    { timeout: 30_000 }
  )

  it.live("datacenter names .local; consistencyMode is sent", () =>
    Effect.gen(function*() {
      const consul = yield* fake
      consul.set("web", [{ node: "n", address: "127.0.0.7", port: 7 }], "dc3")
      const namer = yield* Consul.make({
        host: "127.0.0.1",
        port: consul.port,
        datacenter: "dc3",
        consistencyMode: "stale"
      })
      const s = yield* follow(namer, "/.local/web")
      yield* waitFor(() => s.addrs === "127.0.0.7:7*1", "the dc3 instance")
      expect(consul.requests.every((r) => r.query.get("dc") === "dc3" && r.query.has("stale"))).toBe(true)
    }), { timeout: 30_000 })

  it.live("a Consul that never answered: the lookup fails (no answer to keep)", () =>
    Effect.gen(function*() {
      const consul = yield* fake
      consul.failNext(1_000_000)
      const namer = yield* Consul.make({ host: "127.0.0.1", port: consul.port, minBackoff: "10 millis" })
      const states: Array<string> = []
      yield* namer.lookup(Path.parseUnsafe("/.local/web")).pipe(
        Stream.runDrain,
        Effect.catch((e) => Effect.sync(() => states.push(e.reason))),
        Effect.forkChild
      )
      yield* waitFor(() => states.length > 0, "a failure")
      expect(states[0]).toContain("500")
    }), { timeout: 30_000 })
})
