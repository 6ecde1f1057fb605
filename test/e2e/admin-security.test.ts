import { describe, expect, it } from "@effect/vitest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Http from "node:http"
import * as Problems from "../../src/config/Problems.js"
import * as Admin from "../../src/proxy/Admin.js"
import * as AdminSecurity from "../../src/proxy/AdminSecurity.js"
import * as Config from "../../src/proxy/Config.js"
import * as ConfigJson from "../../src/proxy/ConfigJson.js"
import { dashboardHtml } from "../../src/proxy/Dashboard.js"
import * as Linker from "../../src/proxy/Linker.js"
import * as Stats from "../../src/Stats.js"
import * as Metrics from "../../src/telemetry/Metrics.js"

interface Answer {
  readonly status: number
  readonly body: string
}

/** A request with exactly these headers (`host` included: fetch would not let us set it). */
const send = (
  port: number,
  path: string,
  init: { readonly method?: string; readonly headers?: Record<string, string>; readonly body?: string } = {}
) =>
  Effect.promise(() =>
    new Promise<Answer>((resolve, reject) => {
      const req = Http.request(
        {
          host: "127.0.0.1",
          port,
          path,
          method: init.method ?? "GET",
          headers: { host: `127.0.0.1:${port}`, ...init.headers },
          agent: false
        },
        (res) => {
          let body = ""
          res.on("data", (c: Buffer) => (body += c.toString()))
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
        }
      )
      req.on("error", reject)
      req.end(init.body)
    })
  )

const setup = (extra: Partial<Admin.Options> = {}) =>
  Effect.gen(function*() {
    const shutdowns: Array<Duration.Duration | undefined> = []
    const admin = yield* Admin.make({
      port: 0,
      exporter: Metrics.makeExporter(Stats.makeInMemory()),
      config: { routers: [{ label: "web" }] },
      shutdown: (g) => void shutdowns.push(g),
      routers: ["web"],
      ...extra
    })
    return { port: admin.port, shutdowns }
  })

const settle = Effect.promise(() => new Promise((r) => setTimeout(r, 20)))

describe("Admin server: Host (DNS rebinding)", () => {
  it.live("answers only its own addresses and names; others get 403", () =>
    Effect.gen(function*() {
      const { port } = yield* setup()
      for (
        const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`, "localhost"]
      ) {
        expect((yield* send(port, "/config.json", { headers: { host } })).status, host).toBe(200)
      }
      const evil = yield* send(port, "/config.json", { headers: { host: "evil.example" } })
      expect(evil.status).toBe(403)
      expect(evil.body).not.toContain("web")
      expect((yield* send(port, "/admin/ping", { headers: { host: `evil.example:${port}` } })).status).toBe(403)
      expect((yield* send(port, "/", { headers: { host: `127.0.0.2:${port}` } })).status).toBe(403)
    }))

  it.live("admin.allowedHosts adds names: with a port exactly, without one on any port", () =>
    Effect.gen(function*() {
      const { port } = yield* setup({ allowedHosts: ["weir.internal", "ops.example:8080"] })
      expect((yield* send(port, "/admin/ping", { headers: { host: `weir.internal:${port}` } })).status).toBe(200)
      expect((yield* send(port, "/admin/ping", { headers: { host: "Weir.Internal" } })).status).toBe(200)
      expect((yield* send(port, "/admin/ping", { headers: { host: "ops.example:8080" } })).status).toBe(200)
      expect((yield* send(port, "/admin/ping", { headers: { host: "ops.example:8081" } })).status).toBe(403)
      expect((yield* send(port, "/admin/ping", { headers: { host: "evil.example" } })).status).toBe(403)
    }))

  it("a wildcard admin answers every local address", () => {
    const own = AdminSecurity.ownHosts("0.0.0.0", 9990)
    expect(AdminSecurity.hostAllowed("127.0.0.1:9990", own)).toBe(true)
    expect(AdminSecurity.hostAllowed("0.0.0.0:9990", own)).toBe(true)
    expect(AdminSecurity.hostAllowed("127.0.0.1:9991", own)).toBe(false)
    expect(AdminSecurity.hostAllowed(undefined, own)).toBe(false)
  })
})

describe("Admin server: state changes (CSRF)", () => {
  it.live("a foreign page's text/plain POST /admin/shutdown is refused and nothing stops", () =>
    Effect.gen(function*() {
      const { port, shutdowns } = yield* setup()
      const foreign = yield* send(port, "/admin/shutdown", {
        method: "POST",
        headers: { origin: "http://evil.example", "content-type": "text/plain", "sec-fetch-site": "cross-site" },
        body: "x"
      })
      expect(foreign.status).toBe(403)
      const originOnly = yield* send(port, "/admin/shutdown", {
        method: "POST",
        headers: { origin: "http://evil.example", "content-type": "application/json" },
        body: "{}"
      })
      expect(originOnly.status).toBe(403)
      expect(originOnly.body).toContain("cross-origin")
      const sameSite = yield* send(port, "/admin/shutdown", {
        method: "POST",
        headers: { "sec-fetch-site": "same-site", "content-type": "application/json" }
      })
      expect(sameSite.status).toBe(403)
      const nullOrigin = yield* send(port, "/admin/shutdown", {
        method: "POST",
        headers: { origin: "null", "x-weir-admin": "1" }
      })
      expect(nullOrigin.status).toBe(403)
      const simple = yield* send(port, "/admin/shutdown", { method: "POST", headers: { "content-type": "text/plain" } })
      expect(simple.status).toBe(403)
      expect(simple.body).toContain("application/json")
      const bare = yield* send(port, "/admin/shutdown", { method: "POST" })
      expect(bare.status).toBe(403)
      yield* settle
      expect(shutdowns).toEqual([])
      expect((yield* send(port, "/admin/ping")).body).toBe("pong")
    }))

  it.live("POST with application/json (same origin) or with X-Weir-Admin shuts down", () =>
    Effect.gen(function*() {
      const { port, shutdowns } = yield* setup()
      const json = yield* send(port, "/admin/shutdown", {
        method: "POST",
        headers: {
          origin: `http://127.0.0.1:${port}`,
          "sec-fetch-site": "same-origin",
          "content-type": "application/json"
        },
        body: "{}"
      })
      expect(json).toEqual({ status: 200, body: "quitting\n" })
      const token = yield* send(port, "/admin/shutdown", { method: "POST", headers: { "x-weir-admin": "1" } })
      expect(token.status).toBe(200)
      yield* settle
      expect(shutdowns).toHaveLength(2)
    }))

  it.live("the dashboard's shutdown button sends a request the server accepts", () =>
    Effect.gen(function*() {
      const { port, shutdowns } = yield* setup()
      const page = yield* send(port, "/")
      expect(page.body).toContain(`id="shutdown"`)
      const script = /<script>([\s\S]*)<\/script>/.exec(page.body)![1]!
      const calls: Array<{ url: string; init: { method?: string; headers?: Record<string, string>; body?: string } }> =
        []
      let click: () => void = () => {}
      const element = {
        innerHTML: "",
        textContent: "",
        addEventListener: (_: string, f: () => void) => (click = f)
      }
      const document = { getElementById: () => element }
      const fetch = (url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) => {
        calls.push({ url, init })
        return new Promise(() => {})
      }
      new Function("document", "fetch", "setInterval", "confirm", script)(document, fetch, () => 0, () => true)
      click()
      const shutdown = calls.find((c) => c.url === "admin/shutdown")!
      expect(shutdown.init.method).toBe("POST")
      // what a browser adds to the page's own request: its Origin and Sec-Fetch-Site
      const replay = yield* send(port, "/admin/shutdown", {
        method: shutdown.init.method!,
        headers: { ...shutdown.init.headers, origin: `http://127.0.0.1:${port}`, "sec-fetch-site": "same-origin" },
        body: shutdown.init.body!
      })
      expect(replay).toEqual({ status: 200, body: "quitting\n" })
      yield* settle
      expect(shutdowns).toHaveLength(1)
    }))

  it.live("reads stay open to same-host tools; POST /delegator.json from another origin is refused", () =>
    Effect.gen(function*() {
      const { port } = yield* setup({
        delegate: () => Effect.succeed({ status: 200, contentType: "application/json", body: "{}" })
      })
      const foreign = yield* send(port, "/delegator.json", {
        method: "POST",
        headers: { origin: "https://evil.example", "content-type": "application/json" },
        body: JSON.stringify({ dtab: "", path: "/svc/a" })
      })
      expect(foreign.status).toBe(403)
      const own = yield* send(port, "/delegator.json", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ dtab: "", path: "/svc/a" })
      })
      expect(own.status).toBe(200)
    }))
})

describe("Admin server: admin.security (linkerd's path lists)", () => {
  it.live("uiEnabled: false closes the dashboard, config and metrics.json; a whitelist reopens one", () =>
    Effect.gen(function*() {
      const { port } = yield* setup({ security: { uiEnabled: false, pathWhitelist: ["/config\\.json"] } })
      expect((yield* send(port, "/")).status).toBe(404)
      expect((yield* send(port, "/admin/metrics.json")).status).toBe(404)
      expect((yield* send(port, "/delegator.json?path=/a")).status).toBe(404)
      expect((yield* send(port, "/config.json")).status).toBe(200)
      expect((yield* send(port, "/admin/ping")).status).toBe(200)
    }))

  it.live("controlEnabled: false closes shutdown (404) and hides the dashboard's button", () =>
    Effect.gen(function*() {
      const { port, shutdowns } = yield* setup({ security: { controlEnabled: false } })
      const r = yield* send(port, "/admin/shutdown", {
        method: "POST",
        headers: { "content-type": "application/json" }
      })
      expect(r.status).toBe(404)
      expect((yield* send(port, "/")).body).not.toContain(`id="shutdown"`)
      expect((yield* send(port, "/admin")).body).not.toContain("/admin/shutdown")
      yield* settle
      expect(shutdowns).toEqual([])
    }))

  it.live("diagnosticsEnabled: false closes ping, prometheus and the rest, not the UI", () =>
    Effect.gen(function*() {
      const { port } = yield* setup({ security: { diagnosticsEnabled: false } })
      expect((yield* send(port, "/admin/ping")).status).toBe(404)
      expect((yield* send(port, "/admin/metrics/prometheus")).status).toBe(404)
      expect((yield* send(port, "/bound-names.json")).status).toBe(404)
      expect((yield* send(port, "/admin/metrics.json")).status).toBe(200)
      expect((yield* send(port, "/config.json")).status).toBe(200)
    }))

  it.live("pathBlacklist closes matching paths (whole-path match) of enabled categories", () =>
    Effect.gen(function*() {
      const { port } = yield* setup({ security: { pathBlacklist: ["/admin/metrics.*", "/config"] } })
      expect((yield* send(port, "/admin/metrics.json")).status).toBe(404)
      expect((yield* send(port, "/admin/metrics/prometheus")).status).toBe(404)
      expect((yield* send(port, "/config.json")).status).toBe(200)
      expect((yield* send(port, "/admin/ping")).status).toBe(200)
    }))

  it("sorts paths into linkerd's categories", () => {
    expect(AdminSecurity.categoryOf("/")).toBe("ui")
    expect(AdminSecurity.categoryOf("/config.json")).toBe("ui")
    expect(AdminSecurity.categoryOf("/admin/shutdown")).toBe("control")
    expect(AdminSecurity.categoryOf("/admin/ping")).toBe("diagnostics")
    expect(AdminSecurity.categoryOf("/namer_state/io.l5d.fs.json")).toBe("diagnostics")
    expect(dashboardHtml(["web"])).not.toContain(`id="shutdown"`)
  })
})

describe("/config.json redaction", () => {
  it.live("shows no secret value and no secret's file path", () =>
    Effect.gen(function*() {
      const r = Config.parse(`
admin: {port: 0, allowedHosts: [weir.internal]}
namers:
- kind: io.l5d.experimental.k8s
  authTokenFile: /var/run/secrets/sa-token
routers:
- protocol: http
  servers: [{port: 0}]
`)
      if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
      // TLS settings as a later version may carry them: the redaction goes by key name wherever they sit
      const router = r.success.routers[0]!
      const withTls = {
        ...r.success,
        namers: [...r.success.namers, { kind: "io.l5d.consul", token: "consul-s3cret" }],
        routers: [{
          ...router,
          client: [{
            prefix: "/",
            params: {
              tls: {
                commonName: "books",
                trustCerts: ["/etc/ca.pem"],
                keyPath: "/etc/weir/client-key.pem",
                clientAuth: { certPath: "/etc/weir/client.pem", keyPath: "/etc/weir/client-key2.pem" },
                password: "hunter2"
              }
            }
          }],
          servers: router.servers.map((s) => ({ ...s, tls: { certPath: "/etc/srv.pem", keyPath: "/etc/srv-key.pem" } }))
        }]
      } as unknown as Config.Config
      const { port } = yield* setup({ config: ConfigJson.toJson(withTls) })
      const body = (yield* send(port, "/config.json")).body
      for (
        const secret of ["consul-s3cret", "sa-token", "/var/run/secrets", "key.pem", "key2.pem", "srv-key", "hunter2"]
      ) {
        expect(body).not.toContain(secret)
      }
      expect(body).toContain("<redacted>")
      expect(body).toContain("/etc/ca.pem")
      expect(body).toContain("weir.internal")
      expect(Problems.isSecretKey("authTokenFile")).toBe(true)
      expect(Problems.isSecretKey("clientKeyPath")).toBe(true)
      expect(Problems.isSecretKey("certPath")).toBe(false)
    }))
})

describe("admin.security and admin.allowedHosts in the config", () => {
  const minimal = "routers:\n- protocol: http\n  servers: [{port: 0}]\n"

  it("decode with linkerd's defaults; a bad regex is a located problem", () => {
    const r = Config.parse(`admin: {security: {uiEnabled: false, pathWhitelist: ["/config\\\\.json"]}}\n${minimal}`)
    if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
    expect(r.success.admin.security).toEqual({
      uiEnabled: false,
      controlEnabled: true,
      diagnosticsEnabled: true,
      pathWhitelist: ["/config\\.json"],
      pathBlacklist: []
    })
    const bad = Config.parse(`admin: {security: {pathBlacklist: ["("]}}\n${minimal}`)
    expect(Result.isFailure(bad) && bad.failure.map((p) => p.path)).toEqual(["admin.security.pathBlacklist[0]"])
    const unknown = Config.parse(`admin: {security: {everything: false}}\n${minimal}`)
    expect(Result.isFailure(unknown)).toBe(true)
    const self = Config.parse(minimal)
    expect(Result.isSuccess(self) && self.success.routers[0]!.allowSelfRouting).toBe(false)
  })

  it.live("the proxy applies them", () =>
    Effect.gen(function*() {
      const r = Config.parse(
        `admin: {port: 0, allowedHosts: [weir.internal], security: {controlEnabled: false}}\n${minimal}`
      )
      if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
      const linker = yield* Linker.make(r.success)
      const port = linker.admin.port
      const shutdown = yield* send(port, "/admin/shutdown", { method: "POST", headers: { "x-weir-admin": "1" } })
      expect(shutdown.status).toBe(404)
      expect((yield* send(port, "/admin/ping", { headers: { host: "weir.internal" } })).status).toBe(200)
      expect((yield* send(port, "/admin/ping", { headers: { host: "evil.example" } })).status).toBe(403)
    }))
})
