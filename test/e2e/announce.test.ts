import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { sendE, textBackend } from "../http/support.js"
import { zkWriter, zookeeper } from "../namers/zk-support.js"

const parse = (text: string) => {
  const decoded = Config.parse(text)
  if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
  return decoded.success
}

/** The announcing weir: a router announced at /discovery/web, routing everything to `backend`. */
const announcing = (zkPort: number, backend: number, adminPort = "0") => `
admin: {port: ${adminPort}, shutdownGraceMs: 1000}
routers:
- protocol: http
  label: incoming
  dtab: /svc => /$/inet/127.0.0.1/${backend}
  announcers:
  - kind: io.l5d.serversets
    zkAddrs: [{host: 127.0.0.1, port: ${zkPort}}]
  servers:
  - port: 0
    announce: [/#/io.l5d.serversets/web]
`

/** The discovering weir: finds `web` through io.l5d.serversets, else the fallback. */
const discovering = (zkPort: number, fallback: number) => `
admin: {port: 0}
namers:
- kind: io.l5d.serversets
  zkAddrs: [{host: 127.0.0.1, port: ${zkPort}}]
routers:
- protocol: http
  label: outgoing
  dtab: |
    /svc => /$/inet/127.0.0.1/${fallback} ;
    /svc => /#/io.l5d.serversets/discovery ;
  servers: [{port: 0}]
`

const until = (port: number, want: string) =>
  Effect.gen(function*() {
    let body = ""
    for (let i = 0; i < 250 && body !== want; i++) {
      const r = yield* Effect.exit(sendE(port, { headers: { host: "web" } }))
      body = r._tag === "Success" ? r.value.body : ""
      if (body !== want) yield* Effect.sleep("20 millis")
    }
    return body
  })

describe("the io.l5d.serversets announcer, on a real ZooKeeper", () => {
  it.live(
    "an announcing weir is found by a second weir, and withdrawn when it closes gracefully",
    () =>
      Effect.gen(function*() {
        const zk = yield* zookeeper
        const w = yield* zkWriter(zk.connectString)
        const behind = yield* textBackend("behind the announcing weir")
        const fallback = yield* textBackend("fallback")
        const scope = yield* Scope.make()
        const a = yield* Linker.make(parse(announcing(zk.port, behind.port))).pipe(Scope.provide(scope))
        const b = yield* Linker.make(parse(discovering(zk.port, fallback.port)))
        const port = b.routers[0]!.servers[0]!.port
        expect(yield* until(port, "behind the announcing weir")).toBe("behind the announcing weir")
        const members = yield* Effect.promise(() => w.children("/discovery/web"))
        expect(members).toHaveLength(1)
        expect(members[0]).toMatch(/^member_\d{10}$/)

        yield* a.drain(a.config.admin.shutdownGraceMs)
        expect(yield* Effect.promise(() => w.children("/discovery/web"))).toEqual([])
        expect(yield* until(port, "fallback")).toBe("fallback")
        yield* Scope.close(scope, Exit.void)
      }),
    { timeout: 120_000 }
  )

  it.live("a weir process announcing is withdrawn on SIGTERM", () =>
    Effect.gen(function*() {
      const zk = yield* zookeeper
      const w = yield* zkWriter(zk.connectString)
      const behind = yield* textBackend("behind the weir process")
      const fallback = yield* textBackend("fallback")
      const dir = mkdtempSync(join(tmpdir(), "weir-announce-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const file = join(dir, "announcing.yaml")
      writeFileSync(file, announcing(zk.port, behind.port))
      const child = spawn(process.execPath, ["--import", "tsx", "src/bin/weir.ts", "proxy", file], {
        cwd: process.cwd(),
        stdio: "pipe"
      })
      let out = ""
      child.stdout.on("data", (c: Buffer) => (out += c.toString()))
      child.stderr.on("data", (c: Buffer) => (out += c.toString()))
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
      yield* Effect.addFinalizer(() => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL")))

      const b = yield* Linker.make(parse(discovering(zk.port, fallback.port)))
      const port = b.routers[0]!.servers[0]!.port
      // the process compiles and starts (slow on a loaded machine): wait for its announcement
      let announced: Array<string> = []
      for (let i = 0; i < 1500 && announced.length === 0; i++) {
        announced = yield* Effect.promise(() => w.children("/discovery/web").catch(() => []))
        if (announced.length === 0) yield* Effect.sleep("40 millis")
      }
      expect(announced).toHaveLength(1)
      expect(yield* until(port, "behind the weir process")).toBe("behind the weir process")
      expect(yield* Effect.promise(() => w.children("/discovery/web"))).toHaveLength(1)

      child.kill("SIGTERM")
      expect(yield* Effect.promise(() => exited)).toBe(0)
      expect(yield* Effect.promise(() => w.children("/discovery/web"))).toEqual([])
      expect(yield* until(port, "fallback")).toBe("fallback")
      expect(out).not.toContain("Error")
    }), { timeout: 120_000 })
})
