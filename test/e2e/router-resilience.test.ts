import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Address from "../../src/Address.js"
import * as Errors from "../../src/http/Errors.js"
import * as Router from "../../src/http/Router.js"
import * as Addr from "../../src/naming/Addr.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Name from "../../src/naming/Name.js"
import * as Namer from "../../src/naming/Namer.js"
import * as NameTree from "../../src/naming/NameTree.js"
import * as Path from "../../src/naming/Path.js"
import * as FailureAccrual from "../../src/resilience/FailureAccrual.js"
import * as Stats from "../../src/Stats.js"
import { backend, freePort, send, sendE, textBackend } from "../http/support.js"

const inet = (port: number) => `/$/inet/127.0.0.1/${port}`

/** A backend answering 500 to the first request of each method, 200 afterwards. */
const flaky = () => {
  const seen = new Map<string, number>()
  return backend((req, res) => {
    req.resume()
    req.on("end", () => {
      const n = (seen.get(req.method ?? "") ?? 0) + 1
      seen.set(req.method ?? "", n)
      res.writeHead(n === 1 ? 500 : 200, { "content-type": "text/plain" })
      res.end(n === 1 ? "boom" : "fine")
    })
  })
}

describe("Router resilience", () => {
  it.live("retries a 500 on GET with retryableRead5XX, not on POST", () =>
    Effect.gen(function*() {
      const b = yield* flaky()
      const stats = Stats.makeInMemory()
      const router = yield* Router.make({
        label: "r",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(`/svc/web => ${inet(b.port)}`),
        interpreter: yield* Interpreter.make(),
        service: () => ({ classifier: "io.l5d.http.retryableRead5XX" }),
        stats
      })
      const port = router.servers[0]!.port
      const get = yield* sendE(port, { headers: { host: "web" } })
      expect(get.status).toBe(200)
      expect(get.body).toBe("fine")
      expect(b.seen.filter((r) => r.method === "GET").length).toBe(2)
      const post = yield* sendE(port, { method: "POST", headers: { host: "web" }, body: "x" })
      expect(post.status).toBe(500)
      expect(post.body).toBe("boom")
      expect(post.headers["l5d-err"]).toBeUndefined()
      expect(post.headers["l5d-success-class"]).toBe("0.0")
      expect(b.seen.filter((r) => r.method === "POST").length).toBe(1)
      expect(stats.counterValue("rt/r/service/svc/web/retries/total")).toBe(1)
      expect(stats.counterValue("rt/r/service/svc/web/requests")).toBe(2)
      expect(stats.counterValue("rt/r/service/svc/web/success")).toBe(1)
      expect(stats.counterValue("rt/r/service/svc/web/failures")).toBe(1)
      expect(stats.counterValue(`rt/r/server/127.0.0.1/${port}/failures`)).toBe(1)
    }))

  it.live("the default classifier does not retry a GET", () =>
    Effect.gen(function*() {
      const b = yield* flaky()
      const router = yield* Router.make({
        label: "r",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(`/svc/web => ${inet(b.port)}`),
        interpreter: yield* Interpreter.make()
      })
      const r = yield* sendE(router.servers[0]!.port, { headers: { host: "web" } })
      expect(r.status).toBe(500)
      expect(b.seen.length).toBe(1)
    }))

  it.live("failure accrual and requeues keep success >= 99% while one of three backends is killed", () =>
    Effect.gen(function*() {
      const backends = [yield* textBackend("a"), yield* textBackend("b"), yield* textBackend("c")]
      const stats = Stats.makeInMemory()
      const router = yield* Router.make({
        label: "fa",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(`/svc/web => /$/inet/127.0.0.1/${backends[0]!.port}`),
        interpreter: yield* Interpreter.make({
          namers: [[
            Path.parseUnsafe("/#/three"),
            Namer.fromFunction(() =>
              NameTree.leaf(
                Name.boundConstant(
                  "/#/three",
                  Addr.bound(backends.map((b) => Address.make("127.0.0.1", b.port)))
                )
              )
            )
          ]]
        }),
        client: () => ({ failureAccrual: FailureAccrual.consecutiveFailures({ failures: 3 }) }),
        identifiers: [{ kind: "io.l5d.static", path: Path.parseUnsafe("/three") }],
        dstPrefix: Path.parseUnsafe("/#"),
        stats
      })
      const port = router.servers[0]!.port
      const agent = new (yield* Effect.promise(() => import("node:http"))).Agent({ keepAlive: true, maxSockets: 8 })
      let ok = 0
      let total = 0
      const batch = (n: number) =>
        Effect.promise(() =>
          Promise.all(Array.from({ length: n }, () =>
            send(port, { agent }).then((r) => {
              total++
              if (r.status === 200) ok++
            }, () => {
              total++
            })))
        )
      for (let i = 0; i < 10; i++) yield* batch(20)
      yield* Effect.promise(() => backends[1]!.kill())
      for (let i = 0; i < 20; i++) yield* batch(20)
      agent.destroy()
      expect(total).toBe(600)
      expect(ok / total).toBeGreaterThanOrEqual(0.99)
      const client = "rt/fa/client/#/three"
      expect(stats.counterValue(`${client}/failure_accrual/removals`)).toBeGreaterThanOrEqual(1)
      expect(stats.gaugeValues().get(`${client}/loadbalancer/size`)).toBe(3)
      expect(stats.gaugeValues().get(`${client}/loadbalancer/available`)).toBe(2)
    }))

  it.live("total timeout gives 503 with l5d-err; connect failure gives 502", () =>
    Effect.gen(function*() {
      const slow = yield* backend((_req, res) => {
        setTimeout(() => res.end("late"), 2000)
      })
      const closed = yield* Effect.promise(freePort)
      const router = yield* Router.make({
        label: "t",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(`/svc/slow => ${inet(slow.port)}; /svc/gone => ${inet(closed)}`),
        interpreter: yield* Interpreter.make(),
        service: () => ({ totalTimeout: Duration.millis(100) })
      })
      const port = router.servers[0]!.port
      const r = yield* sendE(port, { headers: { host: "slow" } })
      expect(r.status).toBe(503)
      expect(Errors.decodeErr(String(r.headers["l5d-err"]))).toBe(
        "exceeded 100.milliseconds to /svc/slow while waiting for a response for the request, including retries (if applicable)"
      )
      const g = yield* sendE(port, { headers: { host: "gone" } })
      expect(g.status).toBe(502)
      expect(g.body).toContain(`Unable to establish connection to 127.0.0.1:${closed}.`)
      expect(g.headers["l5d-retryable"]).toBe("true")
    }))

  it.live("overload gives a fast 503 and the proxy recovers", () =>
    Effect.gen(function*() {
      const held: Array<() => void> = []
      const b = yield* backend((req, res) => {
        req.resume()
        held.push(() => res.end("done"))
      })
      const stats = Stats.makeInMemory()
      const router = yield* Router.make({
        label: "o",
        servers: [{ port: 0, maxConcurrentRequests: 2 }],
        dtab: Dtab.parseUnsafe(`/svc/web => ${inet(b.port)}`),
        interpreter: yield* Interpreter.make(),
        stats
      })
      const port = router.servers[0]!.port
      const first = [send(port, { headers: { host: "web" } }), send(port, { headers: { host: "web" } })]
      yield* Effect.promise(async () => {
        while (held.length < 2) await new Promise((r) => setTimeout(r, 5))
      })
      const rejected = yield* sendE(port, { headers: { host: "web" } })
      expect(rejected.status).toBe(503)
      expect(Errors.decodeErr(String(rejected.headers["l5d-err"]))).toContain("maxConcurrentRequests 2")
      expect(b.seen.length).toBe(2)
      held.splice(0).forEach((f) => f())
      const done = yield* Effect.promise(() => Promise.all(first))
      expect(done.map((r) => r.status)).toEqual([200, 200])
      const after = send(port, { headers: { host: "web" } })
      yield* Effect.promise(async () => {
        while (held.length < 1) await new Promise((r) => setTimeout(r, 5))
      })
      held.splice(0).forEach((f) => f())
      expect((yield* Effect.promise(() => after)).status).toBe(200)
      expect(stats.counterValue(`rt/o/server/127.0.0.1/${port}/failures/Overloaded`)).toBe(1)
    }))

  it.live("falls back to the next alternative when a namer turns Neg, and back", () =>
    Effect.gen(function*() {
      const primary = yield* textBackend("primary")
      const fallback = yield* textBackend("fallback")
      const answer = yield* SubscriptionRef.make<NameTree.NameTree<Name.Name>>(
        NameTree.leaf(Name.boundConstant("/#/flip/web", Addr.bound([Address.make("127.0.0.1", primary.port)])))
      )
      const flip = Namer.make(() => SubscriptionRef.changes(answer))
      const router = yield* Router.make({
        label: "neg",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(`/svc/web => /#/flip/web | ${inet(fallback.port)}`),
        interpreter: yield* Interpreter.make({ namers: [[Path.parseUnsafe("/#/flip"), flip]] })
      })
      const port = router.servers[0]!.port
      expect((yield* sendE(port, { headers: { host: "web" } })).body).toBe("primary")
      const until = (body: string) =>
        Effect.promise(async () => {
          for (let i = 0; i < 200; i++) {
            const r = await send(port, { headers: { host: "web" } })
            if (r.body === body) return r.body
            await new Promise((done) => setTimeout(done, 10))
          }
          return "never switched"
        })
      yield* SubscriptionRef.set(answer, NameTree.neg)
      expect(yield* until("fallback")).toBe("fallback")
      yield* SubscriptionRef.set(
        answer,
        NameTree.leaf(Name.boundConstant("/#/flip/web", Addr.bound([Address.make("127.0.0.1", primary.port)])))
      )
      expect(yield* until("primary")).toBe("primary")
    }))

  it.live("binding timeout gives 503; Via loops give 400; clearContext hides l5d headers and error bodies", () =>
    Effect.gen(function*() {
      const b = yield* textBackend("b")
      const never = Namer.make(() => Stream.never)
      const router = yield* Router.make({
        label: "misc",
        servers: [{ port: 0 }, { port: 0, clearContext: true }],
        dtab: Dtab.parseUnsafe(`/svc/stuck => /#/never/x; /svc/web => ${inet(b.port)}`),
        interpreter: yield* Interpreter.make({ namers: [[Path.parseUnsafe("/#/never"), never]] }),
        bindingTimeout: Duration.millis(100),
        maxCallDepth: 2
      })
      const [plain, edge] = [router.servers[0]!.port, router.servers[1]!.port]
      const stuck = yield* sendE(plain, { headers: { host: "stuck" } })
      expect(stuck.status).toBe(503)
      expect(Errors.decodeErr(String(stuck.headers["l5d-err"]))).toBe(
        "exceeded 100.milliseconds to /svc/stuck while binding /svc/stuck"
      )
      const loop = yield* sendE(plain, { headers: { host: "web", via: "1.1 a, 1.1 b, 1.1 c" } })
      expect(loop.status).toBe(400)
      expect(loop.body).toBe("Maximum number of calls (2) has been exceeded. Please check for proxy loops.")

      const viaEdge = yield* sendE(edge, {
        headers: { host: "web", "l5d-dtab": "/svc/web => /$/fail", "l5d-ctx-thing": "x" }
      })
      expect(viaEdge.status).toBe(200)
      expect(Object.keys(viaEdge.headers).filter((h) => h.startsWith("l5d-"))).toEqual([])
      const seen = b.seen[b.seen.length - 1]!.headers
      expect(seen["l5d-ctx-thing"]).toBeUndefined()
      expect(seen["l5d-dst-service"]).toBe("/svc/web")
      const unroutable = yield* sendE(edge, { headers: { host: "nowhere" } })
      expect(unroutable.status).toBe(502)
      expect(unroutable.body).toBe("")
      expect(unroutable.headers["l5d-err"]).toBeUndefined()
      const passthrough = yield* sendE(plain, { headers: { host: "web", "l5d-ctx-thing": "x" } })
      expect(passthrough.status).toBe(200)
      expect(b.seen[b.seen.length - 1]!.headers["l5d-ctx-thing"]).toBe("x")
    }))
})
