import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
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
import { clients, grpc, path, showPath, unary } from "../namerd/mesh.js"
import { request } from "../namerd/support.js"
import { type Certs, makeCerts } from "../support/certs.js"
import { waitFor } from "../support/poll.js"

let certs: Certs
beforeAll(() => {
  certs = makeCerts()
})
afterAll(() => certs.remove())

const inet = (port: number) => `/$/inet/127.0.0.1/${port}`
const dtabHeaders = { "content-type": "application/dtab" }

interface Ports {
  readonly http?: number
  readonly mesh?: number
}

/** A namerd (in-memory store) with an httpController and a mesh interface, in its own scope. */
const startNamerd = (namespaces: Record<string, string>, ports: Ports = {}, tls?: unknown) =>
  Effect.gen(function*() {
    const r = NamerdConfig.decode({
      admin: { port: 0 },
      storage: { kind: "io.l5d.inMemory", namespaces },
      interfaces: [
        { kind: "io.l5d.httpController", port: ports.http ?? 0, ...(tls === undefined ? {} : { tls }) },
        { kind: "io.l5d.mesh", port: ports.mesh ?? 0, ...(tls === undefined ? {} : { tls }) }
      ]
    })
    if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    const namerd = yield* Namerd.make(r.success).pipe(Scope.provide(scope))
    return {
      http: namerd.interfaces[0]!.port,
      mesh: namerd.interfaces[1]!.port,
      stop: Scope.close(scope, Exit.void)
    }
  })

const proxyWith = (interpreter: Record<string, unknown>) =>
  Effect.gen(function*() {
    const decoded = Config.decode({
      admin: { port: 0 },
      routers: [{ protocol: "http", label: "fleet", servers: [{ port: 0 }], interpreter }]
    })
    if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
    const linker = yield* Linker.make(decoded.success)
    return { linker, port: linker.routers[0]!.servers[0]!.port }
  })

const meshInterpreter = (port: number, extra: Record<string, unknown> = {}) => ({
  kind: "io.l5d.mesh",
  dst: inet(port),
  root: "/default",
  retry: { baseSeconds: 1, maxSeconds: 1 },
  ...extra
})

describe("io.l5d.mesh end to end (weir namerd, a proxy, real sockets)", () => {
  it.live(
    "a dtab PUT reroutes the proxy's traffic with no request failing across the change",
    () =>
      Effect.gen(function*() {
        const books = yield* textBackend("books")
        const booksV2 = yield* textBackend("books-v2")
        const namerd = yield* startNamerd({ default: `/svc/books => ${inet(books.port)}` })
        const proxy = yield* proxyWith(meshInterpreter(namerd.mesh))
        expect((yield* Effect.promise(() => send(proxy.port, { headers: { host: "books" } }))).body).toBe("books")

        const answers: Array<string> = []
        let failures = 0
        const load = yield* Effect.forkScoped(Effect.forever(Effect.promise(async () => {
          const r = await send(proxy.port, { headers: { host: "books" } }).catch(() => undefined)
          if (r === undefined || r.status !== 200) failures++
          else answers.push(r.body)
        })))
        yield* waitFor(() => answers.length >= 20, "traffic before the change")
        const put = yield* request(namerd.http, "PUT", "/api/1/dtabs/default", {
          headers: dtabHeaders,
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
    "namerd down: the proxy keeps routing on the last binding, and takes the new one when namerd returns",
    () =>
      Effect.gen(function*() {
        const books = yield* textBackend("books")
        const booksV2 = yield* textBackend("books-v2")
        const first = yield* startNamerd({ default: `/svc/books => ${inet(books.port)}` })
        const proxy = yield* proxyWith(meshInterpreter(first.mesh))
        const call = Effect.promise(() => send(proxy.port, { headers: { host: "books" } }))
        expect((yield* call).body).toBe("books")

        yield* first.stop
        const gauges = () => proxy.linker.registry.gaugeValues()
        yield* waitFor(() => (gauges().get("rt/fleet/namerd/disconnected") ?? 0) > 0, "the proxy to see namerd go")
        for (let i = 0; i < 10; i++) {
          const r = yield* call
          expect(r.status).toBe(200)
          expect(r.body).toBe("books")
        }

        const back = yield* startNamerd({ default: `/svc/books => ${inet(booksV2.port)}` }, { mesh: first.mesh })
        let body = ""
        yield* waitFor(() => body === "books-v2", "the proxy to take the new binding once namerd is back")
          .pipe(Effect.race(Effect.forever(Effect.map(call, (r) => void (body = r.body)))))
        expect(proxy.linker.registry.counterValue("rt/fleet/namerd/reconnects")).toBeGreaterThan(0)
        yield* back.stop
      }),
    60_000
  )

  it.live(
    "TLS to namerd: io.l5d.mesh and io.l5d.namerd.http route through a namerd serving TLS; a wrong CA is refused",
    () =>
      Effect.gen(function*() {
        const books = yield* textBackend("books")
        const server = certs.server("namerd.test")
        const namerd = yield* startNamerd(
          { default: `/svc/books => ${inet(books.port)}` },
          {},
          { certPath: server.cert, keyPath: server.key }
        )
        const good = { commonName: "namerd.test", trustCerts: [certs.ca.cert] }
        const mesh = yield* proxyWith(meshInterpreter(namerd.mesh, { tls: good }))
        expect((yield* Effect.promise(() => send(mesh.port, { headers: { host: "books" } }))).body).toBe("books")
        const http = yield* proxyWith({
          kind: "io.l5d.namerd.http",
          dst: inet(namerd.http),
          retry: { baseSeconds: 1, maxSeconds: 1 },
          tls: good
        })
        expect((yield* Effect.promise(() => send(http.port, { headers: { host: "books" } }))).body).toBe("books")

        const grpcTls = grpc.credentials.createSsl(
          (yield* Effect.promise(() => import("node:fs"))).readFileSync(certs.ca.cert)
        )
        const c = yield* clients(namerd.mesh, grpcTls, { "grpc.ssl_target_name_override": "namerd.test" })
        const tree = yield* unary(c.interpreter, "GetBoundTree", { root: path("/default"), name: path("/svc/books") })
        expect(showPath(tree.ok?.tree?.leaf?.id)).toBe(inet(books.port))

        const wrong = { commonName: "namerd.test", trustCerts: [certs.otherCa.cert] }
        const refused = yield* proxyWith(meshInterpreter(namerd.mesh, { tls: wrong }))
        // asking the delegator makes the router's interpreter call namerd
        const attempt = (l: { readonly linker: Linker.Linker }) =>
          request(l.linker.admin.port, "GET", "/delegator.json?namespace=fleet&dtab=&path=/svc/books")
        yield* attempt(refused)
        yield* waitFor(
          () => refused.linker.registry.counterValue("rt/fleet/namerd/failures") > 0,
          "the wrong-CA mesh interpreter to fail its handshake"
        )
        expect(refused.linker.registry.gaugeValues().get("rt/fleet/namerd/connected") ?? 0).toBe(0)
        const refusedHttp = yield* proxyWith({
          kind: "io.l5d.namerd.http",
          dst: inet(namerd.http),
          retry: { baseSeconds: 1, maxSeconds: 1 },
          tls: wrong
        })
        yield* attempt(refusedHttp)
        yield* waitFor(
          () => refusedHttp.linker.registry.counterValue("rt/fleet/namerd/failures") > 0,
          "the wrong-CA http interpreter to fail its handshake"
        )
        const plain = yield* proxyWith(meshInterpreter(namerd.mesh))
        yield* attempt(plain)
        yield* waitFor(
          () => plain.linker.registry.counterValue("rt/fleet/namerd/failures") > 0,
          "a plaintext mesh interpreter to be refused by the TLS interface"
        )
      }),
    60_000
  )

  it.live("a TLS file that cannot be read stops the proxy with a located problem", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        proxyWith(meshInterpreter(1, { tls: { trustCerts: [`${certs.dir}/missing.pem`] } }))
      )
      expect(Exit.isFailure(exit)).toBe(true)
      expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("routers[0].interpreter")
    }))
})
