import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Fs from "node:fs"
import * as https from "node:https"
import type * as net from "node:net"
import { WebSocket, WebSocketServer } from "ws"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { type Certs, makeCerts } from "../support/certs.js"
import { waitFor } from "../support/poll.js"

let certs: Certs
beforeAll(() => {
  certs = makeCerts()
})
afterAll(() => certs.remove())

/** A `wss` echo server on loopback with a certificate for `web.example.com`, closed with the scope. */
const wssEcho = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<{ server: https.Server; wss: WebSocketServer; port: number }>((resolve) => {
      const pair = certs.server("web.example.com")
      const server = https.createServer({ cert: Fs.readFileSync(pair.cert), key: Fs.readFileSync(pair.key) })
      const wss = new WebSocketServer({ server })
      wss.on("connection", (ws: WebSocket) => {
        ws.on("message", (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }))
      })
      server.listen(0, "127.0.0.1", () => resolve({ server, wss, port: (server.address() as net.AddressInfo).port }))
    })
  ),
  ({ server, wss }) =>
    Effect.promise(() =>
      new Promise<void>((done) => {
        for (const c of wss.clients) c.terminate()
        wss.close()
        server.close(() => done())
        server.closeAllConnections()
      })
    )
)

describe("Router tunnels over TLS", () => {
  it.live("wss to a TLS server, tunnelled over client TLS to a wss backend", () =>
    Effect.scoped(Effect.gen(function*() {
      const backend = yield* wssEcho
      const edge = certs.server("edge.test")
      const parsed = Config.parse(`
admin: {port: 0}
routers:
- protocol: http
  dtab: /svc/echo => /$/inet/127.0.0.1/${backend.port};
  servers:
  - port: 0
    tls: {certPath: ${edge.cert}, keyPath: ${edge.key}}
  client:
    tls:
      commonName: web.example.com
      trustCerts: [${certs.ca.cert}]
`)
      if (Result.isFailure(parsed)) throw new Error(JSON.stringify(parsed.failure))
      const linker = yield* Linker.make(parsed.success)
      const port = linker.routers[0]!.servers[0]!.port
      const ws = yield* Effect.promise(() =>
        new Promise<WebSocket>((resolve, reject) => {
          // `servername` goes on to https.request (the name checked), which ws's types do not list
          const options = { headers: { host: "echo" }, ca: Fs.readFileSync(certs.ca.cert), servername: "edge.test" }
          const c = new WebSocket(`wss://127.0.0.1:${port}/tls`, options as WebSocket.ClientOptions)
          c.once("open", () => resolve(c))
          c.once("error", reject)
        })
      )
      const received: Array<string> = []
      ws.on("message", (d) => received.push(d.toString()))
      for (let i = 0; i < 200; i++) ws.send(`secret ${i}`)
      yield* waitFor(() => received.length === 200, "200 echoes over TLS both hops")
      expect(received).toEqual(Array.from({ length: 200 }, (_, i) => `secret ${i}`))
      const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)))
      ws.close(4003, "tls bye")
      expect(yield* Effect.promise(() => closed)).toBe(4003)
      const client = `rt/http/client/$/inet/127.0.0.1/${backend.port}/tunnel`
      yield* waitFor(() => linker.registry.counterValue(`${client}/closed`) === 1, "the tunnel closed")
      expect(linker.registry.counterValue(`${client}/opened`)).toBe(1)
    })))
})
