import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import { mkdtempSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Path from "../../src/naming/Path.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"

const backend = (name: string) =>
  Effect.acquireRelease(
    Effect.callback<Http.Server>((resume) => {
      const s = Http.createServer((req, res) => {
        const body = JSON.stringify({ name, url: req.url, dst: req.headers["l5d-dst-service"] })
        res.writeHead(req.url === "/fail" ? 500 : 200, { "content-type": "application/json" })
        res.end(body)
      })
      s.listen({ host: "127.0.0.1", port: 0 }, () => resume(Effect.succeed(s)))
    }),
    (s) =>
      Effect.callback<void>((resume) => {
        s.close(() => resume(Effect.void))
        s.closeAllConnections()
      })
  ).pipe(Effect.map((s) => (s.address() as AddressInfo).port))

const get = (
  url: string,
  headers: Record<string, string> = {},
  init: { readonly method?: string; readonly body?: string } = {}
) =>
  Effect.promise(() =>
    new Promise<{ status: number; headers: Map<string, string>; body: string }>((resolve, reject) => {
      const req = Http.request(url, { method: init.method ?? "GET", headers, agent: false }, (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: new Map(Object.entries(res.headers).map(([k, v]) => [k, String(v)])),
            body: Buffer.concat(chunks).toString("utf8")
          }))
      })
      req.on("error", reject)
      req.end(init.body)
    })
  )

const configOf = (text: string): Config.Config => {
  const r = Config.parse(text)
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

const setup = Effect.gen(function*() {
  const books = yield* backend("books")
  const authors = yield* backend("authors")
  const dir = mkdtempSync(join(tmpdir(), "weir-linker-"))
  writeFileSync(join(dir, "books"), `127.0.0.1 ${books}\n`)
  writeFileSync(join(dir, "authors"), `127.0.0.1 ${authors}\n`)
  const config = configOf(`
admin: {port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${dir}
routers:
- protocol: http
  label: web
  dtab: /svc => /#/io.l5d.fs
  servers: [{port: 0}]
  service:
    kind: io.l5d.static
    configs:
    - prefix: /svc/books
      responseClassifier: {kind: io.l5d.http.retryableRead5XX}
- protocol: http
  label: edge
  dtab: /svc => /$/inet/127.1/${authors}
  identifier: {kind: io.l5d.static, path: /authors}
  servers: [{port: 0, clearContext: true}]
telemetry:
- kind: io.l5d.prometheus
  prefix: weir_
`)
  const linker = yield* Linker.make(config)
  const port = (i: number) => linker.routers[i]!.servers[0]!.port
  return {
    linker,
    web: `http://127.0.0.1:${port(0)}`,
    edge: `http://127.0.0.1:${port(1)}`,
    admin: `http://127.0.0.1:${linker.admin.port}`,
    books,
    authors
  }
})

describe("Linker", () => {
  it.live("routes by Host through the fs namer, with linkerd's metrics", () =>
    Effect.gen(function*() {
      const { admin, web } = yield* setup
      for (let i = 0; i < 3; i++) {
        const r = yield* get(`${web}/x`, { host: "books" })
        expect(r.body).toContain("books")
        expect(r.status).toBe(200)
        expect(JSON.parse(r.body)).toMatchObject({ name: "books", url: "/x", dst: "/svc/books" })
      }
      const a = yield* get(`${web}/`, { host: "authors" })
      expect(JSON.parse(a.body).name).toBe("authors")
      const canary = yield* get(`${web}/`, { host: "books", "l5d-dtab": "/svc/books => /svc/authors" })
      expect(JSON.parse(canary.body).name).toBe("authors")
      const none = yield* get(`${web}/`, { host: "nope" })
      expect(none.status).toBe(502)
      expect(none.headers.get("l5d-err")).toContain("Unable+to+route")
      const failed = yield* get(`${web}/fail`, { host: "books" })
      expect(failed.status).toBe(500)

      const m = JSON.parse((yield* get(`${admin}/admin/metrics.json`)).body) as Record<string, number>
      const server = Object.keys(m).find((k) => /^rt\/web\/server\/127\.0\.0\.1\/\d+\/requests$/.test(k))!
      expect(m[server]).toBe(7)
      expect(m["rt/web/service/svc/books/requests"]).toBe(5)
      expect(m["rt/web/service/svc/books/failures"]).toBe(1)
      expect(m["rt/web/client/#/io.l5d.fs/books/requests"]).toBeGreaterThanOrEqual(4)
      expect(m["rt/web/client/#/io.l5d.fs/books/loadbalancer/size"]).toBe(1)
      expect(m["rt/web/client/#/io.l5d.fs/books/request_latency_ms.count"]).toBeGreaterThanOrEqual(4)
      const prom = (yield* get(`${admin}/admin/metrics/prometheus`)).body
      expect(prom).toContain(`weir_rt:service:requests{rt="web", service="svc/books"} 5`)
      expect(prom).toContain(`weir_rt:client:requests{rt="web", client="#/io.l5d.fs/books"}`)
    }))

  it.live("serves /config.json, /delegator.json and the dashboard", () =>
    Effect.gen(function*() {
      const { admin } = yield* setup
      const config = JSON.parse((yield* get(`${admin}/config.json`)).body)
      expect(config.routers.map((r: { label: string }) => r.label)).toEqual(["web", "edge"])
      expect(config.routers[0].dtab).toBe("/svc=>/#/io.l5d.fs")
      const d = yield* get(
        `${admin}/delegator.json?namespace=web&path=/svc/books&dtab=${encodeURIComponent("/svc => /#/io.l5d.fs")}`
      )
      expect(d.status).toBe(200)
      const tree = JSON.parse(d.body)
      expect(tree.type).toBe("delegate")
      expect(JSON.stringify(tree)).toContain("/#/io.l5d.fs/books")
      const post = yield* get(`${admin}/delegator.json`, { "content-type": "application/json" }, {
        method: "POST",
        body: JSON.stringify({ namespace: "web", dtab: "/svc => /$/inet/127.1/1", path: "/svc/x" })
      })
      expect(post.status).toBe(200)
      expect(post.body).toContain("/$/inet/127.1/1")
      const badDtab = yield* get(`${admin}/delegator.json?namespace=web&path=/svc/x&dtab=${encodeURIComponent("/a=>")}`)
      expect(badDtab.status).toBe(400)
      expect(badDtab.body).toMatch(/^Invalid dtab: /)
      const badPath = yield* get(`${admin}/delegator.json?namespace=web&path=nope&dtab=`)
      expect(badPath.status).toBe(400)
      expect(badPath.body).toMatch(/^Invalid path: /)
      const unknown = yield* get(`${admin}/delegator.json?namespace=zzz&path=/a&dtab=`)
      expect(unknown.status).toBe(501)
      const dash = yield* get(`${admin}/`)
      expect(dash.body).toContain("web, edge")
    }))

  it.live("clearContext on the edge strips l5d headers", () =>
    Effect.gen(function*() {
      const { edge } = yield* setup
      const r = yield* get(`${edge}/`, { "l5d-dtab": "/svc => /$/fail" })
      expect(r.status).toBe(200)
      expect(JSON.parse(r.body).name).toBe("authors")
      expect([...r.headers.keys()].filter((k) => k.startsWith("l5d-"))).toEqual([])
    }))

  it.live("a shutdown request completes shutdownRequested", () =>
    Effect.gen(function*() {
      const { admin, linker, web } = yield* setup
      const r = yield* get(`${admin}/admin/shutdown?grace=1s`, {}, { method: "POST" })
      expect(r.body).toBe("quitting\n")
      const grace = yield* linker.shutdownRequested
      expect(grace).toBeDefined()
      yield* linker.drain(grace)
      const refused = yield* get(`${web}/`, { host: "books" }).pipe(
        Effect.as(false),
        Effect.catchDefect(() => Effect.succeed(true))
      )
      expect(refused).toBe(true)
    }))

  it.live("a bad config starts nothing; a start failure closes what had started", () =>
    Effect.gen(function*() {
      const bad = configOf(`
telemetry: [{kind: io.l5d.zipkin}]
routers: [{protocol: http, servers: [{port: 0}]}]
`)
      const err = yield* Effect.scoped(Linker.make(bad)).pipe(Effect.flip)
      expect(err.problems[0]!.message).toContain(
        "telemeter kind io.l5d.zipkin is not available in this version of weir"
      )

      const taken = yield* Effect.acquireRelease(
        Effect.callback<net.Server>((resume) => {
          const s = net.createServer()
          s.listen({ host: "127.0.0.1", port: 0 }, () => resume(Effect.succeed(s)))
        }),
        (s) => Effect.sync(() => s.close())
      )
      const takenPort = (taken.address() as AddressInfo).port
      const free = yield* Effect.callback<number>((resume) => {
        const s = net.createServer()
        s.listen({ host: "127.0.0.1", port: 0 }, () => {
          const p = (s.address() as AddressInfo).port
          s.close(() => resume(Effect.succeed(p)))
        })
      })
      const clash = configOf(`
admin: {port: 0}
routers:
- {protocol: http, label: a, servers: [{port: ${free}}]}
- {protocol: http, label: b, servers: [{port: ${takenPort}}]}
`)
      const scope = yield* Scope.make()
      const exit = yield* Linker.make(clash).pipe(Scope.provide(scope), Effect.exit)
      yield* Scope.close(scope, Exit.void)
      expect(Exit.isFailure(exit)).toBe(true)
      const e = yield* Effect.flip(Effect.scoped(Linker.make(clash)))
      expect(e.problems[0]!.path).toBe("routers[1].servers")
      expect(e.message).toContain(String(takenPort))
      const reusable = yield* Effect.callback<boolean>((resume) => {
        const s = net.createServer()
        s.once("error", () => resume(Effect.succeed(false)))
        s.listen({ host: "127.0.0.1", port: free }, () => s.close(() => resume(Effect.succeed(true))))
      })
      expect(reusable).toBe(true)
    }))
})

describe("Linker params", () => {
  it("folds every matching static config in order", () => {
    const c = configOf(`
routers:
- protocol: http
  servers: [{}]
  client:
    kind: io.l5d.static
    configs:
    - prefix: /#/io.l5d.fs
      loadBalancer: {kind: roundRobin}
      requestAttemptTimeoutMs: 100
    - prefix: /#/io.l5d.fs/{service}
      loadBalancer: {kind: ewma}
    - prefix: /$/inet
      failureAccrual: {kind: none}
  service:
    kind: io.l5d.static
    configs:
    - prefix: /svc
      totalTimeoutMs: 1000
    - prefix: /svc/*/admin
      responseClassifier: {kind: io.l5d.http.retryableIdempotent5XX}
`)
    const r = c.routers[0]!
    const path = Path.parseUnsafe
    const books = Linker.clientParams(r.client, path("/#/io.l5d.fs/books"))
    expect(books.loadBalancer?.kind).toBe("ewma")
    expect(books.requestAttemptTimeoutMs).toBeDefined()
    expect(books.failureAccrual).toBeUndefined()
    expect(Linker.clientParams(r.client, path("/#/io.l5d.fs")).loadBalancer?.kind).toBe("roundRobin")
    expect(Linker.clientParams(r.client, path("/$/inet/127.1/80")).failureAccrual).toEqual({ kind: "none" })
    expect(Linker.serviceParams(r.service, path("/svc/a/admin")).responseClassifier?.kind).toBe(
      "io.l5d.http.retryableIdempotent5XX"
    )
    expect(Linker.serviceParams(r.service, path("/svc/a/admin")).totalTimeoutMs).toBeDefined()
    expect(Linker.serviceParams(r.service, path("/other")).totalTimeoutMs).toBeUndefined()
  })
})
