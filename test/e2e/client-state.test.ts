/**
 * `/client_state.json` through a running proxy on loopback: a client balancing over two backends
 * (an fs namer file lists both) shows both endpoints with their load, weight, connections and
 * accrual state; once one backend is killed, the requests that reach it fail and its accrual state
 * turns `dead` while the other stays `alive`.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type * as ClientState from "../../src/proxy/ClientState.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { getUrl as get, textBackend } from "../http/support.js"

const parse = (yaml: string) => {
  const r = Config.parse(yaml)
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

const disco = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "weir-client-state-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

describe("/client_state.json", () => {
  it.live("shows each endpoint's balancer and accrual state; a killed backend turns dead", () =>
    Effect.gen(function*() {
      const a = yield* textBackend("a")
      const b = yield* textBackend("b")
      const dir = yield* disco
      writeFileSync(join(dir, "books"), `127.0.0.1 ${a.port}\n127.0.0.1 ${b.port}\n`)
      const linker = yield* Linker.make(parse(`
admin: {port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${dir}
routers:
- protocol: http
  label: web
  dtab: /svc => /#/io.l5d.fs
  servers: [{port: 0}]
  client:
    loadBalancer: {kind: roundRobin}
    failureAccrual:
      kind: io.l5d.consecutiveFailures
      failures: 1
      backoff: {kind: constant, ms: 600000}
`))
      const web = `http://127.0.0.1:${linker.routers[0]!.servers[0]!.port}/`
      const state = () =>
        Effect.map(get(`http://127.0.0.1:${linker.admin.port}/client_state.json`), (r) => {
          expect(r.status).toBe(200)
          return JSON.parse(r.body) as Record<string, ClientState.ClientJson>
        })

      // no client before the first request
      expect(yield* state()).toEqual({})
      for (let i = 0; i < 10; i++) expect((yield* get(web, { host: "books" })).status).toBe(200)
      expect(a.seen.length).toBeGreaterThan(0)
      expect(b.seen.length).toBeGreaterThan(0)
      const before = (yield* state())["/#/io.l5d.fs/books"]!
      expect(before.router).toBe("web")
      expect(before.balancer).toBe("roundRobin")
      const byAddress = (s: ClientState.ClientJson) => Object.fromEntries(s.endpoints.map((e) => [e.address, e]))
      const keyA = `127.0.0.1:${a.port}`
      const keyB = `127.0.0.1:${b.port}`
      expect([...before.addresses].sort()).toEqual([keyA, keyB].sort())
      for (const key of [keyA, keyB]) {
        expect(byAddress(before)[key]).toMatchObject({
          weight: 1,
          pending: 0,
          status: "open",
          accrual: "alive"
        })
        expect(byAddress(before)[key]!.connections).toBeGreaterThanOrEqual(1)
        expect(typeof byAddress(before)[key]!.load).toBe("number")
      }

      yield* Effect.promise(() => b.kill())
      // requests picking b fail to connect (and are requeued to a); one failure marks b dead
      let sent = 0
      let dead = false
      while (!dead && sent < 200) {
        sent++
        expect((yield* get(web, { host: "books" })).status).toBe(200)
        const s = (yield* state())["/#/io.l5d.fs/books"]!
        dead = byAddress(s)[keyB]!.accrual === "dead"
      }
      const after = byAddress((yield* state())["/#/io.l5d.fs/books"]!)
      expect(after[keyB]).toMatchObject({ accrual: "dead", status: "busy", connections: 0 })
      expect(after[keyA]).toMatchObject({ accrual: "alive", status: "open" })

      // another router's clients are left out by ?router=
      const other = yield* get(`http://127.0.0.1:${linker.admin.port}/client_state.json?router=nope`)
      expect(JSON.parse(other.body)).toEqual({})
    }))
})
