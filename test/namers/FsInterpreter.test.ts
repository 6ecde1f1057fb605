/**
 * The `io.l5d.fs` interpreter in the proxy, on real sockets: the dtab file routes, an edit of the
 * file re-routes names in use, a file that is not a dtab keeps the last one, and the router's own
 * dtab overrides the file's.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { type Reply, sendE, textBackend } from "../http/support.js"

const until = (port: number, host: string, done: (r: Reply) => boolean, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 250; i++) {
      const r = yield* sendE(port, { headers: { host } })
      if (done(r)) return r
      yield* Effect.sleep("20 millis")
    }
    throw new Error(`timed out waiting for ${what}`)
  })

describe("io.l5d.fs interpreter (real sockets)", () => {
  it.live("routes by the file's dtab, follows edits, keeps the last dtab on a bad file, under the router's dtab", () =>
    Effect.gen(function*() {
      const one = yield* textBackend("one")
      const two = yield* textBackend("two")
      const web = yield* textBackend("web")
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "weir-fs-interpreter-"))),
        (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
      )
      const file = path.join(dir, "routing.dtab")
      fs.writeFileSync(file, `/svc/books => /$/inet/127.0.0.1/${one.port};\n/svc/web => /$/inet/127.0.0.1/1;\n`)
      const r = Config.parse(`
admin: {ip: 127.0.0.1, port: 0}
routers:
- protocol: http
  interpreter: {kind: io.l5d.fs, dtabFile: ${file}}
  dtab: /svc/web => /$/inet/127.0.0.1/${web.port}
  servers: [{ip: 127.0.0.1, port: 0}]
`)
      if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
      const linker = yield* Linker.make(r.success)
      const port = linker.routers[0]!.servers[0]!.port
      expect((yield* sendE(port, { headers: { host: "books" } })).body).toBe("one")
      // the router's dtab comes after the file's: it wins for /svc/web
      expect((yield* sendE(port, { headers: { host: "web" } })).body).toBe("web")

      fs.writeFileSync(file, `/svc/books => /$/inet/127.0.0.1/${two.port};\n`)
      yield* until(port, "books", (x) => x.body === "two", "the edited dtab")

      fs.writeFileSync(file, "/svc/books => => nonsense")
      yield* Effect.sleep("1500 millis")
      expect((yield* sendE(port, { headers: { host: "books" } })).body).toBe("two")
    }))

  it("decodes with dtabFile required and no transformers", () => {
    const paths = (text: string) => {
      const r = Config.parse(text)
      return Result.isFailure(r) ? r.failure.map((p) => p.path) : []
    }
    expect(paths(`routers: [{protocol: http, interpreter: {kind: io.l5d.fs}}]`)).toEqual([
      "routers[0].interpreter.dtabFile"
    ])
    expect(paths(`routers: [{protocol: http, interpreter: {kind: io.l5d.fs, dtabFile: /x}}]`)).toEqual([])
  })

  it.live("takes transformers, as the default interpreter does", () =>
    Effect.gen(function*() {
      const app = yield* textBackend("app")
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "weir-fs-interpreter-"))),
        (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
      )
      const file = path.join(dir, "routing.dtab")
      // the dtab names a port nothing listens on; io.l5d.port moves it to the app's
      fs.writeFileSync(file, `/svc/books => /$/inet/127.0.0.1/1;\n`)
      const r = Config.parse(`
admin: {ip: 127.0.0.1, port: 0}
routers:
- protocol: http
  interpreter:
    kind: io.l5d.fs
    dtabFile: ${file}
    transformers: [{kind: io.l5d.port, port: ${app.port}}]
  servers: [{ip: 127.0.0.1, port: 0}]
`)
      if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
      const linker = yield* Linker.make(r.success)
      const reply = yield* sendE(linker.routers[0]!.servers[0]!.port, { headers: { host: "books" } })
      expect(reply.body).toBe("app")
      expect(app.seen[0]!.headers["l5d-dst-client"]).toBe(`/%/io.l5d.port/${app.port}/$/inet/127.0.0.1/1`)
    }))
})
