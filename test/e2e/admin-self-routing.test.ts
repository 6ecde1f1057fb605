import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { decodeErr } from "../../src/http/Errors.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"

const backend = Effect.acquireRelease(
  Effect.callback<Http.Server>((resume) => {
    const s = Http.createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/plain" })
      res.end(`backend ${req.method} ${req.url}`)
    })
    s.listen({ host: "127.0.0.1", port: 0 }, () => resume(Effect.succeed(s)))
  }),
  (s) =>
    Effect.callback<void>((resume) => {
      s.close(() => resume(Effect.void))
      s.closeAllConnections()
    })
).pipe(Effect.map((s) => (s.address() as AddressInfo).port))

interface Answer {
  readonly status: number
  readonly err: string | undefined
  readonly body: string
}

const send = (port: number, path: string, headers: Record<string, string>, method = "GET") =>
  Effect.promise(() =>
    new Promise<Answer>((resolve, reject) => {
      const req = Http.request({ host: "127.0.0.1", port, path, method, headers, agent: false }, (res) => {
        let body = ""
        res.on("data", (c: Buffer) => (body += c.toString()))
        res.on("end", () => {
          const err = res.headers["l5d-err"]
          resolve({ status: res.statusCode ?? 0, err: err === undefined ? undefined : decodeErr(String(err)), body })
        })
      })
      req.on("error", reject)
      req.end(method === "POST" ? "{}" : undefined)
    })
  )

const configOf = (text: string): Config.Config => {
  const r = Config.parse(text)
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

const setup = (extra = "") =>
  Effect.gen(function*() {
    const port = yield* backend
    const linker = yield* Linker.make(configOf(`
admin: {port: 0}
routers:
- protocol: http
  label: web
  dtab: /svc => /$/inet/127.1/${port}
  servers: [{port: 0}]
${extra}`))
    return { linker, web: linker.routers[0]!.servers[0]!.port, admin: linker.admin.port }
  })

const notShutDown = (linker: Linker.Linker) =>
  Effect.gen(function*() {
    yield* Effect.promise(() => new Promise((r) => setTimeout(r, 20)))
    const done = yield* Effect.timeoutOption(linker.shutdownRequested, Duration.millis(1))
    expect(done._tag).toBe("None")
  })

describe("Routers refuse to route to the proxy's own addresses", () => {
  it.live("an l5d-dtab to the admin address: 502 with l5d-err, the admin untouched, other traffic fine", () =>
    Effect.gen(function*() {
      const { admin, linker, web } = yield* setup()
      const hostile = { host: "x", "l5d-dtab": `/svc/x => /$/inet/127.0.0.1/${admin}` }
      const [shutdown, ...others] = yield* Effect.all([
        send(web, "/admin/shutdown", { ...hostile, "content-type": "application/json", "x-weir-admin": "1" }, "POST"),
        ...Array.from({ length: 5 }, (_, i) => send(web, `/ok/${i}`, { host: "books" }))
      ], { concurrency: "unbounded" })
      expect(shutdown!.status).toBe(502)
      expect(shutdown!.err).toContain("refuses to route to its own admin address")
      expect(shutdown!.err).toContain("allowSelfRouting")
      for (const [i, r] of others.entries()) expect(r).toMatchObject({ status: 200, body: `backend GET /ok/${i}` })
      const config = yield* send(web, "/config.json", hostile)
      expect(config.status).toBe(502)
      expect(config.body).not.toContain("routers")
      yield* notShutDown(linker)
      expect((yield* send(admin, "/admin/ping", { host: `127.0.0.1:${admin}` })).body).toBe("pong")
      expect((yield* send(web, "/after", { host: "books" })).status).toBe(200)
    }))

  it.live("every spelling of a local address, and the router's own server address, is refused", () =>
    Effect.gen(function*() {
      const { admin, linker, web } = yield* setup()
      for (const dst of [`/$/inet/localhost/${admin}`, `/$/inet/127.1/${admin}`, `/$/inet/0.0.0.0/${admin}`]) {
        const r = yield* send(web, "/admin/shutdown", { host: "x", "l5d-dtab": `/svc/x => ${dst}` }, "POST")
        expect(r.status, dst).toBe(502)
        expect(r.err, dst).toContain("its own admin address")
      }
      const loop = yield* send(web, "/", { host: "x", "l5d-dtab": `/svc/x => /$/inet/127.0.0.1/${web}` })
      expect(loop.status).toBe(502)
      expect(loop.err).toContain(`refuses to route to its own server address 127.0.0.1:${web} (a server of router web)`)
      yield* notShutDown(linker)
    }))

  it.live("allowSelfRouting: true lets a router reach its own addresses (the admin still checks Host)", () =>
    Effect.gen(function*() {
      const { admin, web } = yield* setup("  allowSelfRouting: true")
      const r = yield* send(web, "/admin/ping", { host: "x", "l5d-dtab": `/svc/x => /$/inet/127.0.0.1/${admin}` })
      expect(r.status).toBe(403)
      expect(r.body).toContain("does not answer for Host")
    }))

  it("matches wildcard listeners against every local address, and the reverse", () => {
    const own: ReadonlyArray<Linker.OwnAddress> = [
      { ip: "0.0.0.0", port: 4140, what: "server", router: "web" },
      { ip: "127.0.0.1", port: 9990, what: "admin" }
    ]
    expect(Linker.ownAddressOf("127.0.0.1", 4140, own)?.what).toBe("server")
    expect(Linker.ownAddressOf("127.0.0.9", 4140, own)?.what).toBe("server")
    expect(Linker.ownAddressOf("::1", 4140, own)?.what).toBe("server")
    expect(Linker.ownAddressOf("::ffff:127.0.0.1", 9990, own)?.what).toBe("admin")
    expect(Linker.ownAddressOf("0.0.0.0", 9990, own)?.what).toBe("admin")
    expect(Linker.ownAddressOf("127.0.0.1", 9991, own)).toBeUndefined()
    expect(Linker.ownAddressOf("127.0.0.2", 9990, own)).toBeUndefined()
    expect(Linker.ownAddressOf("192.0.2.1", 4140, own)).toBeUndefined()
  })

  it.live("a router's own shutdown stays possible through the admin itself", () =>
    Effect.gen(function*() {
      const { admin, linker } = yield* setup()
      const r = yield* send(admin, "/admin/shutdown", { host: `localhost:${admin}`, "x-weir-admin": "1" }, "POST")
      expect(r.status).toBe(200)
      const grace = yield* linker.shutdownRequested
      expect(Duration.isDuration(grace)).toBe(true)
    }))
})
