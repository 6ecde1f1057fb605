/**
 * The admin pages in a real browser: Debian's `chromium`, headless, driven by `playwright-core`,
 * against a real proxy (a router in front of a loopback backend) started by the test. The browser
 * talks only to the admin server on 127.0.0.1; background networking is off. Screenshots of each
 * page are written to `.weir-tmp/screenshots/` (git-ignored).
 *
 * Skipped when `/usr/bin/chromium` is absent (`.ci/run` installs it).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { existsSync, mkdirSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import * as Logging from "../../src/proxy/Logging.js"
import { browser, executablePath, page, promise, screenshots } from "../support/browser.js"

const backend = Effect.acquireRelease(
  Effect.callback<Http.Server>((resume) => {
    const s = Http.createServer((req, res) => {
      res.writeHead(req.url === "/fail" ? 500 : 200, { "content-type": "text/plain" })
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

/** Sends requests through the router until the scope closes. */
const traffic = (url: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      let n = 0
      let stopped = false
      const loop = () => {
        if (stopped) return
        n++
        // every fifth request fails, so that success rates are not all 100%
        fetch(`${url}/${n % 5 === 0 ? "fail" : n}`).then((r) => r.text()).catch(() => "").then(() => {
          setTimeout(loop, 5)
        })
      }
      loop()
      return () => (stopped = true)
    }),
    (stop) => Effect.sync(stop)
  )

const setup = Effect.gen(function*() {
  const port = yield* backend
  const parsed = Config.parse(`
admin: {port: 0}
routers:
- protocol: http
  label: web
  dtab: /svc => /$/inet/127.1/${port}
  servers: [{port: 0}]
`)
  if (Result.isFailure(parsed)) throw new Error(JSON.stringify(parsed.failure))
  const logging = Logging.make()
  const linker = yield* Linker.make(parsed.success, { logging, histogramWindow: "1 second" })
  mkdirSync(screenshots, { recursive: true })
  return {
    port,
    logging,
    admin: `http://127.0.0.1:${linker.admin.port}`,
    router: `http://127.0.0.1:${linker.routers[0]!.servers[0]!.port}`,
    browser: yield* browser
  }
})

describe.skipIf(!existsSync(executablePath))("admin pages in headless Chromium", () => {
  it.live("the dashboard's charts move while traffic runs through the router", () =>
    Effect.gen(function*() {
      const { admin, browser, router } = yield* setup
      yield* traffic(router)
      const p = yield* page(browser)
      const requested: Array<string> = []
      p.on("request", (r) => void requested.push(r.url()))
      yield* promise(() => p.goto(`${admin}/`))
      const rate = `svg[data-chart="router:web:rate"]`
      const samples = () => p.$eval(rate, (e) => Number(e.getAttribute("data-samples")))
      const points = () => p.$eval(`${rate} polyline`, (e) => e.getAttribute("points") ?? "")
      const atLeast = (n: number) =>
        p.waitForFunction(`Number(document.querySelector('${rate}')?.getAttribute("data-samples") ?? 0) >= ${n}`)
      yield* promise(() => atLeast(2))
      const first = { samples: yield* promise(samples), points: yield* promise(points) }
      expect(first.points).not.toBe("")
      yield* promise(() => atLeast(first.samples + 2))
      const second = { samples: yield* promise(samples), points: yield* promise(points) }
      expect(second.samples).toBeGreaterThan(first.samples)
      expect(second.points).not.toBe(first.points)
      // the client has its own charts and its row shows the balancer and the latencies
      yield* promise(() => p.waitForSelector(`svg[data-chart^="client:web:$/inet/127.1/"]`, { state: "attached" }))
      const table = yield* promise(() => p.textContent("table"))
      expect(table).toContain("endpoints")
      const success = yield* promise(() =>
        p.$eval(`svg[data-chart="router:web:success"] polyline`, (e) => e.getAttribute("points") ?? "")
      )
      expect(success).not.toBe("")
      yield* promise(() => p.screenshot({ path: join(screenshots, "dashboard.png"), fullPage: true }))
      // everything the page loaded came from the admin server
      expect(requested.length).toBeGreaterThan(2)
      expect(requested.filter((u) => !u.startsWith(`${admin}/`))).toEqual([])
    }), { timeout: 60_000 })

  it.live("the dtab playground explains a path typed into it", () =>
    Effect.gen(function*() {
      const { admin, browser, port } = yield* setup
      const p = yield* page(browser)
      yield* promise(() => p.goto(`${admin}/delegator`))
      expect(yield* promise(() => p.inputValue("#dtab"))).toBe(`/svc=>/$/inet/127.1/${port}`)
      yield* promise(() => p.fill("#path", "/svc/books"))
      yield* promise(() => p.click("#go"))
      yield* promise(() => p.waitForSelector(`#tree[data-runs="1"]`))
      expect(yield* promise(() => p.getAttribute("#tree", "data-explained"))).toBe("/svc/books")
      const tree = (yield* promise(() => p.textContent("#tree"))) ?? ""
      expect(tree).toContain("/svc/books")
      expect(tree).toContain(`by /svc => /$/inet/127.1/${port}`)
      expect(tree).toContain(`leaf`)
      expect(tree).toContain(`127.0.0.1:${port}`)
      yield* promise(() => p.screenshot({ path: join(screenshots, "delegator.png"), fullPage: true }))
      // an edited dtab that cannot bind shows neg, and a malformed one its error
      yield* promise(() => p.fill("#dtab", "/svc => /$/nope"))
      yield* promise(() => p.click("#go"))
      yield* promise(() => p.waitForSelector(`#tree[data-runs="2"]`))
      const edited = (yield* promise(() => p.textContent("#tree"))) ?? ""
      expect(edited).toContain("by /svc => /$/nope")
      expect(edited).not.toContain("bound:")
      yield* promise(() => p.fill("#dtab", "/svc =>"))
      yield* promise(() => p.click("#go"))
      yield* promise(() => p.waitForSelector(`#tree[data-runs="3"]`))
      expect(yield* promise(() => p.textContent("#tree"))).toContain("Invalid dtab")
    }), { timeout: 60_000 })

  it.live("the logging page changes a logger's level", () =>
    Effect.gen(function*() {
      const { admin, browser, logging } = yield* setup
      const p = yield* page(browser)
      yield* promise(() => p.goto(`${admin}/logging`))
      const row = `tr[data-logger="weir.router.web"]`
      expect(yield* promise(() => p.getAttribute(row, "data-level"))).toBe("INFO")
      yield* promise(() => p.click(`${row} button[data-level="DEBUG"]`))
      yield* promise(() => p.waitForSelector(`tr[data-logger="weir.router.web"][data-level="DEBUG"]`))
      expect(logging.levelOf("weir.router.web")).toBe("DEBUG")
      yield* promise(() => p.screenshot({ path: join(screenshots, "logging.png"), fullPage: true }))
    }), { timeout: 60_000 })
})
