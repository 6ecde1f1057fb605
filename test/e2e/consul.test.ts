import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { sendE, textBackend } from "../http/support.js"
import * as ConsulFake from "../namers/consul-fake.js"

const until = (port: number, host: string, want: string) =>
  Effect.gen(function*() {
    let body = ""
    for (let i = 0; i < 100 && body !== want; i++) {
      const r = yield* Effect.exit(sendE(port, { headers: { host } }))
      body = r._tag === "Success" ? r.value.body : ""
      if (body !== want) yield* Effect.sleep("20 millis")
    }
    return body
  })

describe("io.l5d.consul through a router (fake Consul following its documented HTTP API)", () => {
  it.live(
    "routes to the service's instances, follows changes, keeps routing through 5XX, falls back when gone",
    () =>
      Effect.gen(function*() {
        const consul = yield* Effect.acquireRelease(
          Effect.promise(() => ConsulFake.start()),
          (c) => Effect.promise(() => c.close())
        )
        const one = yield* textBackend("one")
        const two = yield* textBackend("two")
        const fallback = yield* textBackend("fallback")
        consul.set("web", [{ node: "n1", address: "127.0.0.1", port: one.port }])
        const decoded = Config.parse(`
admin: {port: 0}
namers:
- kind: io.l5d.consul
  host: 127.0.0.1
  port: ${consul.port}
  useHealthCheck: true
routers:
- protocol: http
  dtab: |
    /svc => /$/inet/127.0.0.1/${fallback.port} ;
    /svc => /#/io.l5d.consul/.local ;
  servers: [{port: 0}]
`)
        if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
        const linker = yield* Linker.make(decoded.success)
        const port = linker.routers[0]!.servers[0]!.port
        expect(yield* until(port, "web", "one")).toBe("one")
        consul.set("web", [{ node: "n2", address: "127.0.0.1", port: two.port }])
        expect(yield* until(port, "web", "two")).toBe("two")

        consul.failNext(1_000_000, 502)
        consul.set("web", [{ node: "n1", address: "127.0.0.1", port: one.port }])
        let stale = 0
        for (let i = 0; i < 250 && stale === 0; i++) {
          yield* Effect.sleep("20 millis")
          stale = linker.registry.gaugeValues().get("namer/#/io.l5d.consul/stale_watches") ?? 0
        }
        expect(stale).toBe(1)
        expect((yield* sendE(port, { headers: { host: "web" } })).body).toBe("two")
        consul.failNext(0)
        expect(yield* until(port, "web", "one")).toBe("one")

        consul.set("web", [{ node: "n1", address: "127.0.0.1", port: one.port, checks: [{ Status: "critical" }] }])
        expect(yield* until(port, "web", "fallback")).toBe("fallback")
        const state = (yield* Effect.promise(() =>
          fetch(`http://127.0.0.1:${linker.admin.port}/namer_state/io.l5d.consul.json`).then((r) => r.json())
        )) as { watches: Record<string, { state: string; instances: number }> }
        expect(state.watches["/.local/web"]).toMatchObject({ state: "ok", instances: 1 })
      }),
    { timeout: 60_000 }
  )
})
