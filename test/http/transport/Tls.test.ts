import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as https from "node:https"
import * as net from "node:net"
import type * as NodeTls from "node:tls"
import * as Address from "../../../src/Address.js"
import { ConnectionFailed } from "../../../src/Failure.js"
import * as Message from "../../../src/http/transport/Message.js"
import * as Server from "../../../src/http/transport/Server.js"
import * as Tls from "../../../src/http/transport/Tls.js"
import * as Upstream from "../../../src/http/transport/Upstream.js"
import { type Certs, makeCerts, type Pair } from "../../support/certs.js"
import { backend } from "../support.js"

let certs: Certs
beforeAll(() => {
  certs = makeCerts()
})
afterAll(() => certs.remove())

const local = (port: number) => Address.make("127.0.0.1", port)

/** A node:https backend answering "secure" on 127.0.0.1 with `pair`, closed with the scope. */
const httpsBackend = (pair: Pair, options?: https.ServerOptions) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<https.Server>((resolve) => {
        const server = https.createServer(
          { cert: Fs.readFileSync(pair.cert), key: Fs.readFileSync(pair.key), ...options },
          (req, res) => {
            const peer = (req.socket as NodeTls.TLSSocket).getPeerCertificate()
            res.end(`secure ${peer.subject?.CN ?? "anonymous"}`)
          }
        )
        server.on("tlsClientError", () => {})
        server.listen(0, "127.0.0.1", () => resolve(server))
      })
    ),
    (server) =>
      Effect.promise(() =>
        new Promise<void>((done) => {
          server.close(() => done())
          server.closeAllConnections()
        })
      )
  )

const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port

const bodyText = (res: Message.HttpResponse) =>
  res.body._tag === "Buffered" ? res.body.data.toString() : res.body._tag === "Empty" ? "" : "(stream)"

/** One GET through a TLS upstream to `port`; the response text or the failure. */
const get = (port: number, client: Tls.ClientOptions, commonName?: string) =>
  Effect.gen(function*() {
    const tls = yield* Effect.orDie(Tls.client(client))
    const up = yield* Upstream.make(local(port), { tls: tls.connect(commonName) })
    return yield* Effect.map(up.call(Message.request({ url: "/", headers: { host: "web" } })), bodyText)
  })

const failureOf = (port: number, client: Tls.ClientOptions, commonName?: string) =>
  Effect.flip(get(port, client, commonName))

describe("client TLS (Upstream)", () => {
  it.live("verifies the backend's certificate against trustCerts and the common name", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* httpsBackend(certs.server("web.example.com"))
      expect(yield* get(portOf(b), { trustCerts: [certs.ca.cert] }, "web.example.com")).toBe("secure anonymous")
    })))

  it.live("refuses a certificate from another CA, naming the TLS problem", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* httpsBackend(certs.server("web.example.com"))
      const e = yield* failureOf(portOf(b), { trustCerts: [certs.otherCa.cert] }, "web.example.com")
      expect(e).toBeInstanceOf(ConnectionFailed)
      expect(e.reason).toBe("tls")
      expect(e.written).toBe(false)
      expect(e.message).toMatch(/TLS handshake failed: .*(self.signed|unable to verify|issuer)/i)
    })))

  it.live("refuses an expired certificate", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* httpsBackend(certs.expired("web.example.com"))
      const e = yield* failureOf(portOf(b), { trustCerts: [certs.ca.cert] }, "web.example.com")
      expect(e.reason).toBe("tls")
      expect(e.message).toContain("TLS handshake failed: certificate has expired")
    })))

  it.live("refuses a certificate for another name", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* httpsBackend(certs.server("web.example.com"))
      const e = yield* failureOf(portOf(b), { trustCerts: [certs.ca.cert] }, "db.example.com")
      expect(e.reason).toBe("tls")
      expect(e.message).toMatch(/TLS handshake failed: .*db\.example\.com.*altnames/)
    })))

  it.live("accepts anything with disableValidation", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* httpsBackend(certs.expired("web.example.com"))
      expect(yield* get(portOf(b), { disableValidation: true }, "other.example.com")).toBe("secure anonymous")
    })))

  it.live("fails (never falls back to plaintext) against a plaintext backend", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* backend((_req, res) => res.end("plain"))
      const e = yield* failureOf(b.port, { trustCerts: [certs.ca.cert] }, "web.example.com")
      expect(e.reason).toBe("tls")
      expect(e.message).toContain("TLS handshake failed")
      expect(b.seen).toHaveLength(0)
    })))

  it.live("presents clientAuth to a backend that requires a client certificate", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* httpsBackend(certs.server("web.example.com"), {
        ca: Fs.readFileSync(certs.ca.cert),
        requestCert: true,
        rejectUnauthorized: true
      })
      const auth = certs.client("linker")
      const ok = yield* get(portOf(b), {
        trustCerts: [certs.ca.cert],
        clientAuth: { certPath: auth.cert, keyPath: auth.key }
      }, "web.example.com")
      expect(ok).toBe("secure linker")
      const e = yield* failureOf(portOf(b), { trustCerts: [certs.ca.cert] }, "web.example.com")
      expect(e).toBeInstanceOf(ConnectionFailed)
    })))

  it.live("reload: connections made after a client reload present the new client certificate", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* httpsBackend(certs.server("web.example.com"), {
        ca: Fs.readFileSync(certs.ca.cert),
        requestCert: true,
        rejectUnauthorized: true
      })
      const first = certs.client("first")
      const second = certs.client("second")
      const certPath = `${certs.dir}/client-live.pem`
      const keyPath = `${certs.dir}/client-live.key`
      Fs.copyFileSync(first.cert, certPath)
      Fs.copyFileSync(first.key, keyPath)
      const tls = yield* Tls.client({ trustCerts: [certs.ca.cert], clientAuth: { certPath, keyPath } })
      const call = Effect.scoped(Effect.gen(function*() {
        const up = yield* Upstream.make(local(portOf(b)), { tls: tls.connect("web.example.com") })
        return bodyText(yield* up.call(Message.request({ url: "/", headers: { host: "web" } })))
      }))
      expect(yield* call).toBe("secure first")
      Fs.copyFileSync(second.cert, certPath)
      Fs.copyFileSync(second.key, keyPath)
      yield* Tls.reload(tls)
      expect(yield* call).toBe("secure second")
    })))

  it.effect("a missing file is a TlsError naming the file, not its contents", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Tls.client({ trustCerts: [`${certs.dir}/missing.pem`] }))
      expect(e.message).toBe(`cannot read trusted certificate ${certs.dir}/missing.pem (ENOENT)`)
      const bad = yield* Effect.flip(Tls.server({ certPath: certs.ca.cert, keyPath: certs.otherCa.key }))
      expect(bad.message).toContain(`cannot use certificate ${certs.ca.cert} and key ${certs.otherCa.key}`)
      expect(bad.message).not.toContain("PRIVATE KEY")
    }))
})

const serve = (tls: Tls.ServerTls) =>
  Server.make(
    { ip: "127.0.0.1", port: 0, drainGrace: 100, tls },
    (req) => Effect.succeed(Message.response(200, `weir ${req.url}`))
  )

describe("server TLS (Server)", () => {
  it.live("serves weir's HTTP/1.1 over TLS to a verifying TLS upstream", () =>
    Effect.scoped(Effect.gen(function*() {
      const pair = certs.server("weir.test")
      const s = yield* serve(yield* Tls.server({ certPath: pair.cert, keyPath: pair.key }))
      expect(yield* get(s.port, { trustCerts: [certs.ca.cert] }, "weir.test")).toBe("weir /")
    })))

  it.live("closes a plaintext client's connection without an HTTP answer", () =>
    Effect.scoped(Effect.gen(function*() {
      const pair = certs.server("weir.test")
      const s = yield* serve(yield* Tls.server({ certPath: pair.cert, keyPath: pair.key }))
      const got = yield* Effect.promise(() =>
        new Promise<string>((resolve) => {
          const socket = net.connect(s.port, "127.0.0.1", () => socket.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n"))
          let data = ""
          socket.on("data", (d: Buffer) => (data += d.toString("latin1")))
          socket.on("error", () => {})
          socket.on("close", () => resolve(data))
        })
      )
      expect(got).not.toContain("HTTP/1.1")
    })))

  it.live("requireClientAuth: a client certificate from caCertPath's CA is accepted, others are refused", () =>
    Effect.scoped(Effect.gen(function*() {
      const pair = certs.server("weir.test")
      const s = yield* serve(
        yield* Tls.server({
          certPath: pair.cert,
          keyPath: pair.key,
          caCertPath: certs.ca.cert,
          requireClientAuth: true
        })
      )
      const good = certs.client("linker")
      const ok = yield* get(s.port, {
        trustCerts: [certs.ca.cert],
        clientAuth: { certPath: good.cert, keyPath: good.key }
      }, "weir.test")
      expect(ok).toBe("weir /")
      const other = certs.client("intruder", true)
      const refused = yield* failureOf(s.port, {
        trustCerts: [certs.ca.cert],
        clientAuth: { certPath: other.cert, keyPath: other.key }
      }, "weir.test")
      expect(refused).toBeInstanceOf(ConnectionFailed)
      const anonymous = yield* failureOf(s.port, { trustCerts: [certs.ca.cert] }, "weir.test")
      expect(anonymous).toBeInstanceOf(ConnectionFailed)
      // TLS 1.3: the server refuses the client after the client's side of the handshake is done
      expect(anonymous.reason).toBe("tls")
      expect(anonymous.message).toContain("TLS failed: tlsv13 alert certificate required")
    })))

  it.live("reload: new connections get the new certificate, a bad file keeps the old one", () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = certs.dir
      const first = certs.server("one.test")
      const second = certs.server("two.test")
      const certPath = `${dir}/live.pem`
      const keyPath = `${dir}/live.key`
      Fs.copyFileSync(first.cert, certPath)
      Fs.copyFileSync(first.key, keyPath)
      const tls = yield* Tls.server({ certPath, keyPath })
      const s = yield* serve(tls)
      expect(yield* get(s.port, { trustCerts: [certs.ca.cert] }, "one.test")).toBe("weir /")
      Fs.copyFileSync(second.cert, certPath)
      Fs.copyFileSync(second.key, keyPath)
      yield* Tls.reload(tls)
      expect(yield* get(s.port, { trustCerts: [certs.ca.cert] }, "two.test")).toBe("weir /")
      expect((yield* failureOf(s.port, { trustCerts: [certs.ca.cert] }, "one.test")).reason).toBe("tls")
      Fs.writeFileSync(keyPath, "not a key")
      const e = yield* Effect.flip(Tls.reload(tls))
      expect(e.message).toContain(keyPath)
      expect(yield* get(s.port, { trustCerts: [certs.ca.cert] }, "two.test")).toBe("weir /")
    })))
})
