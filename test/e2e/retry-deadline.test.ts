import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { backend, sendE } from "../http/support.js"

const configOf = (text: string): Config.Config => {
  const r = Config.parse(text)
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

/** A backend that reads each request and never answers it. */
const silent = () =>
  backend((req) => {
    req.resume()
  })

describe("retries against a backend that never answers (e2e)", () => {
  it.live(
    "attempt 200 ms, total 600 ms, retryable GETs: at most 4 attempts per request, and the next request still retries",
    () =>
      Effect.gen(function*() {
        const b = yield* silent()
        const config = configOf(`
routers:
- protocol: http
  label: web
  dtab: |
    /svc/web => /$/inet/127.0.0.1/${b.port};
  client:
    requestAttemptTimeoutMs: 200
  service:
    totalTimeoutMs: 600
    responseClassifier: {kind: io.l5d.http.retryableRead5XX}
  servers:
  - {port: 0}
`)
        const linker = yield* Linker.make(config)
        const port = linker.routers[0]!.servers[0]!.port
        const counts: Array<number> = []
        for (const path of ["/first", "/second"]) {
          const r = yield* sendE(port, { path, headers: { host: "web" } })
          expect(r.status).toBe(503)
          // let an attempt sent just before the total timeout reach the backend, so it is counted
          yield* Effect.sleep("200 millis")
          counts.push(b.seen.filter((s) => s.url === path).length)
        }
        for (const n of counts) {
          expect(n).toBeGreaterThanOrEqual(2)
          expect(n).toBeLessThanOrEqual(4)
        }
      }),
    20_000
  )
})
