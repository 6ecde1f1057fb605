import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startApps } from "../../examples/quickstart/apps.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"

const request = (port: number, path: string, headers: Record<string, string>) =>
  Effect.promise(() =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = Http.request({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
        let body = ""
        res.on("data", (c: Buffer) => (body += c.toString()))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on("error", reject)
      req.end()
    })
  )

describe("quickstart", () => {
  it.live("web calls books and authors through weir; l5d-dtab shows the canary", () =>
    Effect.gen(function*() {
      const decoded = Config.parse(readFileSync("examples/quickstart/weir.yaml", "utf8"))
      if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
      const disco = mkdtempSync(join(tmpdir(), "weir-quickstart-"))
      const base = decoded.success
      const config: Config.Config = {
        ...base,
        admin: { ...base.admin, port: 0 },
        namers: base.namers.map((n) => ({ ...n, rootDir: disco }) as Config.Namer),
        routers: base.routers.map((r) => ({ ...r, servers: r.servers.map((s) => ({ ...s, port: 0 })) }))
      }
      let proxyPort = 0
      const apps = yield* Effect.acquireRelease(
        Effect.promise(() =>
          startApps(() => `http://127.0.0.1:${proxyPort}`, { web: 0, books: 0, authors: 0, "books-v2": 0 })
        ),
        (a) => Effect.promise(a.close)
      )
      for (const [name, port] of Object.entries(apps.ports)) writeFileSync(join(disco, name), `127.0.0.1 ${port}\n`)
      const linker = yield* Linker.make(config)
      proxyPort = linker.routers[0]!.servers[0]!.port

      const books = yield* request(proxyPort, "/", { host: "books" })
      expect(books.status).toBe(200)
      expect(JSON.parse(books.body)).toMatchObject({ service: "books", version: "v1" })
      const canary = yield* request(proxyPort, "/1", { host: "books", "l5d-dtab": "/svc/books => /svc/books-v2" })
      expect(JSON.parse(canary.body)).toMatchObject({ service: "books", version: "v2", id: 1 })
      const web = yield* request(proxyPort, "/", { host: "web" })
      expect(web.status).toBe(200)
      expect(web.body).toContain("web (books v1, authors v1)")
      expect(web.body).toContain("Kindred by Octavia E. Butler")
      const webCanary = yield* request(proxyPort, "/", { host: "web", "l5d-dtab": "/svc/books => /svc/books-v2" })
      expect(webCanary.body).toContain("web (books v2, authors v1)")
      const missing = yield* request(proxyPort, "/", { host: "nope" })
      expect(missing.status).toBe(502)

      const metrics = yield* request(linker.admin.port, "/admin/metrics.json", {})
      const m = JSON.parse(metrics.body) as Record<string, number>
      expect(m["rt/quickstart/service/svc/web/requests"]).toBe(2)
      expect(m["rt/quickstart/service/svc/books/requests"]).toBe(4)
      expect(m["rt/quickstart/client/#/io.l5d.fs/books-v2/requests"]).toBe(2)
    }))
})
