import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Errors from "../../src/http/Errors.js"
import * as Headers from "../../src/http/Headers.js"
import * as Router from "../../src/http/Router.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import { sendE, textBackend } from "../http/support.js"

const inet = (port: number) => `/$/inet/127.0.0.1/${port}`

describe("Router dtab header limits", () => {
  it.live("a 3,000-deep and a 100 KB l5d-dtab get 400 with l5d-err; normal requests on the same router route", () =>
    Effect.gen(function*() {
      const books = yield* textBackend("books")
      const other = yield* textBackend("other")
      const interpreter = yield* Interpreter.make()
      const router = yield* Router.make({
        label: "http",
        servers: [{ port: 0, maxHeaderBytes: 256 * 1024 }],
        dtab: Dtab.parseUnsafe(`/svc/books => ${inet(books.port)}`),
        interpreter
      })
      const port = router.servers[0]!.port

      const deep = `/svc/books => ${"(".repeat(3_000)}${inet(other.port)}${")".repeat(3_000)}`
      const r1 = yield* sendE(port, { headers: { host: "books", "l5d-dtab": deep } })
      expect(r1.status).toBe(400)
      expect(Errors.decodeErr(String(r1.headers["l5d-err"]))).toMatch(
        /^Invalid l5d-dtab header: name tree nested deeper than 256 levels at offset \d+$/
      )

      const big = `/svc/books => ${inet(other.port)};`.repeat(Math.ceil(100_000 / 38))
      expect(big.length).toBeGreaterThan(100_000)
      const r2 = yield* sendE(port, { headers: { host: "books", "l5d-dtab": big } })
      expect(r2.status).toBe(400)
      expect(Errors.decodeErr(String(r2.headers["l5d-err"]))).toBe(
        `Invalid l5d-dtab header: longer than ${Headers.maxDtabHeaderLength} characters (${big.length})`
      )
      const r3 = yield* sendE(port, { headers: { host: "books", "l5d-ctx-dtab": big } })
      expect(r3.status).toBe(400)
      expect(Errors.decodeErr(String(r3.headers["l5d-err"]))).toContain("Invalid l5d-ctx-dtab header: longer than")

      const ok = yield* sendE(port, { headers: { host: "books" } })
      expect(ok.status).toBe(200)
      expect(ok.body).toBe("books")
      const overridden = yield* sendE(port, {
        headers: { host: "books", "l5d-dtab": `/svc/books => ${"(".repeat(200)}${inet(other.port)}${")".repeat(200)}` }
      })
      expect(overridden.status).toBe(200)
      expect(overridden.body).toBe("other")
      expect(books.seen.length).toBe(1)
    }))

  it.live("a head over the server's limit is a 431 before the router reads it", () =>
    Effect.gen(function*() {
      const books = yield* textBackend("books")
      const interpreter = yield* Interpreter.make()
      const router = yield* Router.make({
        label: "http",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(`/svc/books => ${inet(books.port)}`),
        interpreter
      })
      const port = router.servers[0]!.port
      const r = yield* sendE(port, { headers: { host: "books", "l5d-dtab": "/a=>/b;".repeat(15_000) } })
      expect(r.status).toBe(431)
      const ok = yield* sendE(port, { headers: { host: "books" } })
      expect(ok.status).toBe(200)
    }))
})
