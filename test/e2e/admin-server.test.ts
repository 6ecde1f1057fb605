import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Admin from "../../src/proxy/Admin.js"
import * as Stats from "../../src/Stats.js"
import * as Metrics from "../../src/telemetry/Metrics.js"

const fetchText = (url: string, init?: RequestInit) =>
  Effect.promise(async () => {
    const res = await fetch(url, init)
    return { status: res.status, headers: res.headers, body: await res.text() }
  })

const setup = (extra: Partial<Admin.Options> = {}) =>
  Effect.gen(function*() {
    const registry = Stats.makeInMemory()
    registry.scope("rt", "web", "server", "127.0.0.1", "4140").counter("requests").incr(7)
    const shutdowns: Array<Duration.Duration | undefined> = []
    const admin = yield* Admin.make({
      port: 0,
      exporter: Metrics.makeExporter(registry),
      config: { routers: [{ label: "web" }] },
      shutdown: (g) => void shutdowns.push(g),
      routers: ["web"],
      ...extra
    })
    return { base: `http://127.0.0.1:${admin.port}`, admin, shutdowns }
  })

describe("Admin server", () => {
  it.live("binds loopback by default and answers ping, metrics, config", () =>
    Effect.gen(function*() {
      const { admin, base } = yield* setup()
      expect(admin.ip).toBe("127.0.0.1")
      expect((yield* fetchText(`${base}/admin/ping`)).body).toBe("pong")
      const metrics = yield* fetchText(`${base}/admin/metrics.json`)
      expect(metrics.headers.get("content-type")).toContain("application/json")
      expect(JSON.parse(metrics.body)["rt/web/server/127.0.0.1/4140/requests"]).toBe(7)
      const tree = JSON.parse((yield* fetchText(`${base}/admin/metrics.json?tree=1`)).body)
      expect(tree.rt.web.server["127.0.0.1/4140"].requests).toEqual({ counter: 7 })
      const sub = yield* fetchText(`${base}/admin/metrics.json?q=rt/nope`)
      expect(sub.status).toBe(404)
      expect(JSON.parse(sub.body)).toEqual({ error: "No such subtree: rt/nope" })
      const prom = yield* fetchText(`${base}/admin/metrics/prometheus`)
      expect(prom.body).toContain(`rt:server:requests{rt="web", server="127.0.0.1/4140"} 7`)
      expect(JSON.parse((yield* fetchText(`${base}/config.json`)).body)).toEqual({ routers: [{ label: "web" }] })
      const dash = yield* fetchText(`${base}/`)
      expect(dash.headers.get("content-type")).toContain("text/html")
      expect(dash.body).toContain("admin/metrics.json")
      expect((yield* fetchText(`${base}/nope`)).status).toBe(404)
      const index = yield* fetchText(`${base}/admin`)
      expect(index.body).toContain("/admin/ping")
    }))

  it.live("shutdown is POST only, with an optional grace", () =>
    Effect.gen(function*() {
      const { base, shutdowns } = yield* setup()
      const get = yield* fetchText(`${base}/admin/shutdown`)
      expect(get.status).toBe(405)
      expect(get.headers.get("allow")).toBe("POST")
      expect(shutdowns).toEqual([])
      const bad = yield* fetchText(`${base}/admin/shutdown?grace=soon`, {
        method: "POST",
        headers: { "content-type": "application/json" }
      })
      expect(bad.status).toBe(400)
      const ok = yield* fetchText(`${base}/admin/shutdown?grace=2.seconds`, {
        method: "POST",
        headers: { "content-type": "application/json" }
      })
      expect(ok.status).toBe(200)
      expect(ok.body).toBe("quitting\n")
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 10)))
      expect(shutdowns.map((g) => g === undefined ? undefined : Duration.toMillis(g))).toEqual([2000])
    }))

  it.live("delegator.json: GET and POST requests, errors as linkerd's", () =>
    Effect.gen(function*() {
      const seen: Array<Admin.DelegateRequest> = []
      const { base } = yield* setup({
        delegate: (r) =>
          Effect.sync(() => {
            seen.push(r)
            return { status: 200, contentType: "application/json", body: JSON.stringify({ type: "neg", path: r.path }) }
          })
      })
      const get = yield* fetchText(
        `${base}/delegator.json?namespace=web&path=/svc/a&dtab=${encodeURIComponent("/a=>/b")}`
      )
      expect(get.status).toBe(200)
      expect(JSON.parse(get.body)).toEqual({ type: "neg", path: "/svc/a" })
      const post = yield* fetchText(`${base}/delegator.json`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ namespace: "web", dtab: "/x=>/y", path: "/svc/b" })
      })
      expect(post.status).toBe(200)
      expect(seen).toEqual([
        { namespace: "web", dtab: "/a=>/b", path: "/svc/a" },
        { namespace: "web", dtab: "/x=>/y", path: "/svc/b" }
      ])
      const malformed = yield* fetchText(`${base}/delegator.json`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{nope"
      })
      expect(malformed.status).toBe(400)
      expect(malformed.body).toContain("Malformed delegation request: {nope")
      const missing = yield* fetchText(`${base}/delegator.json`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ path: "/svc/b" })
      })
      expect(missing.status).toBe(400)
      const wrongType = yield* fetchText(`${base}/delegator.json`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "x"
      })
      expect(wrongType.status).toBe(415)
      expect((yield* fetchText(`${base}/delegator.json`, { method: "DELETE" })).status).toBe(405)
    }))

  it.live("fails cleanly when the port is taken", () =>
    Effect.gen(function*() {
      const { admin } = yield* setup()
      const err = yield* Admin.make({ port: admin.port, exporter: Metrics.makeExporter(Stats.makeInMemory()) }).pipe(
        Effect.flip
      )
      expect(err._tag).toBe("AdminError")
      expect(err.message).toContain(`127.0.0.1:${admin.port}`)
    }))

  it("parses grace periods", () => {
    expect(Duration.toMillis(Admin.parseGrace("1500")!)).toBe(1500)
    expect(Duration.toMillis(Admin.parseGrace("5s")!)).toBe(5000)
    expect(Duration.toMillis(Admin.parseGrace("10.seconds")!)).toBe(10000)
    expect(Duration.toMillis(Admin.parseGrace("250ms")!)).toBe(250)
    expect(Duration.toMillis(Admin.parseGrace("1m")!)).toBe(60000)
    expect(Admin.parseGrace("soon")).toBeUndefined()
  })
})

describe("Dashboard", () => {
  it("renders routers, services and clients from metrics.json", async () => {
    const { dashboardHtml } = await import("../../src/proxy/Dashboard.js")
    const html = dashboardHtml(["web"])
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!
    const elements: Record<string, { innerHTML: string; textContent: string }> = {
      routers: { innerHTML: "", textContent: "" },
      updated: { innerHTML: "", textContent: "" }
    }
    const metrics = {
      "rt/web/server/127.0.0.1/4140/requests": 10,
      "rt/web/server/127.0.0.1/4140/success": 9,
      "rt/web/server/127.0.0.1/4140/failures": 1,
      "rt/web/service/svc/books/requests": 10,
      "rt/web/client/#/io.l5d.fs/books/requests": 10,
      "rt/web/client/#/io.l5d.fs/books/loadbalancer/size": 3,
      "rt/web/client/#/io.l5d.fs/books/request_latency_ms.p99": 12.3456
    }
    let resolveRendered: () => void = () => {}
    const rendered = new Promise<void>((r) => (resolveRendered = r))
    const document = {
      getElementById: (id: string) => {
        if (id === "updated") setTimeout(resolveRendered, 0)
        return elements[id]
      }
    }
    const fetch = () => Promise.resolve({ json: () => Promise.resolve(metrics) })
    new Function("document", "fetch", "setInterval", script)(document, fetch, () => 0)
    await rendered
    const out = elements.routers!.innerHTML
    expect(out).toContain("router web")
    expect(out).toContain("<td>127.0.0.1/4140</td><td>10</td>")
    expect(out).toContain("90.00%")
    expect(out).toContain("<td>svc/books</td>")
    expect(out).toContain(
      "<td>#/io.l5d.fs/books</td><td>10</td><td>-</td><td>-</td><td>-</td><td>-</td><td>12.3</td><td>3</td>"
    )
  })
})
