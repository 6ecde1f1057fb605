import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { backend, freePort, sendE } from "../http/support.js"

const configOf = (text: string): Config.Config => {
  const r = Config.parse(text)
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

/** A backend answering 500 to the first request of each path, 200 afterwards. */
const flaky = () => {
  const seen = new Map<string, number>()
  return backend((req, res) => {
    req.resume()
    req.on("end", () => {
      const n = (seen.get(req.url ?? "") ?? 0) + 1
      seen.set(req.url ?? "", n)
      res.writeHead(n === 1 ? 500 : 200, { "content-type": "text/plain", "content-length": "4" })
      res.end(n === 1 ? "boom" : "fine")
    })
  })
}

describe("access log and timestampHeader (e2e)", () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-access-log-e2e-"))

  it.live("logs one line per attempt, retries included, and stamps forwarded requests", () =>
    Effect.gen(function*() {
      const b = yield* flaky()
      const down = yield* Effect.promise(freePort)
      const file = join(dir, "access.log")
      const config = configOf(`
admin: {port: 0}
routers:
- protocol: http
  label: web
  httpAccessLog: ${file}
  httpAccessLogAppend: false
  dtab: |
    /svc/web => /$/inet/127.0.0.1/${b.port};
    /svc/down => /$/inet/127.0.0.1/${down};
  service:
    responseClassifier: {kind: io.l5d.http.retryableRead5XX}
    retries: {backoff: {kind: constant, ms: 1}}
  servers:
  - {port: 0, timestampHeader: X-Request-Start}
`)
      let before = 0
      let after = 0
      yield* Effect.scoped(Effect.gen(function*() {
        const linker = yield* Linker.make(config)
        const port = linker.routers[0]!.servers[0]!.port
        before = Date.now()
        const ok = yield* sendE(port, {
          path: "/books?id=1",
          headers: { host: "web", "user-agent": "weir-test/1.0", referer: "http://example/r" }
        })
        after = Date.now()
        expect(ok.status).toBe(200)
        expect(ok.body).toBe("fine")
        const failed = yield* sendE(port, { path: "/x", headers: { host: "down" } })
        expect(failed.status).toBe(502)
      }))

      // the backend saw both attempts, each stamped with the arrival time of the request
      expect(b.seen.length).toBe(2)
      const stamps = b.seen.map((r) => Number(r.headers["x-request-start"]))
      for (const s of stamps) {
        expect(Number.isInteger(s)).toBe(true)
        expect(s).toBeGreaterThanOrEqual(before)
        expect(s).toBeLessThanOrEqual(after)
      }
      expect(stamps[0]).toBe(stamps[1])

      const lines = readFileSync(file, "utf8").split("\n").filter((l) => l !== "")
      // the connection failure is retried by the path stack (within the retry budget): one line per attempt
      expect(lines.length).toBeGreaterThanOrEqual(3)
      const stamp = String.raw`\[\d\d/\d\d/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]`
      const ua = `"http://example/r" "weir-test/1.0"`
      expect(lines[0]).toMatch(
        new RegExp(`^web 127\\.0\\.0\\.1 - - ${stamp} "GET /books\\?id=1 HTTP/1\\.1" 500 4 ${ua}$`)
      )
      expect(lines[1]).toMatch(
        new RegExp(`^web 127\\.0\\.0\\.1 - - ${stamp} "GET /books\\?id=1 HTTP/1\\.1" 200 4 ${ua}$`)
      )
      for (const line of lines.slice(2)) {
        expect(line).toMatch(new RegExp(`^down 127\\.0\\.0\\.1 - - ${stamp} "GET /x HTTP/1\\.1" 502 \\d+ "-" "-"$`))
      }
    }))

  it.live("without the keys, nothing is stamped", () =>
    Effect.gen(function*() {
      const b = yield* flaky()
      const config = configOf(`
admin: {port: 0}
routers:
- protocol: http
  dtab: /svc/web => /$/inet/127.0.0.1/${b.port};
  servers: [{port: 0}]
`)
      yield* Effect.scoped(Effect.gen(function*() {
        const linker = yield* Linker.make(config)
        yield* sendE(linker.routers[0]!.servers[0]!.port, { headers: { host: "web" } })
      }))
      expect(b.seen.length).toBe(1)
      expect(b.seen[0]!.headers["x-request-start"]).toBeUndefined()
    }))

  it.live("a log that cannot be opened stops the proxy from starting, naming the key", () =>
    Effect.gen(function*() {
      const config = configOf(`
admin: {port: 0}
routers:
- protocol: http
  httpAccessLog: ${join(dir, "no", "such", "dir.log")}
  servers: [{port: 0}]
`)
      const r = yield* Effect.result(Effect.scoped(Linker.make(config)))
      expect(Result.isFailure(r)).toBe(true)
      if (Result.isFailure(r)) {
        expect(r.failure.problems[0]!.path).toBe("routers[0].httpAccessLog")
        expect(r.failure.message).toContain("cannot open the access log")
      }
    }))
})
