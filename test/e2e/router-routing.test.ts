import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Errors from "../../src/http/Errors.js"
import * as Router from "../../src/http/Router.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Path from "../../src/naming/Path.js"
import * as Stats from "../../src/Stats.js"
import { sendE, textBackend } from "../http/support.js"

const inet = (port: number) => `/$/inet/127.0.0.1/${port}`

describe("Router routing", () => {
  it.live("routes by Host through the dtab and adds linkerd headers", () =>
    Effect.gen(function*() {
      const books = yield* textBackend("books")
      const authors = yield* textBackend("authors")
      const interpreter = yield* Interpreter.make()
      const stats = Stats.makeInMemory()
      const router = yield* Router.make({
        label: "http",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(`/svc/books => ${inet(books.port)}; /svc/authors => ${inet(authors.port)}`),
        interpreter,
        stats
      })
      const port = router.servers[0]!.port
      const r1 = yield* sendE(port, { headers: { host: "books" }, path: "/a?b=c" })
      expect(r1.status).toBe(200)
      expect(r1.body).toBe("books")
      expect(r1.headers["l5d-success-class"]).toBe("1.0")
      expect(r1.headers["via"]).toBe("1.1 linkerd")
      const r2 = yield* sendE(port, { headers: { host: "authors" } })
      expect(r2.body).toBe("authors")
      const seen = books.seen[0]!
      expect(seen.url).toBe("/a?b=c")
      expect(seen.headers["l5d-dst-service"]).toBe("/svc/books")
      expect(seen.headers["l5d-dst-client"]).toBe(inet(books.port))
      expect(seen.headers["l5d-dst-residual"]).toBeUndefined()
      expect(seen.headers["l5d-reqid"]).toMatch(/^[0-9a-f]{16}$/)
      expect(seen.headers["l5d-ctx-dtab"]).toBeUndefined()
      expect(seen.headers["via"]).toBe("1.1 linkerd")
      expect(seen.headers["host"]).toBe("books")

      const proxied = yield* sendE(port, { path: "http://books/proxied?z=1", headers: { host: "ignored" } })
      expect(proxied.body).toBe("books")
      expect(books.seen[1]!.url).toBe("/proxied?z=1")
      expect(books.seen[1]!.headers["host"]).toBe("books")

      const r3 = yield* sendE(port, { headers: { host: "nope" } })
      expect(r3.status).toBe(502)
      expect(Errors.decodeErr(String(r3.headers["l5d-err"]))).toContain("Unable to route request!")
      expect(r3.body).toContain("service name: /svc/nope")
      expect(r3.body).toContain(`/svc/books => ${inet(books.port)}`)

      expect(stats.counterValue(`rt/http/server/127.0.0.1/${port}/requests`)).toBe(4)
      expect(stats.counterValue(`rt/http/server/127.0.0.1/${port}/success`)).toBe(3)
      expect(stats.counterValue(`rt/http/server/127.0.0.1/${port}/failures`)).toBe(1)
      expect(stats.counterValue(`rt/http/server/127.0.0.1/${port}/status/502`)).toBe(1)
      expect(stats.counterValue("rt/http/service/svc/books/requests")).toBe(2)
      expect(stats.counterValue("rt/http/service/svc/books/success")).toBe(2)
      expect(stats.counterValue(`rt/http/client/$/inet/127.0.0.1/${books.port}/requests`)).toBe(2)
      expect(stats.counterValue(`rt/http/client/$/inet/127.0.0.1/${books.port}/status/200`)).toBe(2)
      expect(stats.counterValue(`rt/http/client/$/inet/127.0.0.1/${books.port}/status/2XX`)).toBe(2)
      expect(stats.histogramSummary(`rt/http/server/127.0.0.1/${port}/request_latency_ms`).count).toBe(4)
      expect(stats.gaugeValues().get(`rt/http/client/$/inet/127.0.0.1/${books.port}/loadbalancer/size`)).toBe(1)
      expect(stats.gaugeValues().get(`rt/http/client/$/inet/127.0.0.1/${books.port}/connections`)).toBe(1)
    }))

  it.live("routes by path, consuming the segment, and honours l5d-dtab overrides", () =>
    Effect.gen(function*() {
      const v1 = yield* textBackend("v1")
      const v2 = yield* textBackend("v2")
      const interpreter = yield* Interpreter.make()
      const router = yield* Router.make({
        label: "int",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(`/svc/books => ${inet(v1.port)}; /svc/books-v2 => ${inet(v2.port)}`),
        identifiers: [{ kind: "io.l5d.path", segments: 1, consume: true }],
        interpreter
      })
      const port = router.servers[0]!.port
      const r1 = yield* sendE(port, { path: "/books/x/y?q=1" })
      expect(r1.body).toBe("v1")
      expect(v1.seen[0]!.url).toBe("/x/y?q=1")
      const r2 = yield* sendE(port, { path: "/books/z", headers: { "l5d-dtab": "/svc/books => /svc/books-v2" } })
      expect(r2.body).toBe("v2")
      const seen = v2.seen[0]!
      expect(seen.headers["l5d-ctx-dtab"]).toBe("/svc/books=>/svc/books-v2")
      expect(seen.headers["l5d-dtab"]).toBeUndefined()
      const bad = yield* sendE(port, { path: "/books", headers: { "l5d-dtab": "/svc/books => " } })
      expect(bad.status).toBe(400)
      expect(bad.headers["l5d-err"]).toBeDefined()
      const none = yield* sendE(port, { path: "/" })
      expect(none.status).toBe(400)
      expect(Errors.decodeErr(String(none.headers["l5d-err"]))).toContain("not enough segments in path")
    }))

  it.live("header.token default rejects a request without Host; methodAndHost and static identify", () =>
    Effect.gen(function*() {
      const b = yield* textBackend("b")
      const interpreter = yield* Interpreter.make()
      const router = yield* Router.make({
        label: "m",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(`/svc/1.1/GET/web => ${inet(b.port)}; /svc/fixed => ${inet(b.port)}`),
        identifiers: [
          { kind: "io.l5d.methodAndHost" },
          { kind: "io.l5d.static", path: Path.parseUnsafe("/fixed") }
        ],
        interpreter
      })
      const port = router.servers[0]!.port
      const r = yield* sendE(port, { headers: { host: "WEB" } })
      expect(r.status).toBe(200)
      expect(b.seen[0]!.headers["l5d-dst-service"]).toBe("/svc/1.1/GET/web")
      const r2 = yield* sendE(port, { method: "POST", headers: { host: "web" }, body: "x" })
      expect(r2.status).toBe(502)
    }))

  it.live("residual path, weighted unions and deadline propagation", () =>
    Effect.gen(function*() {
      const a = yield* textBackend("a")
      const b = yield* textBackend("b")
      const router = yield* Router.make({
        label: "u",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(
          `/svc => /$/inet/127.0.0.1/${a.port}; /svc/split => 3 * ${inet(a.port)} & 1 * ${inet(b.port)}`
        ),
        interpreter: yield* Interpreter.make(),
        service: () => ({ totalTimeout: Duration.seconds(5) })
      }).pipe(Random.withSeed(7))
      const port = router.servers[0]!.port
      const residual = yield* sendE(port, { headers: { host: "books" } })
      expect(residual.body).toBe("a")
      const seen = a.seen[0]!.headers
      expect(seen["l5d-dst-client"]).toBe(inet(a.port))
      expect(seen["l5d-dst-residual"]).toBe("/books")
      const deadline = String(seen["l5d-ctx-deadline"]).split(" ").map((n) => BigInt(n))
      expect(deadline.length).toBe(2)
      expect(deadline[1]! - deadline[0]!).toBe(5_000_000_000n)
      const bodies: Array<string> = []
      for (let i = 0; i < 200; i++) bodies.push((yield* sendE(port, { headers: { host: "split" } })).body)
      const toA = bodies.filter((x) => x === "a").length
      expect(toA + bodies.filter((x) => x === "b").length).toBe(200)
      expect(toA).toBeGreaterThan(110)
      expect(toA).toBeLessThan(190)
    }))
})
