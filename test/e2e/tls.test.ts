import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import type * as net from "node:net"
import * as Path from "node:path"
import type * as NodeTls from "node:tls"
import * as NodeTlsModule from "node:tls"
import * as Errors from "../../src/http/Errors.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { backend } from "../http/support.js"
import { type Certs, makeCerts, type Pair } from "../support/certs.js"

let certs: Certs
beforeAll(() => {
  certs = makeCerts()
})
afterAll(() => certs.remove())

const configOf = (text: string): Config.Config => {
  const r = Config.parse(text)
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

/** A node:https backend on 127.0.0.1 answering with the client certificate's CN; closed with the scope. */
const httpsBackend = (pair: Pair, requireClientCert = false) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<https.Server>((resolve) => {
        const server = https.createServer(
          {
            cert: Fs.readFileSync(pair.cert),
            key: Fs.readFileSync(pair.key),
            ...(requireClientCert
              ? { ca: Fs.readFileSync(certs.ca.cert), requestCert: true, rejectUnauthorized: true }
              : {})
          },
          (req, res) => {
            const peer = (req.socket as NodeTls.TLSSocket).getPeerCertificate()
            res.end(`secure ${peer.subject?.CN ?? "anonymous"} ${req.url}`)
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

interface Reply {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/** One request over http or https (`tls`: CA, client certificate, name checked) to 127.0.0.1:`port`. */
const request = (
  port: number,
  path: string,
  host: string,
  tls?: { readonly ca: string; readonly client?: Pair | undefined; readonly servername: string }
) =>
  Effect.tryPromise(() =>
    new Promise<Reply>((resolve, reject) => {
      const options: https.RequestOptions = {
        host: "127.0.0.1",
        port,
        path,
        headers: { host },
        agent: false,
        ...(tls === undefined ? {} : {
          ca: Fs.readFileSync(tls.ca),
          servername: tls.servername,
          ...(tls.client === undefined
            ? {}
            : { cert: Fs.readFileSync(tls.client.cert), key: Fs.readFileSync(tls.client.key) })
        })
      }
      const req = (tls === undefined ? http : https).request(options, (res) => {
        let body = ""
        res.on("data", (d: Buffer) => (body += d.toString()))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      })
      req.on("error", reject)
      req.end()
    })
  )

const l5dErr = (r: Reply) => Errors.decodeErr(String(r.headers["l5d-err"] ?? ""))

/** An io.l5d.fs disco dir naming each service's `127.0.0.1 port`. */
const disco = (entries: Record<string, number>) => {
  const dir = Fs.mkdtempSync(Path.join(certs.dir, "disco-"))
  for (const [name, port] of Object.entries(entries)) Fs.writeFileSync(Path.join(dir, name), `127.0.0.1 ${port}\n`)
  return dir
}

describe("TLS (e2e)", () => {
  it.live("a TLS server, client TLS with commonName from the prefix and clientAuth, end to end", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* httpsBackend(certs.server("web.example.com"), true)
      const edge = certs.server("edge.test")
      const linker = certs.client("linker")
      const config = configOf(`
admin: {port: 0}
namers:
- {kind: io.l5d.fs, rootDir: ${disco({ web: portOf(b) })}}
routers:
- protocol: http
  dtab: /svc => /#/io.l5d.fs;
  servers:
  - port: 0
    tls: {certPath: ${edge.cert}, keyPath: ${edge.key}}
  client:
    kind: io.l5d.static
    configs:
    - prefix: /#/io.l5d.fs/{service}
      tls:
        commonName: "{service}.example.com"
        trustCerts: [${certs.ca.cert}]
        clientAuth: {certPath: ${linker.cert}, keyPath: ${linker.key}}
`)
      const l = yield* Linker.make(config)
      const port = l.routers[0]!.servers[0]!.port
      const r = yield* request(port, "/hello", "web", { ca: certs.ca.cert, servername: "edge.test" })
      expect(r.body).toBe("secure linker /hello")
      expect(r.status).toBe(200)
      // a plaintext client of the TLS server gets a closed connection, not an answer
      const plain = yield* Effect.flip(request(port, "/", "web"))
      expect(String(plain.cause)).toMatch(/socket hang up|ECONNRESET/)
    })))

  it.live("refusals: wrong CA, expired certificate, wrong name, plaintext backend: 502 naming the TLS problem", () =>
    Effect.scoped(Effect.gen(function*() {
      const good = yield* httpsBackend(certs.server("web.example.com"))
      const expired = yield* httpsBackend(certs.expired("old.example.com"))
      const otherCa = yield* httpsBackend(certs.client("stranger", true))
      const plain = yield* backend((_req, res) => res.end("plaintext"))
      const config = configOf(`
admin: {port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${
        disco({
          web: portOf(good),
          old: portOf(expired),
          stranger: portOf(otherCa),
          plain: plain.port,
          api: portOf(good)
        })
      }
routers:
- protocol: http
  dtab: /svc => /#/io.l5d.fs;
  servers: [{port: 0}]
  client:
    kind: io.l5d.static
    configs:
    - prefix: /#/io.l5d.fs/{service}
      tls: {commonName: "{service}.example.com", trustCerts: [${certs.ca.cert}]}
`)
      const l = yield* Linker.make(config)
      const port = l.routers[0]!.servers[0]!.port
      const ok = yield* request(port, "/", "web")
      expect([ok.status, ok.body]).toEqual([200, "secure anonymous /"])

      const old = yield* request(port, "/", "old")
      expect(old.status).toBe(502)
      expect(l5dErr(old)).toContain("TLS handshake failed: certificate has expired")

      const stranger = yield* request(port, "/", "stranger")
      expect(stranger.status).toBe(502)
      expect(l5dErr(stranger)).toMatch(
        /TLS handshake failed: (self.signed|unable to verify|unable to get local issuer)/i
      )

      const api = yield* request(port, "/", "api")
      expect(api.status).toBe(502)
      expect(l5dErr(api)).toMatch(/TLS handshake failed: .*api\.example\.com/)

      const p = yield* request(port, "/", "plain")
      expect(p.status).toBe(502)
      expect(l5dErr(p)).toContain("TLS handshake failed")
      expect(plain.seen).toHaveLength(0)
    })))

  it.live("linker to linker over mutual TLS", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* backend((req, res) => res.end(`backend ${req.url}`))
      const incomingPair = certs.server("incoming.test")
      const incoming = yield* Linker.make(configOf(`
admin: {port: 0}
routers:
- protocol: http
  label: incoming
  dtab: /svc/web => /$/inet/127.0.0.1/${b.port};
  servers:
  - port: 0
    tls:
      certPath: ${incomingPair.cert}
      keyPath: ${incomingPair.key}
      caCertPath: ${certs.ca.cert}
      requireClientAuth: true
`))
      const inPort = incoming.routers[0]!.servers[0]!.port
      const outgoingAuth = certs.client("outgoing")
      const outgoing = yield* Linker.make(configOf(`
admin: {port: 0}
routers:
- protocol: http
  label: outgoing
  dtab: /svc/web => /$/inet/127.0.0.1/${inPort};
  servers: [{port: 0}]
  client:
    tls:
      commonName: incoming.test
      trustCerts: [${certs.ca.cert}]
      clientAuth: {certPath: ${outgoingAuth.cert}, keyPath: ${outgoingAuth.key}}
`))
      const r = yield* request(outgoing.routers[0]!.servers[0]!.port, "/x", "web")
      expect([r.status, r.body]).toEqual([200, "backend /x"])
      // the incoming router refuses a client without a certificate
      const anonymous = yield* Effect.flip(
        request(inPort, "/x", "web", { ca: certs.ca.cert, servername: "incoming.test" })
      )
      expect(String(anonymous.cause)).toMatch(/certificate required|ECONNRESET|socket hang up/)
    })))

  it.live("admin.tls serves the admin over HTTPS; /config.json hides keyPath; reloadTls re-reads the files", () =>
    Effect.scoped(Effect.gen(function*() {
      const first = certs.server("admin.test")
      const second = certs.server("admin2.test")
      const certPath = Path.join(certs.dir, "admin-live.pem")
      const keyPath = Path.join(certs.dir, "admin-live.key")
      Fs.copyFileSync(first.cert, certPath)
      Fs.copyFileSync(first.key, keyPath)
      const l = yield* Linker.make(configOf(`
admin:
  port: 0
  tls: {certPath: ${certPath}, keyPath: ${keyPath}}
routers:
- protocol: http
  servers: [{port: 0}]
`))
      const tls = (servername: string) => ({ ca: certs.ca.cert, servername })
      const r = yield* request(l.admin.port, "/config.json", `127.0.0.1:${l.admin.port}`, tls("admin.test"))
      expect(r.status).toBe(200)
      expect(r.body).toContain(certPath)
      expect(r.body).not.toContain(keyPath)
      expect(r.body).not.toContain("PRIVATE KEY")

      Fs.copyFileSync(second.cert, certPath)
      Fs.copyFileSync(second.key, keyPath)
      yield* l.reloadTls
      const after = yield* request(l.admin.port, "/admin/ping", `127.0.0.1:${l.admin.port}`, tls("admin2.test"))
      expect(after.status).toBe(200)

      Fs.writeFileSync(keyPath, "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
      const e = yield* Effect.flip(l.reloadTls)
      expect(e.message).toContain("admin.tls")
      expect(e.message).not.toContain("not a key")
    })))

  it.live("linkerd's tail of TLS keys: enabled: false, protocols, intermediateCertsPath", () =>
    Effect.scoped(Effect.gen(function*() {
      // the backend reports the protocol version each connection negotiated
      const web = certs.server("web.example.com")
      const b = yield* Effect.acquireRelease(
        Effect.promise(() =>
          new Promise<https.Server>((resolve) => {
            const server = https.createServer(
              { cert: Fs.readFileSync(web.cert), key: Fs.readFileSync(web.key) },
              (req, res) => res.end(`secure ${(req.socket as NodeTls.TLSSocket).getProtocol()}`)
            )
            server.listen(0, "127.0.0.1", () => resolve(server))
          })
        ),
        (server) => Effect.promise(() => new Promise<void>((done) => server.close(() => done())))
      )
      const plain = yield* backend((_req, res) => res.end("plaintext"))
      const edge = certs.server("edge.test")
      const l = yield* Linker.make(configOf(`
admin: {port: 0}
namers:
- {kind: io.l5d.fs, rootDir: ${disco({ web: portOf(b), legacy: plain.port })}}
routers:
- protocol: http
  dtab: /svc => /#/io.l5d.fs;
  servers:
  - port: 0
    tls: {certPath: ${edge.cert}, intermediateCertsPath: ${certs.ca.cert}, keyPath: ${edge.key}}
  client:
    kind: io.l5d.static
    configs:
    - prefix: /#/io.l5d.fs/{service}
      tls: {commonName: "{service}.example.com", trustCerts: [${certs.ca.cert}], protocols: [TLSv1.2]}
    - prefix: /#/io.l5d.fs/legacy
      tls: {enabled: false}
`))
      const port = l.routers[0]!.servers[0]!.port
      const tls = { ca: certs.ca.cert, servername: "edge.test" }
      expect((yield* request(port, "/", "web", tls)).body).toBe("secure TLSv1.2")
      // a later config's enabled: false: plaintext for that name only
      expect((yield* request(port, "/", "legacy", tls)).body).toBe("plaintext")
      // the server sends its certificate followed by the intermediates file's
      const chain = yield* Effect.promise(() =>
        new Promise<number>((resolve, reject) => {
          const socket = NodeTlsModule.connect(
            // no trusted CA here: the issuer is known only when the server sends it
            { host: "127.0.0.1", port, rejectUnauthorized: false, servername: "edge.test" },
            () => {
              let n = 0
              for (let c = socket.getPeerX509Certificate(); c !== undefined && n < 5; n++) {
                const issuer = c.issuerCertificate
                c = issuer === undefined || issuer.fingerprint256 === c.fingerprint256 ? undefined : issuer
              }
              socket.end()
              resolve(n)
            }
          )
          socket.on("error", reject)
        })
      )
      expect(chain).toBe(2)
      const bad = yield* Effect.result(Linker.make(configOf(`
admin: {port: 0}
routers:
- protocol: http
  servers: [{port: 0, tls: {certPath: ${edge.cert}, intermediateCertsPath: /nonexistent/chain.pem, keyPath: ${edge.key}}}]
`)))
      expect(Result.isFailure(bad) && bad.failure.message).toContain(
        "cannot read intermediate certificates /nonexistent/chain.pem"
      )
    })))
})
