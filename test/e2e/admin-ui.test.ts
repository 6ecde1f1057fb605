import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import * as Result from "effect/Result"
import { mkdtempSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Admin from "../../src/proxy/Admin.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import * as Logging from "../../src/proxy/Logging.js"
import * as Stats from "../../src/Stats.js"
import * as Metrics from "../../src/telemetry/Metrics.js"
import { version } from "../../src/version.js"

const fetchText = (url: string, init?: RequestInit) =>
  Effect.promise(async () => {
    const res = await fetch(url, init)
    return { status: res.status, headers: res.headers, body: await res.text() }
  })

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetchText(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body)
  })

const setup = (extra: Partial<Admin.Options> = {}) =>
  Effect.gen(function*() {
    const logging = Logging.make({ rootLevel: "INFO" })
    logging.declare(["weir.router.web"])
    const admin = yield* Admin.make({
      port: 0,
      exporter: Metrics.makeExporter(Stats.makeInMemory()),
      config: { routers: [{ label: "web", dtab: "/svc=>/#/io.l5d.fs" }], admin: { token: "<redacted>" } },
      routers: ["web"],
      logging,
      startedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
      ...extra
    })
    return { base: `http://127.0.0.1:${admin.port}`, logging }
  })

/** Collects what reaches the loggers installed before `Logging.provide`. */
const capture = () => {
  const lines: Array<string> = []
  const logger = Logger.make<unknown, void>((o) => {
    lines.push(`${o.logLevel} ${Array.isArray(o.message) ? o.message.join(" ") : String(o.message)}`)
  })
  return { lines, logger }
}

describe("Logging (runtime levels)", () => {
  it("parses linkerd's and Effect's level names", () => {
    expect(Logging.parseLevel("debug")).toBe("DEBUG")
    expect(Logging.parseLevel("WARNING")).toBe("WARN")
    expect(Logging.parseLevel("critical")).toBe("FATAL")
    expect(Logging.parseLevel("none")).toBe("OFF")
    expect(Logging.parseLevel("loud")).toBeUndefined()
  })

  it("a logger takes its own level, else its nearest dotted ancestor's, else root's", () => {
    const logging = Logging.make({ rootLevel: "WARN" })
    expect(logging.levelOf("weir.router.web")).toBe("WARN")
    logging.set("weir", "DEBUG")
    expect(logging.levelOf("weir.router.web")).toBe("DEBUG")
    logging.set("weir.router.web", "ERROR")
    expect(logging.levelOf("weir.router.web")).toBe("ERROR")
    expect(logging.levelOf("weir.router.other")).toBe("DEBUG")
    expect(logging.list()).toEqual([
      { logger: "root", level: "WARN", inherited: false },
      { logger: "weir", level: "DEBUG", inherited: false },
      { logger: "weir.router.web", level: "ERROR", inherited: false }
    ])
    expect(logging.set("bad name!", "INFO")).toBe(false)
  })

  it.effect("filters log calls by their logger's level at the time of the call", () =>
    Effect.gen(function*() {
      const { lines, logger } = capture()
      const logging = Logging.make()
      const program = Effect.gen(function*() {
        yield* Effect.logDebug("hidden").pipe(Effect.annotateLogs(Logging.annotation, "weir.router.web"))
        yield* Effect.logInfo("root info")
        logging.set("weir.router", "DEBUG")
        yield* Effect.logDebug("shown").pipe(Effect.annotateLogs(Logging.annotation, "weir.router.web"))
        yield* Effect.logDebug("root debug")
        logging.set("root", "OFF")
        yield* Effect.logError("silenced")
      })
      yield* logging.provide(program).pipe(
        Effect.provideService(Logger.CurrentLoggers, new Set([logger])),
        Effect.provideService(References.MinimumLogLevel, "Info")
      )
      expect(lines).toEqual(["Info root info", "Debug shown"])
      expect(logging.list().map((e) => e.logger)).toEqual(["root", "weir.router", "weir.router.web"])
    }))
})

describe("Admin UI endpoints", () => {
  it.live("GET /logging.json lists the loggers; POST changes one", () =>
    Effect.gen(function*() {
      const { base, logging } = yield* setup()
      const list = yield* fetchText(`${base}/logging.json`)
      expect(list.status).toBe(200)
      expect(JSON.parse(list.body)).toEqual([
        { logger: "root", level: "INFO", inherited: false },
        { logger: "weir.router.web", level: "INFO", inherited: true }
      ])
      const set = yield* postJson(`${base}/logging.json`, { logger: "weir.router.web", level: "debug" })
      expect(set.status).toBe(200)
      expect(JSON.parse(set.body)).toEqual({ logger: "weir.router.web", level: "DEBUG", inherited: false })
      expect(logging.levelOf("weir.router.web")).toBe("DEBUG")
      const page = yield* fetchText(`${base}/logging`)
      expect(page.headers.get("content-type")).toContain("text/html")
      expect(page.body).toContain(`data-logger="weir.router.web" data-level="DEBUG"`)
      expect(page.body).toContain(`data-level="TRACE"`)
    }))

  it.live("POST /logging.json is a control request: JSON only, same site only, and bad input is named", () =>
    Effect.gen(function*() {
      const { base, logging } = yield* setup()
      const form = yield* fetchText(`${base}/logging.json`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "logger=root&level=OFF"
      })
      expect(form.status).toBe(403)
      const token = yield* fetchText(`${base}/logging.json`, {
        method: "POST",
        headers: { "content-type": "text/plain", "x-weir-admin": "1" },
        body: "{}"
      })
      expect(token.status).toBe(415)
      const crossSite = yield* postJson(`${base}/logging.json`, { logger: "root", level: "OFF" }, {
        "sec-fetch-site": "cross-site"
      })
      expect(crossSite.status).toBe(403)
      const otherOrigin = yield* postJson(`${base}/logging.json`, { logger: "root", level: "OFF" }, {
        origin: "http://evil.example"
      })
      expect(otherOrigin.status).toBe(403)
      const badLevel = yield* postJson(`${base}/logging.json`, { logger: "root", level: "LOUD" })
      expect(badLevel.status).toBe(400)
      expect(JSON.parse(badLevel.body).error).toContain(`unknown level "LOUD"`)
      const badName = yield* postJson(`${base}/logging.json`, { logger: "<script>", level: "INFO" })
      expect(badName.status).toBe(400)
      const notJson = yield* fetchText(`${base}/logging.json`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{"
      })
      expect(notJson.status).toBe(400)
      const put = yield* fetchText(`${base}/logging.json`, { method: "PUT", headers: { "x-weir-admin": "1" } })
      expect(put.status).toBe(405)
      expect(logging.levelOf("root")).toBe("INFO")
    }))

  it.live("controlEnabled: false closes /logging.json and leaves the page read-only", () =>
    Effect.gen(function*() {
      const { base, logging } = yield* setup({ security: { controlEnabled: false } })
      expect((yield* fetchText(`${base}/logging.json`)).status).toBe(404)
      expect((yield* postJson(`${base}/logging.json`, { logger: "root", level: "OFF" })).status).toBe(404)
      expect(logging.levelOf("root")).toBe("INFO")
      const page = yield* fetchText(`${base}/logging`)
      expect(page.status).toBe(200)
      expect(page.body).toContain("Changes are disabled")
      expect(page.body).not.toContain(`<button type="button" data-level`)
      const index = (yield* fetchText(`${base}/admin`)).body.split("\n")
      expect(index).toContain("/logging")
      expect(index).not.toContain("/logging.json")
    }))

  it.live("/admin/server_info and /admin/registry.json", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const info = JSON.parse((yield* fetchText(`${base}/admin/server_info`)).body)
      expect(info).toMatchObject({
        name: "weir",
        version,
        node_version: process.version,
        pid: process.pid,
        start_time: "2026-01-02T03:04:05.000Z"
      })
      expect(info.build).toContain(version)
      expect(info.uptime).toBeGreaterThan(0)
      const registry = JSON.parse((yield* fetchText(`${base}/admin/registry.json`)).body)
      expect(registry.registry.weir.version).toBe(version)
      expect(registry.registry.weir.config.routers[0].label).toBe("web")
      const diag = yield* setup({ security: { diagnosticsEnabled: false } })
      expect((yield* fetchText(`${diag.base}/admin/server_info`)).status).toBe(404)
      expect((yield* fetchText(`${diag.base}/admin/registry.json`)).status).toBe(404)
      expect((yield* fetchText(`${diag.base}/delegator`)).status).toBe(200)
    }))

  it.live("/delegator serves the playground with each router's dtab", () =>
    Effect.gen(function*() {
      const { base } = yield* setup()
      const page = yield* fetchText(`${base}/delegator`)
      expect(page.status).toBe(200)
      expect(page.headers.get("content-type")).toContain("text/html")
      expect(page.body).toContain(`<option value="web">web</option>`)
      expect(page.body).toContain(`const routers = [{"label":"web","dtab":"/svc=>/#/io.l5d.fs"}]`)
      expect(page.body).not.toMatch(/src="http|href="http/)
      const ui = yield* setup({ security: { uiEnabled: false } })
      expect((yield* fetchText(`${ui.base}/delegator`)).status).toBe(404)
      expect((yield* fetchText(`${ui.base}/logging`)).status).toBe(404)
    }))
})

const backend = Effect.acquireRelease(
  Effect.callback<Http.Server>((resume) => {
    const s = Http.createServer((_req, res) => {
      res.writeHead(200)
      res.end("ok")
    })
    s.listen({ host: "127.0.0.1", port: 0 }, () => resume(Effect.succeed(s)))
  }),
  (s) =>
    Effect.callback<void>((resume) => {
      s.close(() => resume(Effect.void))
      s.closeAllConnections()
    })
).pipe(Effect.map((s) => (s.address() as AddressInfo).port))

describe("Admin UI through the proxy", () => {
  it.live("the linker declares its routers' and namers' loggers and serves the resolved config", () =>
    Effect.gen(function*() {
      const port = yield* backend
      const dir = mkdtempSync(join(tmpdir(), "weir-admin-ui-"))
      // each file has one good address and one malformed line, which the fs namer logs (a warning)
      for (const name of ["books", "authors"]) writeFileSync(join(dir, name), `127.0.0.1 ${port}\n127.0.0.1 99999\n`)
      const parsed = Config.parse(`
admin: {port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${dir}
routers:
- protocol: http
  label: web
  dtab: /svc => /#/io.l5d.fs
  servers: [{port: 0}]
`)
      if (Result.isFailure(parsed)) throw new Error(JSON.stringify(parsed.failure))
      const logging = Logging.make()
      const { lines, logger } = capture()
      const linker = yield* Linker.make(parsed.success, { logging }).pipe(
        Effect.provideService(Logger.CurrentLoggers, new Set([logger]))
      )
      const base = `http://127.0.0.1:${linker.admin.port}`
      const router = linker.routers[0]!.servers[0]!.port
      const viaRouter = (host: string) =>
        Effect.promise(() =>
          new Promise<number>((resolve, reject) =>
            Http.get({ host: "127.0.0.1", port: router, path: "/", headers: { host }, agent: false }, (r) => {
              r.resume()
              resolve(r.statusCode ?? 0)
            }).on("error", reject)
          )
        )
      const loggers = JSON.parse((yield* fetchText(`${base}/logging.json`)).body) as Array<{ logger: string }>
      expect(loggers.map((l) => l.logger)).toEqual(
        expect.arrayContaining(["root", "weir", "weir.router.web", "weir.namer.io.l5d.fs"])
      )
      // the router's lookups log as weir.router.web: silenced at ERROR, shown again at WARN
      yield* postJson(`${base}/logging.json`, { logger: "weir.router.web", level: "ERROR" })
      expect(yield* viaRouter("books")).toBe(200)
      expect(lines.filter((l) => l.includes("malformed address"))).toEqual([])
      yield* postJson(`${base}/logging.json`, { logger: "weir.router.web", level: "WARN" })
      expect(logging.levelOf("weir.router.web")).toBe("WARN")
      expect(yield* viaRouter("authors")).toBe(200)
      expect(lines.filter((l) => l.includes("malformed address"))).toEqual([
        expect.stringMatching(/^Warn .*authors:2: malformed address skipped/)
      ])
      const registry = JSON.parse((yield* fetchText(`${base}/admin/registry.json`)).body)
      expect(registry.registry.weir.config.admin.shutdownGraceMs).toBe(10000)
      expect(registry.registry.weir.config.routers[0].dtab).toBe("/svc=>/#/io.l5d.fs")
      const page = (yield* fetchText(`${base}/delegator`)).body
      expect(page).toContain(`"label":"web"`)
    }))
})
