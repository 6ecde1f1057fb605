import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import * as Admin from "../../src/proxy/Admin.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import * as Stats from "../../src/Stats.js"
import * as Metrics from "../../src/telemetry/Metrics.js"
import { sendE, textBackend } from "../http/support.js"
import * as Fake from "../namers/k8s-fake.js"

const fakeServer = Effect.acquireRelease(Effect.promise(() => Fake.start()), (f) => Effect.promise(() => f.close()))

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(nodePath.join(os.tmpdir(), "weir-admin-namers-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

const configOf = (text: string): Config.Config => {
  const r = Config.parse(text)
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

const getJson = (port: number, path: string) =>
  Effect.map(sendE(port, { path }), (r) => ({
    status: r.status,
    type: r.headers["content-type"],
    json: JSON.parse(r.body) as unknown
  }))

describe("admin /bound-names.json and /namer_state/<prefix>.json on a linked proxy", () => {
  it.live("list fs files and seen k8s services; show fs and k8s state; 404 for an unknown prefix", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      const backend = yield* textBackend("books from k8s")
      fake.set("default", "books", {
        ready: ["127.0.0.1"],
        ports: [{ name: "http", port: backend.port }, { name: "admin", port: 1 }]
      })
      const disco = yield* tempDir
      fs.writeFileSync(nodePath.join(disco, "authors"), "127.0.0.1 8080\nnot-an-address\n")
      fs.mkdirSync(nodePath.join(disco, "eu"))
      fs.writeFileSync(nodePath.join(disco, "eu", "users"), "127.0.0.1 8081 * 2\n")
      const other = yield* tempDir
      fs.writeFileSync(nodePath.join(other, "web"), "")
      const linker = yield* Linker.make(configOf(`
admin: {port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${disco}
- kind: io.l5d.fs
  prefix: /disco
  rootDir: ${other}
- kind: io.l5d.k8s
  host: 127.0.0.1
  port: ${fake.port}
routers:
- protocol: http
  dtab: /svc => /#/io.l5d.k8s/default/http
  servers: [{port: 0}]
`))
      const admin = linker.admin.port

      const before = yield* getJson(admin, "/bound-names.json")
      expect(before.status).toBe(200)
      expect(before.type).toContain("application/json")
      expect(before.json).toEqual(["/#/disco/web", "/#/io.l5d.fs/authors", "/#/io.l5d.fs/eu/users"])

      const routed = yield* sendE(linker.routers[0]!.servers[0]!.port, { headers: { host: "books" } })
      expect(routed.body).toBe("books from k8s")
      const after = yield* getJson(admin, "/bound-names.json")
      expect(after.json).toEqual([
        "/#/disco/web",
        "/#/io.l5d.fs/authors",
        "/#/io.l5d.fs/eu/users",
        "/#/io.l5d.k8s/default/admin/books",
        "/#/io.l5d.k8s/default/http/books"
      ])

      const fsState = yield* getJson(admin, "/namer_state/io.l5d.fs.json")
      expect(fsState.status).toBe(200)
      expect(fsState.json).toMatchObject({
        kind: "io.l5d.fs",
        rootDir: nodePath.resolve(disco),
        files: {
          "/authors": {
            watched: false,
            addresses: [{ ip: "127.0.0.1", port: 8080, weight: 1 }],
            errors: [{ line: 2, reason: "expected `host port [weight]`" }]
          },
          "/eu/users": { watched: false, addresses: [{ ip: "127.0.0.1", port: 8081, weight: 2 }] }
        }
      })
      const discoState = yield* getJson(admin, "/namer_state/disco.json")
      expect(discoState.json).toMatchObject({ rootDir: nodePath.resolve(other), files: { "/web": { addresses: [] } } })

      const k8sState = yield* getJson(admin, "/namer_state/io.l5d.k8s.json")
      expect(k8sState.status).toBe(200)
      expect(k8sState.json).toMatchObject({
        kind: "io.l5d.k8s",
        host: "127.0.0.1",
        port: fake.port,
        tls: false,
        watches: {
          "default/books": {
            resource: "endpoints default/books",
            state: "ok",
            lists: 1,
            ports: ["admin", "http"],
            addresses: 1
          }
        }
      })
      const books = (k8sState.json as { watches: Record<string, { lastUpdatedAt: string }> }).watches["default/books"]!
      expect(Number.isNaN(Date.parse(books.lastUpdatedAt))).toBe(false)

      const unknown = yield* getJson(admin, "/namer_state/io.l5d.nope.json")
      expect(unknown.status).toBe(404)
      expect(unknown.json).toEqual({ error: "No namer with prefix /io.l5d.nope" })

      const index = yield* sendE(admin, { path: "/admin" })
      expect(index.body.split("\n")).toEqual(
        expect.arrayContaining([
          "/bound-names.json",
          "/namer_state/io.l5d.fs.json",
          "/namer_state/disco.json",
          "/namer_state/io.l5d.k8s.json"
        ])
      )
    }))
})

describe("Admin.handle for namers", () => {
  const options = (namers: ReadonlyArray<Admin.NamerInfo>): Admin.Options => ({
    exporter: Metrics.makeExporter(Stats.makeInMemory()),
    namers
  })
  const get = (o: Admin.Options, url: string) => Admin.handle(o, "GET", url, {}, () => Promise.resolve(""))

  it("a namer without state answers 404 with a JSON error; one with a multi-label prefix keeps its slashes", async () => {
    const o = options([
      { prefix: "/plain", boundNames: Effect.succeed(["/#/plain/b", "/#/plain/a"]) },
      { prefix: "/a/b", state: Effect.succeed({ ok: true }), boundNames: Effect.succeed(["/#/a/b/x", "/#/plain/a"]) }
    ])
    const none = await get(o, "/namer_state/plain.json")
    expect(none.status).toBe(404)
    expect(JSON.parse(none.body)).toEqual({ error: "The namer at /plain has no state to show" })
    expect(Admin.namerStateUrl("/a/b")).toBe("/namer_state/a/b.json")
    const nested = await get(o, "/namer_state/a/b.json")
    expect(nested.status).toBe(200)
    expect(JSON.parse(nested.body)).toEqual({ ok: true })
    const names = await get(o, "/bound-names.json")
    expect(JSON.parse(names.body)).toEqual(["/#/a/b/x", "/#/plain/a", "/#/plain/b"])
  })

  it("without namers, bound names are an empty list and every namer_state is 404", async () => {
    const o = options([])
    expect(JSON.parse((await get(o, "/bound-names.json")).body)).toEqual([])
    expect((await get(o, "/namer_state/io.l5d.fs.json")).status).toBe(404)
  })
})
