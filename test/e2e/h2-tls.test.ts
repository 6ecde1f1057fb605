import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Result from "effect/Result"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as http2 from "node:http2"
import * as https from "node:https"
import * as NodeTls from "node:tls"
import * as Errors from "../../src/http/Errors.js"
import * as Linker from "../../src/proxy/Linker.js"
import * as Validate from "../../src/proxy/Validate.js"
import { collect, echoBackend, echoClient, grpc, type Msg, unary } from "../h2/support.js"
import { type Certs, makeCerts, type Pair } from "../support/certs.js"
import { waitFor } from "../support/poll.js"

let certs: Certs
beforeAll(() => {
  certs = makeCerts()
})
afterAll(() => certs.remove())

/** Runs a command and returns its exit code, stdout and stderr (never fails). */
const run = (file: string, args: ReadonlyArray<string>) =>
  Effect.callback<{ readonly code: number; readonly stdout: string; readonly stderr: string }>((resume) => {
    execFile(file, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1
      resume(Effect.succeed({ code, stdout, stderr }))
    })
  })

const linkerOf = (text: string) =>
  Effect.gen(function*() {
    const checked = Validate.check(text)
    if (Result.isFailure(checked)) throw new Error(checked.failure.map((p) => `${p.path}: ${p.message}`).join("\n"))
    return yield* Linker.make(checked.success)
  })

const read = (path: string) => Fs.readFileSync(path)

/** A gRPC server's TLS credentials from `pair`, asking for a client certificate from the CA when `mutual`. */
const serverCredentials = (pair: Pair, mutual = false) =>
  grpc.ServerCredentials.createSsl(
    mutual ? read(certs.ca.cert) : null,
    [{ private_key: read(pair.key), cert_chain: read(pair.cert) }],
    mutual
  )

/** An HTTP/1.1-only node:https backend (no ALPN). */
const httpsBackend = (pair: Pair) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ readonly server: https.Server; readonly port: number }>((resolve) => {
        const server = https.createServer(
          { cert: read(pair.cert), key: read(pair.key) },
          (_req, res) => res.end("http/1.1")
        )
        server.on("tlsClientError", () => {})
        server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port }))
      })
    ),
    ({ server }) =>
      Effect.promise(() =>
        new Promise<void>((done) => {
          server.close(() => done())
          server.closeAllConnections()
        })
      )
  )

/** A TLS server that negotiates no ALPN protocol at all (and answers nothing). */
const noAlpnBackend = (pair: Pair) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ readonly server: NodeTls.Server; readonly port: number; sockets: Set<NodeTls.TLSSocket> }>(
        (resolve) => {
          const sockets = new Set<NodeTls.TLSSocket>()
          const server = NodeTls.createServer({ cert: read(pair.cert), key: read(pair.key) }, (socket) => {
            sockets.add(socket)
            socket.on("error", () => {})
          })
          server.on("tlsClientError", () => {})
          server.listen(0, "127.0.0.1", () =>
            resolve({ server, port: (server.address() as { port: number }).port, sockets }))
        }
      )
    ),
    ({ server, sockets }) =>
      Effect.promise(() =>
        new Promise<void>((done) => {
          server.close(() =>
            done()
          )
          for (const s of sockets) s.destroy()
        })
      )
  )

/**
 * A node:http2 TLS backend answering `tls <version> <authority> <path>`, with ALPN `protocols`; its
 * sessions are destroyed when the scope closes (the proxy's pooled connections may outlive it).
 */
const h2TlsBackend = (pair: Pair, protocols: Array<string> = ["h2"]) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<
        { readonly server: http2.Http2SecureServer; readonly port: number; sessions: Set<http2.ServerHttp2Session> }
      >((resolve) => {
        const sessions = new Set<http2.ServerHttp2Session>()
        const server = http2.createSecureServer({
          cert: read(pair.cert),
          key: read(pair.key),
          ALPNProtocols: protocols,
          allowHTTP1: protocols.includes("http/1.1")
        }, (req, res) => {
          res.end(`tls ${req.httpVersion} ${req.headers[":authority"] ?? req.headers.host} ${req.url}`)
        })
        server.on("session", (s) => sessions.add(s))
        server.on("tlsClientError", () => {})
        server.listen(
          0,
          "127.0.0.1",
          () => resolve({ server, port: (server.address() as { port: number }).port, sessions })
        )
      })
    ),
    ({ server, sessions }) =>
      Effect.promise(() =>
        new Promise<void>((done) => {
          server.close(() => done())
          for (const s of sessions) s.destroy()
        })
      )
  )

describe("h2 routers over TLS (ALPN h2)", () => {
  it.live("grpc-js over TLS through weir to a gRPC backend over mutual TLS: unary, streaming, status", () =>
    Effect.gen(function*() {
      const backend = yield* echoBackend("b1", serverCredentials(certs.server("echo.backend"), true))
      const weir = certs.server("echo")
      const client = certs.client("weir")
      const linker = yield* linkerOf(`
admin: {port: 0}
routers:
- protocol: h2
  label: grpc
  dtab: /svc/echo => /$/inet/127.0.0.1/${backend.port}
  servers:
  - port: 0
    tls: {certPath: ${weir.cert}, keyPath: ${weir.key}}
  client:
    tls:
      commonName: echo.backend
      trustCerts: [${certs.ca.cert}]
      clientAuth: {certPath: ${client.cert}, keyPath: ${client.key}}
`)
      const port = linker.routers[0]!.servers[0]!.port
      const echo = yield* echoClient(port, "echo", grpc.credentials.createSsl(read(certs.ca.cert)))
      const u = yield* unary(echo, { text: "hi", n: 7 })
      expect(u.code).toBe(0)
      expect(u.reply).toEqual({ text: "b1:hi", n: 7 })
      expect(backend.seen[0]!.metadata["l5d-dst-service"]).toBe("/svc/echo")
      const ss = yield* collect<Msg>(echo.ServerStream({ n: 50 }))
      expect(ss.code).toBe(0)
      expect(ss.messages.length).toBe(50)
      const bad = yield* unary(echo, { text: "unavailable" })
      expect(bad.code).toBe(grpc.status.UNAVAILABLE)
      expect(bad.details).toBe("try again")
    }))

  it.live("a backend certificate from another CA: UNAVAILABLE with an l5d-err naming TLS, no plaintext fallback", () =>
    Effect.gen(function*() {
      const backend = yield* echoBackend("b1", serverCredentials(certs.server("echo.backend")))
      const linker = yield* linkerOf(`
admin: {port: 0}
routers:
- protocol: h2
  label: grpc
  dtab: /svc/echo => /$/inet/127.0.0.1/${backend.port}
  servers: [{port: 0}]
  client:
    tls: {commonName: echo.backend, trustCerts: [${certs.otherCa.cert}]}
`)
      const port = linker.routers[0]!.servers[0]!.port
      const echo = yield* echoClient(port, "echo")
      const r = yield* unary(echo, { text: "hi" })
      expect(r.code).toBe(grpc.status.UNAVAILABLE)
      const err = Errors.decodeErr(String(r.metadata?.get("l5d-err")[0]))
      expect(err).toMatch(/TLS handshake failed: .*(self.signed|unable to verify|issuer)/i)
      expect(backend.seen.length).toBe(0)

      // the wrong name: refused too
      const named = yield* linkerOf(`
admin: {port: 0}
routers:
- protocol: h2
  dtab: /svc/echo => /$/inet/127.0.0.1/${backend.port}
  servers: [{port: 0}]
  client:
    tls: {commonName: someone.else, trustCerts: [${certs.ca.cert}]}
`)
      const echo2 = yield* echoClient(named.routers[0]!.servers[0]!.port, "echo")
      const r2 = yield* unary(echo2, { text: "hi" })
      expect(r2.code).toBe(grpc.status.UNAVAILABLE)
      expect(Errors.decodeErr(String(r2.metadata?.get("l5d-err")[0]))).toMatch(/TLS handshake failed: .*someone\.else/)
      expect(backend.seen.length).toBe(0)
    }))

  it.live("a TLS backend that does not select h2 in ALPN is refused, naming ALPN; disableValidation accepts any certificate", () =>
    Effect.gen(function*() {
      const http1 = yield* httpsBackend(certs.server("web.backend"))
      const h2 = yield* h2TlsBackend(certs.otherCa)
      const none = yield* noAlpnBackend(certs.server("web.backend"))
      const linker = yield* linkerOf(`
admin: {port: 0}
routers:
- protocol: h2
  dtab: |
    /svc/old => /$/inet/127.0.0.1/${http1.port};
    /svc/any => /$/inet/127.0.0.1/${h2.port};
    /svc/none => /$/inet/127.0.0.1/${none.port};
  servers: [{port: 0}]
  client:
    kind: io.l5d.static
    configs:
    - prefix: /$/inet/127.0.0.1/${http1.port}
      tls: {commonName: web.backend, trustCerts: [${certs.ca.cert}]}
    - prefix: /$/inet/127.0.0.1/${h2.port}
      tls: {disableValidation: true}
    - prefix: /$/inet/127.0.0.1/${none.port}
      tls: {commonName: web.backend, trustCerts: [${certs.ca.cert}]}
`)
      const port = linker.routers[0]!.servers[0]!.port
      const old = yield* run("curl", [
        "-s",
        "-i",
        "--http2-prior-knowledge",
        "-H",
        "Host: old",
        `http://127.0.0.1:${port}/x`
      ])
      expect(old.stdout).toMatch(/^HTTP\/2 502/)
      const err = /l5d-err: (.*)\r\n/.exec(old.stdout)?.[1]
      // an HTTP/1.1 server refuses the handshake: h2 is the only protocol offered
      expect(Errors.decodeErr(err ?? "")).toMatch(/TLS handshake failed: tlsv1 alert no application protocol/)
      const noAlpn = yield* run("curl", [
        "-s",
        "-i",
        "--http2-prior-knowledge",
        "-H",
        "Host: none",
        `http://127.0.0.1:${port}/z`
      ])
      expect(noAlpn.stdout).toMatch(/^HTTP\/2 502/)
      expect(Errors.decodeErr(/l5d-err: (.*)\r\n/.exec(noAlpn.stdout)?.[1] ?? "")).toMatch(
        /TLS handshake failed: the backend did not select h2 with ALPN \(it selected no protocol\)/
      )

      const any = yield* run("curl", ["-s", "--http2-prior-knowledge", "-H", "Host: any", `http://127.0.0.1:${port}/y`])
      expect(any.stdout).toBe("tls 2.0 any /y")
    }))

  it.live("curl and nghttp negotiate h2 with ALPN; an HTTP/1.1-only client is closed and logged", () =>
    Effect.gen(function*() {
      const backend = yield* h2TlsBackend(certs.server("web.backend"))
      const weir = certs.server("weir.example")
      const messages: Array<string> = []
      const capture = Logger.make((o) => {
        messages.push(String(o.message))
      })
      const linker = yield* linkerOf(`
admin: {port: 0}
routers:
- protocol: h2
  dtab: /svc/app => /$/inet/127.0.0.1/${backend.port}
  servers:
  - port: 0
    tls: {certPath: ${weir.cert}, keyPath: ${weir.key}}
  client:
    tls: {commonName: web.backend, trustCerts: [${certs.ca.cert}]}
`).pipe(Effect.provideService(Logger.CurrentLoggers, new Set([capture])))
      const port = linker.routers[0]!.servers[0]!.port
      const url = `https://127.0.0.1:${port}/greet`
      const curl = yield* run("curl", ["-sS", "-v", "--http2", "--cacert", certs.ca.cert, "-H", "Host: app", url])
      expect(curl.code).toBe(0)
      expect(curl.stdout).toBe("tls 2.0 app /greet")
      expect(curl.stderr).toMatch(/ALPN.*h2/)
      expect(curl.stderr).toMatch(/< HTTP\/2 200/)

      const nghttp = yield* run("nghttp", ["-v", "-H", ":authority: app", `https://127.0.0.1:${port}/n`])
      expect(nghttp.code).toBe(0)
      expect(nghttp.stdout).toMatch(/The negotiated protocol: h2/)
      expect(nghttp.stdout).toContain("tls 2.0 app /n")

      const old = yield* run("curl", ["-sS", "--http1.1", "--cacert", certs.ca.cert, "-H", "Host: app", url])
      expect(old.code).not.toBe(0)
      expect(old.stdout).toBe("")
      expect(old.stderr).toMatch(/no application protocol/)
      yield* waitFor(
        () => messages.some((m) => /offered no h2 in ALPN.*serves only HTTP\/2/.test(m)),
        "the warning about the HTTP/1.1 client"
      )

      // a client trusting another CA does not get through either
      const wrong = yield* run("curl", ["-sS", "--http2", "--cacert", certs.otherCa.cert, "-H", "Host: app", url])
      expect(wrong.code).not.toBe(0)
      expect(wrong.stderr).toMatch(/certificate/i)
    }))
})
