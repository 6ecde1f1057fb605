import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Net from "node:net"
import * as Address from "../../src/Address.js"
import * as Tls from "../../src/http/transport/Tls.js"
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
import { send, textBackend } from "../http/support.js"
import { type Certs, makeCerts } from "../support/certs.js"
import { waitFor } from "../support/poll.js"

let certs: Certs
beforeAll(() => {
  certs = makeCerts()
})
afterAll(() => certs.remove())

const inet = (port: number) => `/$/inet/127.0.0.1/${port}`

/** namerd (in-memory store) with a Thrift interface serving `tls`, in its own scope. */
const startNamerd = (dtab: string, tls: Record<string, unknown>) =>
  Effect.gen(function*() {
    const r = NamerdConfig.decode({
      admin: { port: 0 },
      storage: { kind: "io.l5d.inMemory", namespaces: { default: dtab } },
      interfaces: [{ kind: "io.l5d.thriftNameInterpreter", port: 0, tls }]
    })
    if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
    const scope = yield* Scope.make()
    yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
    const namerd = yield* Namerd.make(r.success).pipe(Scope.provide(scope))
    return { thrift: namerd.interfaces[0]!.port }
  })

const proxyOn = (port: number, tls?: Record<string, unknown>) =>
  Effect.gen(function*() {
    const decoded = Config.decode({
      admin: { port: 0 },
      routers: [{
        protocol: "http",
        label: "fleet",
        servers: [{ port: 0 }],
        interpreter: {
          kind: "io.l5d.namerd",
          dst: inet(port),
          retry: { baseSeconds: 1, maxSeconds: 1 },
          ...(tls === undefined ? {} : { tls })
        }
      }]
    })
    if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
    const linker = yield* Linker.make(decoded.success)
    return { linker, port: linker.routers[0]!.servers[0]!.port }
  })

/** The first failed state of `/svc/books` through a Thrift interpreter on `port` (TLS as `tls` says). */
const firstFailure = (port: number, tls?: Tls.ClientOptions & { readonly commonName?: string }) =>
  Effect.gen(function*() {
    const client = tls === undefined ? undefined : yield* Tls.client(tls)
    const interpreter = yield* ThriftInterpreter.make({
      addresses: () => [Address.make("127.0.0.1", port)],
      retryBase: "50 millis",
      retryMax: "100 millis",
      stats: Stats.makeInMemory(),
      openTls: client === undefined ? undefined : (host, p) => Tls.open(client.connect(tls?.commonName), host, p)
    })
    const failed = yield* Stream.runHead(
      interpreter.bindStates(Dtab.empty, Path.parseUnsafe("/svc/books")).pipe(
        Stream.filter((s: Activity.State<BoundTree>) => s._tag === "Failed")
      )
    )
    return failed._tag === "Some" && failed.value._tag === "Failed" ? failed.value.cause : ""
  })

describe("io.l5d.namerd (Thrift) over TLS to weir namerd's io.l5d.thriftNameInterpreter", () => {
  it.live(
    "routes through a TLS interface, and through one that requires client certificates (mTLS)",
    () =>
      Effect.gen(function*() {
        const books = yield* textBackend("books")
        const server = certs.server("namerd.test")
        const namerd = yield* startNamerd(`/svc/books => ${inet(books.port)}`, {
          certPath: server.cert,
          keyPath: server.key
        })
        // linkerd's own key for this interpreter, `caCert`
        const proxy = yield* proxyOn(namerd.thrift, { commonName: "namerd.test", caCert: certs.ca.cert })
        const r = yield* Effect.promise(() => send(proxy.port, { headers: { host: "books" } }))
        expect(r.status).toBe(200)
        expect(r.body).toBe("books")
        expect(proxy.linker.registry.gaugeValues().get("rt/fleet/namerd/connected")).toBeGreaterThan(0)

        const mtls = yield* startNamerd(`/svc/books => ${inet(books.port)}`, {
          certPath: server.cert,
          keyPath: server.key,
          caCertPath: certs.ca.cert,
          requireClientAuth: true
        })
        const client = certs.client("linker.test")
        const withCert = yield* proxyOn(mtls.thrift, {
          commonName: "namerd.test",
          trustCertsBundle: certs.ca.cert,
          clientAuth: { certPath: client.cert, keyPath: client.key }
        })
        const m = yield* Effect.promise(() => send(withCert.port, { headers: { host: "books" } }))
        expect(m.body).toBe("books")

        // without a client certificate, or with one from another CA, namerd refuses
        const noCert = yield* firstFailure(mtls.thrift, { commonName: "namerd.test", trustCerts: [certs.ca.cert] })
        expect(noCert).toMatch(
          /^namerd at 127\.0\.0\.1:\d+ answered bind with an application exception: namerd requires a client certificate/
        )
        const other = certs.client("stranger.test", true)
        const otherCert = yield* firstFailure(mtls.thrift, {
          commonName: "namerd.test",
          trustCerts: [certs.ca.cert],
          clientAuth: { certPath: other.cert, keyPath: other.key }
        })
        expect(otherCert).toMatch(/application exception: namerd requires a client certificate signed by its CA \(\w+/)
      }),
    60_000
  )

  it.live(
    "a wrong CA or a wrong name is a clear binding failure, retried, and never falls back to plaintext",
    () =>
      Effect.gen(function*() {
        const books = yield* textBackend("books")
        const server = certs.server("namerd.test")
        const namerd = yield* startNamerd(`/svc/books => ${inet(books.port)}`, {
          certPath: server.cert,
          keyPath: server.key
        })
        const wrongCa = yield* firstFailure(namerd.thrift, {
          commonName: "namerd.test",
          trustCerts: [certs.otherCa.cert]
        })
        expect(wrongCa).toMatch(/^namerd at 127\.0\.0\.1:\d+ refused TLS: .*certificate/)
        const wrongName = yield* firstFailure(namerd.thrift, { commonName: "other.test", trustCerts: [certs.ca.cert] })
        expect(wrongName).toMatch(/^namerd at 127\.0\.0\.1:\d+ refused TLS: .*other\.test/)

        // through the proxy: requests fail with the reason, the poll keeps retrying
        const proxy = yield* proxyOn(namerd.thrift, { commonName: "namerd.test", trustCerts: [certs.otherCa.cert] })
        const r = yield* Effect.promise(() => send(proxy.port, { headers: { host: "books" } }))
        expect(r.status).not.toBe(200)
        expect(r.body).not.toBe("books")
        yield* waitFor(
          () => proxy.linker.registry.counterValue("rt/fleet/namerd/reconnects") >= 2,
          "the poll to retry the handshake"
        )
        expect(proxy.linker.registry.gaugeValues().get("rt/fleet/namerd/connected") ?? 0).toBe(0)
      }),
    60_000
  )

  it.live(
    "a plaintext interpreter against the TLS interface is refused with a clear error",
    () =>
      Effect.gen(function*() {
        const server = certs.server("namerd.test")
        const namerd = yield* startNamerd("/svc/books => /$/inet/127.0.0.1/1", {
          certPath: server.cert,
          keyPath: server.key
        })
        const plain = yield* firstFailure(namerd.thrift)
        expect(plain).toMatch(
          /^namerd at 127\.0\.0\.1:\d+ answered bind with an application exception: this interface speaks Thrift over TLS/
        )
        // a server that answers plaintext with a TLS alert (as some TLS servers do) is named as TLS
        const alerting = yield* Effect.acquireRelease(
          Effect.promise(() =>
            new Promise<Net.Server>((resolve) => {
              const s = Net.createServer((socket) => {
                socket.on("data", () => socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])))
                socket.on("error", () => {})
              })
              s.listen(0, "127.0.0.1", () => resolve(s))
            })
          ),
          (s) => Effect.sync(() => s.close())
        )
        const alerted = yield* firstFailure((alerting.address() as Net.AddressInfo).port)
        expect(alerted).toMatch(/^namerd at 127\.0\.0\.1:\d+ answered with TLS \(set `tls` on the io\.l5d\.namerd/)
      }),
    30_000
  )

  it.live(
    "a TLS file that cannot be read stops the proxy and namerd with a located problem",
    () =>
      Effect.gen(function*() {
        const missing = `${certs.dir}/missing.pem`
        const proxy = yield* Effect.exit(proxyOn(1, { trustCerts: [missing] }))
        expect(Exit.isFailure(proxy)).toBe(true)
        const proxyCause = String(Exit.isFailure(proxy) ? proxy.cause : "")
        expect(proxyCause).toContain("routers[0].interpreter")
        expect(proxyCause).toContain("missing.pem")
        const namerd = yield* Effect.exit(startNamerd("", { certPath: missing, keyPath: missing }))
        expect(Exit.isFailure(namerd)).toBe(true)
        expect(String(Exit.isFailure(namerd) ? namerd.cause : "")).toContain("interfaces[0].tls")
      }),
    30_000
  )
})
