import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as http from "node:http"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import * as Errors from "../../src/http/Errors.js"
import * as Router from "../../src/http/Router.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Stats from "../../src/Stats.js"
import { backend, send } from "../http/support.js"

/** The garbage collector: `global.gc` when node runs with `--expose-gc`, else exposed now. */
const collector = (): () => void => {
  const existing = (globalThis as { gc?: () => void }).gc
  if (existing !== undefined) return existing
  v8.setFlagsFromString("--expose-gc")
  return vm.runInNewContext("gc") as () => void
}

const heapAfterGc = (gc: () => void) => {
  gc()
  gc()
  const m = process.memoryUsage()
  return { heap: m.heapUsed, rss: m.rss }
}

const MB = 1024 * 1024

describe("Router overload", () => {
  it.live(
    "far past maxConcurrentRequests + maxPending: fast 503s with l5d-err, no memory growth",
    () =>
      Effect.gen(function*() {
        const gc = collector()
        // the backend holds every request it gets until the end, so admitted requests stay in flight
        const held: Array<() => void> = []
        const b = yield* backend((req, res) => {
          req.resume()
          held.push(() => res.end("done"))
        })
        const stats = Stats.makeInMemory()
        const router = yield* Router.make({
          label: "ov",
          servers: [{ port: 0, maxConcurrentRequests: 2, maxPending: 2 }],
          dtab: Dtab.parseUnsafe(`/svc/web => /$/inet/127.0.0.1/${b.port}`),
          interpreter: yield* Interpreter.make(),
          stats
        })
        // on failure too: answer whatever the backend holds before the router drains
        yield* Effect.addFinalizer(() => Effect.sync(() => held.splice(0).forEach((f) => f())))
        const port = router.servers[0]!.port
        const agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
        yield* Effect.addFinalizer(() => Effect.sync(() => agent.destroy()))

        // fill the 2 slots and the 2 pending places; they stay there until the end
        const admitted = Array.from({ length: 4 }, () => send(port, { headers: { host: "web" } }))
        yield* Effect.promise(async () => {
          while (held.length < 2 || router.servers[0]!.inFlight() < 4) await new Promise((r) => setTimeout(r, 5))
        })

        /** `n` requests, 32 at a time over keep-alive connections; returns the statuses seen and the l5d-err values. */
        const flood = (n: number) =>
          Effect.promise(async () => {
            const statuses = new Map<number, number>()
            const errs = new Set<string>()
            let next = 0
            const worker = async () => {
              while (next < n) {
                next++
                const r = await send(port, { headers: { host: "web" }, agent })
                statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
                errs.add(Errors.decodeErr(String(r.headers["l5d-err"])))
              }
            }
            await Promise.all(Array.from({ length: 32 }, worker))
            return { statuses, errs }
          })

        // warm up (connections, JIT, stats names), then measure across many more rejections
        const warm = yield* flood(500)
        expect([...warm.statuses]).toEqual([[503, 500]])
        const before = heapAfterGc(gc)
        const n = 6000
        const flooded = yield* flood(n)
        const after = heapAfterGc(gc)

        // every one of them was answered while the admitted requests were still held at the backend:
        // the rejection never waited for a slot (no timed assertion needed)
        expect([...flooded.statuses]).toEqual([[503, n]])
        expect([...flooded.errs]).toEqual(["Overloaded: too many requests (maxConcurrentRequests 2)"])
        expect(b.seen.length).toBe(2)
        expect(held.length).toBe(2)
        expect(stats.counterValue(`rt/ov/server/127.0.0.1/${port}/failures/Overloaded`)).toBe(n + 500)
        expect(stats.counterValue(`rt/ov/server/127.0.0.1/${port}/status/503`)).toBe(n + 500)
        // the rejected requests left nothing behind: 6,000 of them leaking even 3 KB each would be 18 MB
        expect(router.servers[0]!.inFlight()).toBe(4)
        expect((after.heap - before.heap) / MB).toBeLessThan(16)
        expect((after.rss - before.rss) / MB).toBeLessThan(128)

        // the admitted requests complete once the backend answers (the pending ones after the first two)
        yield* Effect.promise(async () => {
          while (b.seen.length < 4) {
            held.splice(0).forEach((f) => f())
            await new Promise((r) => setTimeout(r, 5))
          }
          held.splice(0).forEach((f) => f())
        })
        const done = yield* Effect.promise(() => Promise.all(admitted))
        expect(done.map((r) => r.status)).toEqual([200, 200, 200, 200])
      }),
    60_000
  )
})
