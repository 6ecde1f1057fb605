/**
 * The io.l5d.recentRequests telemeter through a running proxy on loopback: requests through an
 * HTTP/1.1 router and an h2 router appear at /requests.json and /requests with their name, client,
 * endpoint, status and retries; the ring keeps the newest `capacity`; `sampleRate: 0` keeps none; a
 * proxy without the telemeter answers 404 with a page saying how to configure it.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Http2 from "node:http2"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import type * as RecentRequests from "../../src/telemetry/RecentRequests.js"
import { backend, getUrl as get, textBackend } from "../http/support.js"

const parse = (yaml: string) => {
  const r = Config.parse(yaml)
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

interface Requests {
  readonly sampleRate: number
  readonly capacity: number
  readonly requests: ReadonlyArray<RecentRequests.Entry>
}

const requestsOf = (admin: number) =>
  Effect.map(get(`http://127.0.0.1:${admin}/requests.json`), (r) => {
    expect(r.status).toBe(200)
    return JSON.parse(r.body) as Requests
  })

/** One HTTP/2 request (prior knowledge) to 127.0.0.1:`port` with `:authority` `authority`. */
const h2Get = (port: number, authority: string, path: string) =>
  Effect.promise(() =>
    new Promise<number>((resolve, reject) => {
      const session = Http2.connect(`http://127.0.0.1:${port}`)
      session.on("error", reject)
      const stream = session.request({ ":method": "GET", ":path": path, ":authority": authority })
      let status = 0
      stream.on("response", (h) => (status = Number(h[":status"])))
      stream.resume()
      stream.on("end", () => {
        session.close()
        resolve(status)
      })
      stream.on("error", reject)
    })
  )

describe("io.l5d.recentRequests", () => {
  it.live("keeps the newest requests of every router, with their name, client, endpoint and retries", () =>
    Effect.gen(function*() {
      const books = yield* textBackend("books")
      let calls = 0
      // the first request to /flaky fails with 503 and is retried
      const flaky = yield* backend((req, res) => {
        req.resume()
        res.writeHead(req.url === "/flaky" && calls++ === 0 ? 503 : 200, { "content-type": "text/plain" })
        res.end("x")
      })
      const h2Backend = Http2.createServer((_req, res) => {
        res.writeHead(200)
        res.end("h2")
      })
      yield* Effect.acquireRelease(
        Effect.callback<void>((resume) => void h2Backend.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.callback<void>((resume) => void h2Backend.close(() => resume(Effect.void)))
      )
      const h2Port = (h2Backend.address() as { port: number }).port
      const linker = yield* Linker.make(parse(`
admin: {port: 0}
routers:
- protocol: http
  label: web
  dtab: |
    /svc/books => /$/inet/127.0.0.1/${books.port};
    /svc/flaky => /$/inet/127.0.0.1/${flaky.port};
  servers: [{port: 0}]
  service:
    responseClassifier: {kind: io.l5d.http.retryableRead5XX}
- protocol: h2
  label: grpc
  dtab: /svc => /$/inet/127.0.0.1/${h2Port}
  servers: [{port: 0}]
telemetry:
- kind: io.l5d.recentRequests
  sampleRate: 1.0
  capacity: 4
`))
      const web = linker.routers[0]!.servers[0]!.port
      const h2 = linker.routers[1]!.servers[0]!.port
      const admin = linker.admin.port
      expect((yield* get(`http://127.0.0.1:${web}/a?x=1`, { host: "books" })).status).toBe(200)
      expect((yield* get(`http://127.0.0.1:${web}/flaky`, { host: "flaky" })).status).toBe(200)
      expect((yield* get(`http://127.0.0.1:${web}/none`, { host: "nowhere" })).status).toBe(502)
      expect(yield* h2Get(h2, "h2svc", "/pkg.Svc/Call")).toBe(200)

      const first = yield* requestsOf(admin)
      expect(first.sampleRate).toBe(1)
      expect(first.capacity).toBe(4)
      expect(first.requests.map((r) => [r.router, r.method, r.uri, r.host])).toEqual([
        ["grpc", "GET", "/pkg.Svc/Call", "h2svc"],
        ["web", "GET", "/none", "nowhere"],
        ["web", "GET", "/flaky", "flaky"],
        ["web", "GET", "/a?x=1", "books"]
      ])
      const [viaH2, noRoute, retried, plain] = first.requests
      expect(plain).toMatchObject({
        service: "/svc/books",
        client: `/$/inet/127.0.0.1/${books.port}`,
        endpoint: `127.0.0.1:${books.port}`,
        status: 200,
        retries: 0
      })
      expect(plain!.error).toBeUndefined()
      expect(plain!.durationMs).toBeGreaterThanOrEqual(0)
      expect(Math.abs(plain!.timestamp - Date.now())).toBeLessThan(60_000)
      expect(retried).toMatchObject({
        service: "/svc/flaky",
        endpoint: `127.0.0.1:${flaky.port}`,
        status: 200,
        retries: 1
      })
      expect(noRoute).toMatchObject({ service: "/svc/nowhere", status: 502 })
      expect(noRoute!.client).toBeUndefined()
      expect(noRoute!.endpoint).toBeUndefined()
      expect(noRoute!.error).toContain("/svc/nowhere")
      expect(viaH2).toMatchObject({
        service: "/svc/h2svc",
        client: `/$/inet/127.0.0.1/${h2Port}`,
        endpoint: `127.0.0.1:${h2Port}`,
        status: 200
      })

      // the h2 router's client counts its streams too
      const h2State = JSON.parse((yield* get(`http://127.0.0.1:${admin}/client_state.json?router=grpc`)).body)
      expect(Object.keys(h2State)).toEqual([`/$/inet/127.0.0.1/${h2Port}`])
      expect(h2State[`/$/inet/127.0.0.1/${h2Port}`].endpoints).toEqual([
        expect.objectContaining({ address: `127.0.0.1:${h2Port}`, connections: 1, streams: 0, accrual: "alive" })
      ])

      // the ring keeps the newest 4
      for (let i = 0; i < 3; i++) yield* get(`http://127.0.0.1:${web}/more/${i}`, { host: "books" })
      const second = yield* requestsOf(admin)
      expect(second.requests.map((r) => r.uri)).toEqual(["/more/2", "/more/1", "/more/0", "/pkg.Svc/Call"])

      const page = yield* get(`http://127.0.0.1:${admin}/requests`)
      expect(page.status).toBe(200)
      expect(page.headers["content-type"]).toContain("text/html")
      expect(page.body).toContain(`<table id="requests" data-rows="4"`)
      expect(page.body).toContain("<td>/more/2</td>")
      expect((yield* get(`http://127.0.0.1:${admin}/admin`)).body.split("\n")).toEqual(
        expect.arrayContaining(["/requests", "/requests.json", "/client_state.json"])
      )
    }))

  it.live("keeps nothing at sampleRate 0", () =>
    Effect.gen(function*() {
      const books = yield* textBackend("books")
      const linker = yield* Linker.make(parse(`
admin: {port: 0}
routers:
- protocol: http
  dtab: /svc => /$/inet/127.0.0.1/${books.port}
  servers: [{port: 0}]
telemetry:
- kind: io.l5d.recentRequests
  sampleRate: 0
`))
      const web = linker.routers[0]!.servers[0]!.port
      for (let i = 0; i < 5; i++) expect((yield* get(`http://127.0.0.1:${web}/`, { host: "books" })).status).toBe(200)
      const json = yield* requestsOf(linker.admin.port)
      expect(json).toEqual({ sampleRate: 0, capacity: 10, requests: [] })
      expect(books.seen.length).toBe(5)
    }))

  it.live("without the telemeter, /requests says how to configure it and /requests.json is 404", () =>
    Effect.gen(function*() {
      const linker = yield* Linker.make(parse(`
admin: {port: 0}
routers: [{protocol: http, servers: [{port: 0}]}]
`))
      const page = yield* get(`http://127.0.0.1:${linker.admin.port}/requests`)
      expect(page.status).toBe(404)
      expect(page.body).toContain("kind: io.l5d.recentRequests")
      expect((yield* get(`http://127.0.0.1:${linker.admin.port}/requests.json`)).status).toBe(404)
    }))
})
