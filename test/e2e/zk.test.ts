import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { sendE, textBackend } from "../http/support.js"
import { member, zkWriter, zookeeper } from "../namers/zk-support.js"
import { waitFor } from "../support/poll.js"

/** Sends until the body is `want` (bounded: 50 tries 20 ms apart, one second). */
const until = (port: number, host: string, want: string) =>
  Effect.gen(function*() {
    let body = ""
    for (let i = 0; i < 50 && body !== want; i++) {
      const r = yield* Effect.exit(sendE(port, { headers: { host } }))
      body = r._tag === "Success" ? r.value.body : `error ${String(r.cause)}`
      if (body !== want) yield* Effect.sleep("20 millis")
    }
    return body
  })

describe("io.l5d.serversets through a router, on a real ZooKeeper", () => {
  it.live(
    "members added, changed and removed reach routing within a second; ZooKeeper stopped keeps routing",
    () =>
      Effect.gen(function*() {
        const zk = yield* zookeeper
        const w = yield* zkWriter(zk.connectString)
        const one = yield* textBackend("one")
        const two = yield* textBackend("two")
        const fallback = yield* textBackend("fallback")
        yield* Effect.promise(() => w.create("/discovery/web/member_0000000001", member("127.0.0.1", one.port)))
        const decoded = Config.parse(`
admin: {port: 0}
namers:
- kind: io.l5d.serversets
  zkAddrs: [{host: 127.0.0.1, port: ${zk.port}}]
routers:
- protocol: http
  dtab: |
    /svc => /$/inet/127.0.0.1/${fallback.port} ;
    /svc => /#/io.l5d.serversets/discovery ;
  servers: [{port: 0}]
`)
        if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
        const linker = yield* Linker.make(decoded.success)
        const port = linker.routers[0]!.servers[0]!.port
        expect(yield* until(port, "web", "one")).toBe("one")

        yield* Effect.promise(() => w.set("/discovery/web/member_0000000001", member("127.0.0.1", two.port)))
        expect(yield* until(port, "web", "two")).toBe("two")
        yield* Effect.promise(() => w.remove("/discovery/web/member_0000000001"))
        yield* Effect.promise(() => w.remove("/discovery/web"))
        expect(yield* until(port, "web", "fallback")).toBe("fallback")
        yield* Effect.promise(() => w.create("/discovery/web/member_0000000002", member("127.0.0.1", one.port)))
        expect(yield* until(port, "web", "one")).toBe("one")

        yield* Effect.promise(() => zk.stop())
        const stale = () => linker.registry.gaugeValues().get("namer/#/io.l5d.serversets/stale_watches") ?? 0
        yield* waitFor(() => stale() > 0, "the answer marked stale")
        expect((yield* sendE(port, { headers: { host: "web" } })).body).toBe("one")
        const state = (yield* Effect.promise(() =>
          fetch(`http://127.0.0.1:${linker.admin.port}/namer_state/io.l5d.serversets.json`).then((r) => r.json())
        )) as {
          watches: Record<string, { state: string }>
        }
        expect(state.watches["/discovery/web"]!.state).toBe("stale")

        yield* Effect.promise(() =>
          zk.restart()
        )
        yield* waitFor(() => stale() === 0, "fresh again", 1500)
        yield* Effect.promise(() => w.set("/discovery/web/member_0000000002", member("127.0.0.1", two.port)))
        expect(yield* until(port, "web", "two")).toBe("two")
      }),
    { timeout: 120_000 }
  )
})
