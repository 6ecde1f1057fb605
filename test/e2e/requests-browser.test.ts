/**
 * The `/requests` page in headless Chromium (`test/support/browser.ts`) against a real proxy with
 * `io.l5d.recentRequests`: the requests sent through the router are rows of its table, and a request
 * sent while the page is open appears when the page refreshes itself from `requests.json`. A
 * screenshot is saved as `requests.png`.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { existsSync } from "node:fs"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { getUrl as get, textBackend } from "../http/support.js"
import { browser, executablePath, page, promise, screenshotPath } from "../support/browser.js"

describe.skipIf(!existsSync(executablePath))("the /requests page in headless Chromium", () => {
  it.live("shows the recent requests as rows and picks up new ones", () =>
    Effect.gen(function*() {
      const books = yield* textBackend("books")
      const parsed = Config.parse(`
admin: {port: 0}
routers:
- protocol: http
  label: web
  dtab: /svc/books => /$/inet/127.0.0.1/${books.port}
  servers: [{port: 0}]
telemetry:
- kind: io.l5d.recentRequests
  sampleRate: 1.0
  capacity: 5
`)
      if (Result.isFailure(parsed)) throw new Error(JSON.stringify(parsed.failure))
      const linker = yield* Linker.make(parsed.success)
      const web = `http://127.0.0.1:${linker.routers[0]!.servers[0]!.port}`
      const admin = `http://127.0.0.1:${linker.admin.port}`
      for (let i = 1; i <= 3; i++) yield* get(`${web}/book/${i}`, { host: "books" })
      yield* get(`${web}/`, { host: "nowhere" })

      const p = yield* page(yield* browser)
      const requested: Array<string> = []
      p.on("request", (r) => void requested.push(r.url()))
      yield* promise(() => p.goto(`${admin}/requests`))
      expect(yield* promise(() => p.textContent("nav a.here"))).toBe("requests")
      const rows = () => p.$$eval("#requests tbody tr", (trs) => trs.map((tr) => tr.textContent ?? ""))
      const shown = yield* promise(rows)
      expect(shown.length).toBe(4)
      expect(shown[0]).toContain("/svc/nowhere")
      expect(shown[0]).toContain("502")
      expect(shown[1]).toContain("/book/3")
      expect(shown[1]).toContain(`127.0.0.1:${books.port}`)
      expect(shown[3]).toContain("/book/1")
      expect(yield* promise(() => p.$$eval("#requests tbody tr.failed", (trs) => trs.length))).toBe(1)
      yield* promise(() => p.screenshot({ path: screenshotPath("requests.png"), fullPage: true }))

      // a request sent now shows after the page's next refresh; the ring keeps 5
      yield* get(`${web}/book/late`, { host: "books" })
      yield* get(`${web}/book/later`, { host: "books" })
      yield* promise(() =>
        p.waitForFunction(`document.querySelector("#requests tbody tr")?.textContent?.includes("/book/later")`)
      )
      const refreshed = yield* promise(rows)
      expect(refreshed.length).toBe(5)
      expect(refreshed[1]).toContain("/book/late")
      expect(Number(yield* promise(() => p.getAttribute("#requests", "data-refreshes")))).toBeGreaterThanOrEqual(1)
      expect(requested.filter((u) => !u.startsWith(`${admin}/`))).toEqual([])
    }), { timeout: 60_000 })
})
