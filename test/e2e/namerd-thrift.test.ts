import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Address from "../../src/Address.js"
import * as NamerdConfig from "../../src/namerd/Config.js"
import * as Namerd from "../../src/namerd/Namerd.js"
import * as ThriftInterpreter from "../../src/namers/namerd/ThriftInterpreter.js"
import type * as Activity from "../../src/naming/Activity.js"
import * as Dtab from "../../src/naming/Dtab.js"
import type { BoundTree } from "../../src/naming/Interpreter.js"
import * as Path from "../../src/naming/Path.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import * as Stats from "../../src/Stats.js"
import { freePort, send, textBackend } from "../http/support.js"
import { request } from "../namerd/support.js"
import { waitFor } from "../support/poll.js"

/** A disco directory for io.l5d.fs: one file per service, `127.0.0.1 <port>`. */
const disco = (services: Record<string, number>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "weir-thrift-"))
      for (const [name, port] of Object.entries(services)) writeFileSync(join(dir, name), `127.0.0.1 ${port}\n`)
      return dir
    }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/** namerd (inMemory storage, io.l5d.fs) with both interfaces, in its own scope so a test can stop it. */
const startNamerd = (rootDir: string, dtab: string, ports: { thrift: number; http: number } = { thrift: 0, http: 0 }) =>
  Effect.gen(function*() {
    const r = NamerdConfig.decode({
      admin: { port: 0 },
      storage: { kind: "io.l5d.inMemory", namespaces: { default: dtab } },
      namers: [{ kind: "io.l5d.fs", rootDir }],
      interfaces: [
        { kind: "io.l5d.thriftNameInterpreter", port: ports.thrift },
        { kind: "io.l5d.httpController", port: ports.http }
      ]
    })
    if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    const namerd = yield* Namerd.make(r.success).pipe(Scope.provide(scope))
    return {
      thrift: namerd.interfaces[0]!.port,
      http: namerd.interfaces[1]!.port,
      stop: Scope.close(scope, Exit.void)
    }
  })

const proxyOn = (namerdPort: number, extra: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const decoded = Config.decode({
      admin: { port: 0 },
      routers: [{
        protocol: "http",
        label: "fleet",
        servers: [{ port: 0 }],
        interpreter: {
          kind: "io.l5d.namerd",
          dst: `/$/inet/127.0.0.1/${namerdPort}`,
          namespace: "default",
          retry: { baseSeconds: 1, maxSeconds: 1 },
          ...extra
        }
      }]
    })
    if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
    const linker = yield* Linker.make(decoded.success)
    return { linker, port: linker.routers[0]!.servers[0]!.port }
  })

const books = (port: number) => Effect.promise(() => send(port, { headers: { host: "books" } }))

describe("namerd io.l5d.thriftNameInterpreter and the proxy's io.l5d.namerd (Thrift)", () => {
  it.live(
    "routes through namerd; a dtab PUT on the HTTP controller reroutes through the long poll, no request failing",
    () =>
      Effect.gen(function*() {
        const v1 = yield* textBackend("books")
        const v2 = yield* textBackend("books-v2")
        const dir = yield* disco({ books: v1.port, "books-v2": v2.port })
        const namerd = yield* startNamerd(dir, "/svc => /#/io.l5d.fs")
        const proxy = yield* proxyOn(namerd.thrift)
        expect((yield* books(proxy.port)).body).toBe("books")

        const answers: Array<string> = []
        let failures = 0
        const load = yield* Effect.forkScoped(Effect.forever(Effect.promise(async () => {
          const r = await send(proxy.port, { headers: { host: "books" } }).catch(() => undefined)
          if (r === undefined || r.status !== 200) failures++
          else answers.push(r.body)
        })))
        yield* waitFor(() => answers.length >= 20, "traffic before the change")
        const put = yield* request(namerd.http, "PUT", "/api/1/dtabs/default", {
          headers: { "content-type": "application/dtab" },
          body: "/svc => /#/io.l5d.fs; /svc/books => /svc/books-v2"
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
        expect(delegator.body).toContain("/#/io.l5d.fs/books-v2")
      }),
    30_000
  )

  it.live(
    "namerd killed: the proxy keeps routing on the last answer; namerd back: it reconnects and picks up the new dtab",
    () =>
      Effect.gen(function*() {
        const v1 = yield* textBackend("books")
        const v2 = yield* textBackend("books-v2")
        const dir = yield* disco({ books: v1.port, "books-v2": v2.port })
        const first = yield* startNamerd(dir, "/svc => /#/io.l5d.fs")
        const proxy = yield* proxyOn(first.thrift)
        expect((yield* books(proxy.port)).body).toBe("books")

        yield* first.stop
        const gauges = () => proxy.linker.registry.gaugeValues()
        yield* waitFor(() => (gauges().get("rt/fleet/namerd/disconnected") ?? 0) > 0, "the proxy to notice")
        for (let i = 0; i < 10; i++) {
          const r = yield* books(proxy.port)
          expect(r.status).toBe(200)
          expect(r.body).toBe("books")
        }

        const back = yield* startNamerd(dir, "/svc => /#/io.l5d.fs; /svc/books => /svc/books-v2", {
          thrift: first.thrift,
          http: 0
        })
        let body = ""
        yield* waitFor(() => body === "books-v2", "the proxy to pick up the dtab of the restarted namerd")
          .pipe(Effect.race(Effect.forever(Effect.map(books(proxy.port), (r) => void (body = r.body)))))
        expect(proxy.linker.registry.counterValue("rt/fleet/namerd/reconnects")).toBeGreaterThan(0)
        yield* waitFor(() => (gauges().get("rt/fleet/namerd/disconnected") ?? 0) === 0, "every poll to reconnect")
        yield* back.stop
      }),
    60_000
  )

  it.live("a server that sends garbage is a clear binding failure, and the poll keeps retrying", () =>
    Effect.gen(function*() {
      let connections = 0
      const server = yield* Effect.acquireRelease(
        Effect.promise(() =>
          new Promise<Net.Server>((resolve) => {
            const s = Net.createServer((socket) => {
              connections++
              socket.on("data", () => socket.write("HTTP/1.1 400 Bad Request\r\n\r\n"))
              socket.on("error", () => {})
            })
            s.listen(0, "127.0.0.1", () => resolve(s))
          })
        ),
        (s) => Effect.sync(() => s.close())
      )
      const stats = Stats.makeInMemory()
      const interpreter = yield* ThriftInterpreter.make({
        addresses: () => [Address.make("127.0.0.1", (server.address() as Net.AddressInfo).port)],
        retryBase: "20 millis",
        retryMax: "40 millis",
        stats
      })
      const states: Array<Activity.State<BoundTree>> = []
      yield* Effect.forkScoped(
        Stream.runForEach(
          interpreter.bindStates(Dtab.empty, Path.parseUnsafe("/svc/books")),
          (s) => Effect.sync(() => states.push(s))
        )
      )
      yield* waitFor(() => states.some((s) => s._tag === "Failed"), "the binding to fail")
      const failed = states.find((s) => s._tag === "Failed")!
      expect(failed._tag === "Failed" && failed.cause).toMatch(
        /^namerd at 127\.0\.0\.1:\d+ sent bytes that are not a Thrift frame: a frame of \d+ bytes/
      )
      yield* waitFor(() => connections >= 3 && stats.counterValue("reconnects") >= 2, "retries")
    }))
  it.live("a name namerd refuses (BindFailure) fails at once with namerd's reason instead of waiting", () =>
    Effect.gen(function*() {
      const dir = yield* disco({})
      const namerd = yield* startNamerd(dir, "/svc => /#/io.l5d.fs")
      const interpreter = yield* ThriftInterpreter.make({
        addresses: () => [Address.make("127.0.0.1", namerd.thrift)],
        namespace: "no such namespace",
        retryBase: "20 millis"
      })
      const failed = yield* Stream.runHead(
        interpreter.bindStates(Dtab.empty, Path.parseUnsafe("/svc/books")).pipe(
          Stream.filter((s) => s._tag === "Failed")
        )
      )
      expect(failed._tag === "Some" && failed.value._tag === "Failed" && failed.value.cause).toMatch(
        /^namerd at 127\.0\.0\.1:\d+ answered bind with a failure: invalid namespace "no such namespace"$/
      )
    }))

  it.live("the interpreter's transformers rewrite what namerd returns (here the port, as io.l5d.port does)", () =>
    Effect.gen(function*() {
      const backend = yield* textBackend("books")
      // namerd's answer points at a port nothing listens on; only the transformer makes it routable
      const closed = yield* Effect.promise(freePort)
      const dir = yield* disco({ books: closed })
      const namerd = yield* startNamerd(dir, "/svc => /#/io.l5d.fs")
      const proxy = yield* proxyOn(namerd.thrift, { transformers: [{ kind: "io.l5d.port", port: backend.port }] })
      const r = yield* books(proxy.port)
      expect([r.status, r.body]).toEqual([200, "books"])
    }))
})
