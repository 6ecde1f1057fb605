import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { sendE, textBackend } from "../http/support.js"
import * as MarathonFake from "../namers/marathon-fake.js"

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

describe("io.l5d.marathon through a router (fake Marathon following its documented API)", () => {
  it.live(
    "routes to the app's healthy tasks, follows changes, falls back when the app is gone",
    () =>
      Effect.gen(function*() {
        const marathon = yield* Effect.acquireRelease(
          Effect.promise(() => MarathonFake.start()),
          (m) => Effect.promise(() => m.close())
        )
        const one = yield* textBackend("one")
        const two = yield* textBackend("two")
        const fallback = yield* textBackend("fallback")
        marathon.setApps([{
          id: "/web",
          healthChecks: true,
          tasks: [{ host: "127.0.0.1", port: one.port, alive: [true] }]
        }])
        const decoded = Config.parse(`
admin: {port: 0}
namers:
- kind: io.l5d.marathon
  host: 127.0.0.1
  port: ${marathon.port}
  ttlMs: 50
  useHealthCheck: true
routers:
- protocol: http
  dtab: |
    /svc => /$/inet/127.0.0.1/${fallback.port} ;
    /svc => /#/io.l5d.marathon ;
  servers: [{port: 0}]
`)
        if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
        const linker = yield* Linker.make(decoded.success)
        const port = linker.routers[0]!.servers[0]!.port
        expect(yield* until(port, "web", "one")).toBe("one")
        marathon.setApps([{
          id: "/web",
          healthChecks: true,
          tasks: [{ host: "127.0.0.1", port: one.port, alive: [false] }, {
            host: "127.0.0.1",
            port: two.port,
            alive: [true]
          }]
        }])
        expect(yield* until(port, "web", "two")).toBe("two")
        marathon.setApps([])
        expect(yield* until(port, "web", "fallback")).toBe("fallback")
      }),
    { timeout: 60_000 }
  )
})
