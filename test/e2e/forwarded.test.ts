import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as http from "node:http"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { sendE, textBackend } from "../http/support.js"

const configOf = (text: string): Config.Config => {
  const r = Config.parse(text)
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

const routerConfig = (backendPort: number, forwarded: string) =>
  configOf(`
admin: {port: 0}
routers:
- protocol: http
  label: edge
  dtab: /svc/web => /$/inet/127.0.0.1/${backendPort};
  servers:
  - {port: 0, addForwardedHeader: ${forwarded}}
`)

const element = /^by=([^;]+);for=([^;]+);host=web$/

/** The `by` and `for` of the Forwarded header of every request the backend saw. */
const labels = (seen: ReadonlyArray<{ readonly headers: http.IncomingHttpHeaders }>) =>
  seen.map((r) => {
    const m = element.exec(String(r.headers["forwarded"]))
    expect(m).not.toBeNull()
    return { by: m![1]!, for: m![2]! }
  })

describe("addForwardedHeader (e2e)", () => {
  it.live("connectionRandom keeps the label on a keep-alive connection; a new connection gets another", () =>
    Effect.gen(function*() {
      const b = yield* textBackend("ok")
      const config = routerConfig(b.port, "{by: {kind: router}, for: {kind: connectionRandom}}")
      yield* Effect.scoped(Effect.gen(function*() {
        const linker = yield* Linker.make(config)
        const port = linker.routers[0]!.servers[0]!.port
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
        yield* Effect.addFinalizer(() => Effect.sync(() => agent.destroy()))
        const first = yield* sendE(port, { headers: { host: "web" }, agent })
        const second = yield* sendE(port, { headers: { host: "web" }, agent })
        const third = yield* sendE(port, { headers: { host: "web" }, agent: false })
        expect([first.status, second.status, third.status]).toEqual([200, 200, 200])
      }))
      const ls = labels(b.seen)
      expect(ls.length).toBe(3)
      for (const l of ls) {
        expect(l.by).toBe("_edge")
        expect(l.for).toMatch(/^_[A-Za-z0-9]{6}$/)
      }
      expect(ls[1]!.for).toBe(ls[0]!.for)
      expect(ls[2]!.for).not.toBe(ls[0]!.for)
    }))

  it.live("requestRandom (the default) labels every request anew, even on one connection", () =>
    Effect.gen(function*() {
      const b = yield* textBackend("ok")
      const config = routerConfig(b.port, "{}")
      yield* Effect.scoped(Effect.gen(function*() {
        const linker = yield* Linker.make(config)
        const port = linker.routers[0]!.servers[0]!.port
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
        yield* Effect.addFinalizer(() => Effect.sync(() => agent.destroy()))
        yield* sendE(port, { headers: { host: "web" }, agent })
        yield* sendE(port, { headers: { host: "web" }, agent })
      }))
      const ls = labels(b.seen)
      expect(ls.length).toBe(2)
      for (const l of [...ls.map((l) => l.by), ...ls.map((l) => l.for)]) expect(l).toMatch(/^_[A-Za-z0-9]{6}$/)
      expect(ls[1]!.for).not.toBe(ls[0]!.for)
      expect(ls[1]!.by).not.toBe(ls[0]!.by)
    }))

  it.live("ip:port and ip name the server and the client, after the elements of earlier proxies", () =>
    Effect.gen(function*() {
      const b = yield* textBackend("ok")
      const config = routerConfig(b.port, `{by: {kind: "ip:port"}, for: {kind: ip}}`)
      let port = 0
      yield* Effect.scoped(Effect.gen(function*() {
        const linker = yield* Linker.make(config)
        port = linker.routers[0]!.servers[0]!.port
        yield* sendE(port, { headers: { host: "web", forwarded: "for=192.0.2.60;proto=https" } })
      }))
      expect(b.seen.length).toBe(1)
      expect(b.seen[0]!.headers["forwarded"]).toBe(
        `for=192.0.2.60;proto=https, by="127.0.0.1:${port}";for=127.0.0.1;host=web`
      )
    }))

  it.live("without the key, no Forwarded header is added", () =>
    Effect.gen(function*() {
      const b = yield* textBackend("ok")
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
      expect(b.seen[0]!.headers["forwarded"]).toBeUndefined()
    }))
})
