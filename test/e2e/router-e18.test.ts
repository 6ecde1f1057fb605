import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Errors from "../../src/http/Errors.js"
import * as Router from "../../src/http/Router.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import { raw, sendE, textBackend } from "../http/support.js"

// linkerd1.md §3.10 E18: routing outcomes over HTTP, with the default identifier (Host).
describe("E18 routing outcomes over HTTP", () => {
  it.live("felix → cat (200), ralph-machio → 502, no Host → 400, each with l5d headers", () =>
    Effect.gen(function*() {
      const cat = yield* textBackend("meow")
      const dog = yield* textBackend("woof")
      const interpreter = yield* Interpreter.make()
      const router = yield* Router.make({
        label: "e18",
        servers: [{ port: 0 }],
        dtab: Dtab.parseUnsafe(
          `/p/cat => /$/inet/127.1/${cat.port}; /p/dog => /$/inet/127.1/${dog.port};` +
            "/svc/felix => /p/cat; /svc/clifford => /p/dog"
        ),
        interpreter
      })
      const port = router.servers[0]!.port

      const felix = yield* sendE(port, { headers: { host: "felix" } })
      expect(felix.status).toBe(200)
      expect(felix.body).toBe("meow")
      expect(cat.seen[0]!.headers["l5d-dst-service"]).toBe("/svc/felix")
      expect(cat.seen[0]!.headers["l5d-dst-client"]).toBe(`/$/inet/127.1/${cat.port}`)
      expect(cat.seen[0]!.headers["l5d-dst-residual"]).toBeUndefined()

      const clifford = yield* sendE(port, { headers: { host: "clifford" } })
      expect(clifford.body).toBe("woof")

      const ralph = yield* sendE(port, { headers: { host: "ralph-machio" } })
      expect(ralph.status).toBe(502)
      expect(Errors.decodeErr(String(ralph.headers["l5d-err"]))).toContain("Unable to route request!")

      const noHost = yield* Effect.promise(() => raw(port, "GET / HTTP/1.0\r\n\r\n"))
      expect(noHost).toMatch(/^HTTP\/1\.[01] 400 /)
      expect(noHost.toLowerCase()).toContain("l5d-err:")
      expect(cat.seen.length).toBe(1)
      expect(dog.seen.length).toBe(1)
    }))
})
