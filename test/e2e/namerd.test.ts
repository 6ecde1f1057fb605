import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as NamerdConfig from "../../src/namerd/Config.js"
import * as Namerd from "../../src/namerd/Namerd.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { send, textBackend } from "../http/support.js"
import * as Etcd from "../namerd/etcd.js"
import { request } from "../namerd/support.js"
import { waitFor } from "../support/poll.js"

const etcd = Effect.acquireRelease(Effect.promise(Etcd.start), (e) => Effect.promise(e.close))

const namerdConfig = (etcdPort: number, port = 0) => {
  const r = NamerdConfig.decode({
    admin: { port: 0 },
    storage: { kind: "io.l5d.etcd", host: "127.0.0.1", port: etcdPort },
    interfaces: [{ kind: "io.l5d.httpController", port }]
  })
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

/** A namerd in its own scope, so the test can stop it. */
const startNamerd = (etcdPort: number, port = 0) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    const namerd = yield* Namerd.make(namerdConfig(etcdPort, port)).pipe(Scope.provide(scope))
    return { port: namerd.interfaces[0]!.port, stop: Scope.close(scope, Exit.void) }
  })

const proxyOn = (namerdPort: number) =>
  Effect.gen(function*() {
    const decoded = Config.decode({
      admin: { port: 0 },
      routers: [{
        protocol: "http",
        label: "fleet",
        servers: [{ port: 0 }],
        interpreter: {
          kind: "io.l5d.namerd.http",
          dst: `/$/inet/127.0.0.1/${namerdPort}`,
          namespace: "default",
          retry: { baseSeconds: 1, maxSeconds: 1 }
        }
      }]
    })
    if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
    const linker = yield* Linker.make(decoded.success)
    return { linker, port: linker.routers[0]!.servers[0]!.port }
  })

const inet = (port: number) => `/$/inet/127.0.0.1/${port}`
const dtabHeaders = { "content-type": "application/dtab" }

describe("namerd and io.l5d.namerd.http end to end (real etcd)", () => {
  it.live(
    "a dtab PUT reroutes the proxy's traffic with no request failing across the change",
    () =>
      Effect.gen(function*() {
        const server = yield* etcd
        const books = yield* textBackend("books")
        const booksV2 = yield* textBackend("books-v2")
        const namerd = yield* startNamerd(server.port)
        yield* request(namerd.port, "POST", "/api/1/dtabs/default", {
          headers: dtabHeaders,
          body: `/svc/books => ${inet(books.port)}`
        })
        const proxy = yield* proxyOn(namerd.port)
        expect((yield* Effect.promise(() => send(proxy.port, { headers: { host: "books" } }))).body).toBe("books")

        const answers: Array<string> = []
        let failures = 0
        const load = yield* Effect.forkScoped(Effect.forever(Effect.promise(async () => {
          const r = await send(proxy.port, { headers: { host: "books" } }).catch(() => undefined)
          if (r === undefined || r.status !== 200) failures++
          else answers.push(r.body)
        })))
        yield* waitFor(() => answers.length >= 20, "traffic before the change")
        const etag = String((yield* request(namerd.port, "HEAD", "/api/1/dtabs/default")).headers.etag)
        const put = yield* request(namerd.port, "PUT", "/api/1/dtabs/default", {
          headers: { ...dtabHeaders, "if-match": etag },
          body: `/svc/books => ${inet(booksV2.port)}`
        })
        expect(put.status).toBe(204)
        const before = answers.length
        yield* waitFor(() => answers.slice(before).includes("books-v2"), "traffic to move to books-v2")
        const switched = answers.length
        yield* waitFor(() => answers.length >= switched + 20, "traffic after the change")
        yield* Fiber.interrupt(load)
        expect(failures).toBe(0)
        expect(answers.slice(switched)).not.toContain("books")
        expect(proxy.linker.registry.gaugeValues().get("rt/fleet/namerd/connected")).toBeGreaterThan(0)
        const delegator = yield* request(
          proxy.linker.admin.port,
          "GET",
          "/delegator.json?namespace=fleet&dtab=&path=/svc/books"
        )
        expect(delegator.status).toBe(200)
        expect(delegator.body).toContain(inet(booksV2.port))
      }),
    30_000
  )

  it.live(
    "namerd down: the proxy keeps routing on the last binding, and picks up a change made meanwhile",
    () =>
      Effect.gen(function*() {
        const server = yield* etcd
        const books = yield* textBackend("books")
        const booksV2 = yield* textBackend("books-v2")
        const first = yield* startNamerd(server.port)
        yield* request(first.port, "POST", "/api/1/dtabs/default", {
          headers: dtabHeaders,
          body: `/svc/books => ${inet(books.port)}`
        })
        const proxy = yield* proxyOn(first.port)
        const call = Effect.promise(() => send(proxy.port, { headers: { host: "books" } }))
        expect((yield* call).body).toBe("books")

        yield* first.stop
        const gauges = () => proxy.linker.registry.gaugeValues()
        yield* waitFor(
          () => (gauges().get("rt/fleet/namerd/disconnected") ?? 0) > 0,
          "the proxy to notice namerd is down"
        )
        for (let i = 0; i < 10; i++) {
          const r = yield* call
          expect(r.status).toBe(200)
          expect(r.body).toBe("books")
        }

        const other = yield* startNamerd(server.port)
        yield* request(other.port, "PUT", "/api/1/dtabs/default", {
          headers: dtabHeaders,
          body: `/svc/books => ${inet(booksV2.port)}`
        })
        expect((yield* call).body).toBe("books")

        const back = yield* startNamerd(server.port, first.port)
        let body = ""
        yield* waitFor(() => body === "books-v2", "the proxy to pick up the change once namerd is back")
          .pipe(Effect.race(Effect.forever(Effect.map(call, (r) => void (body = r.body)))))
        expect(body).toBe("books-v2")
        expect(proxy.linker.registry.counterValue("rt/fleet/namerd/reconnects")).toBeGreaterThan(0)
        yield* back.stop
        yield* other.stop
      }),
    60_000
  )
})
