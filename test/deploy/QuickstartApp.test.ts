import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { main, proxyUrlOf } from "../../examples/quickstart/app.js"
import { sendE, textBackend } from "../http/support.js"

const started = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.promise(() => main(args, env)),
    (s: Http.Server) =>
      Effect.promise(() =>
        new Promise<void>((r) => {
          s.close(() => r())
          s.closeAllConnections()
        })
      )
  ).pipe(Effect.map((s) => (s.address() as AddressInfo).port))

describe("one quickstart app alone (the container entry)", () => {
  it.live("serves the named app on PORT; web calls its proxy at PROXY_HOST:PROXY_PORT", () =>
    Effect.gen(function*() {
      const books = yield* started(["books"], { PORT: "0" })
      const r = yield* sendE(books, { path: "/3" })
      expect(JSON.parse(r.body)).toMatchObject({ service: "books", version: "v1", title: "Kindred" })

      // a stand-in proxy that answers both of web's calls with the same list
      const proxy = yield* textBackend(
        JSON.stringify({ version: "vX", items: [{ id: 1, title: "T", authorId: 1, name: "N" }] })
      )
      const web = yield* started(["web"], { PORT: "0", PROXY_HOST: "127.0.0.1", PROXY_PORT: String(proxy.port) })
      const w = yield* sendE(web, {})
      expect(w.body).toBe("web (books vX, authors vX)\nT by N\n")
      expect(proxy.seen.map((s) => s.headers["host"]).sort()).toEqual(["authors", "books"])
    }))

  it.live("rejects an unknown app or port, saying why", () =>
    Effect.gen(function*() {
      const bad = yield* Effect.promise(() => main(["nope"], {}).then(() => "started", (e: Error) => e.message))
      expect(bad).toBe(`usage: app <web|books|authors|books-v2> (got "nope")`)
      const port = yield* Effect.promise(() =>
        main(["books"], { PORT: "x" }).then(() => "started", (e: Error) => e.message)
      )
      expect(port).toBe("PORT: not a port: x")
      expect(proxyUrlOf({})).toBe("http://127.0.0.1:4140")
      expect(proxyUrlOf({ PROXY_HOST: "10.0.0.1" })).toBe("http://10.0.0.1:4140")
      expect(proxyUrlOf({ PROXY_URL: "http://x:1" })).toBe("http://x:1")
    }))
})
