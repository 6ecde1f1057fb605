import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/testing/TestClock"
import * as net from "node:net"
import { WebSocket, WebSocketServer } from "ws"
import * as Errors from "../../src/http/Errors.js"
import * as Router from "../../src/http/Router.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import * as Stats from "../../src/Stats.js"
import { sendE, textBackend } from "../http/support.js"
import { waitFor } from "../support/poll.js"

const inet = (port: number) => `/$/inet/127.0.0.1/${port}`

/** Waits (real time, outside any Clock: the tests under TestClock use it) until `cond` holds; 5 s at most. */
const until = (cond: () => boolean) =>
  Effect.promise(() =>
    new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 5000
      const check = () =>
        cond() ? resolve() : Date.now() > deadline ? reject(new Error("condition not met")) : setTimeout(check, 5)
      check()
    })
  )

/** A `ws` server on loopback that echoes every message, closed with the scope. */
const wsEcho = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<{ server: WebSocketServer; port: number; sockets: Array<WebSocket> }>((resolve) => {
      const sockets: Array<WebSocket> = []
      const server: WebSocketServer = new WebSocketServer({ host: "127.0.0.1", port: 0 }, (): void =>
        resolve({ server, port: (server.address() as net.AddressInfo).port, sockets }))
      server.on("connection", (ws: WebSocket) => {
        sockets.push(ws)
        ws.on("message", (data: Buffer, isBinary: boolean) =>
          ws.send(data, { binary: isBinary }))
      })
    })
  ),
  ({ server }) =>
    Effect.promise(() =>
      new Promise<void>((done) => {
        for (const c of server.clients) c.terminate()
        server.close(() => done())
      })
    )
)

/** A raw TCP server on loopback, closed with the scope. */
const tcpServer = (onSocket: (socket: net.Socket) => void): Effect.Effect<number, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.promise(() =>
        new Promise<{ server: net.Server; sockets: Set<net.Socket> }>((resolve) => {
          const sockets = new Set<net.Socket>()
          const server = net.createServer({ allowHalfOpen: true }, (s) => {
            sockets.add(s)
            s.on("close", () => sockets.delete(s))
            s.on("error", () => {})
            onSocket(s)
          })
          server.listen(0, "127.0.0.1", () => resolve({ server, sockets }))
        })
      ),
      ({ server, sockets }) =>
        Effect.promise(() =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          })
        )
    ),
    ({ server }) => (server.address() as net.AddressInfo).port
  )

/** A client connection that records what it reads and when it ends or closes. */
const rawClient = (port: number) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ socket: net.Socket; text: () => string; ended: () => boolean; closed: () => boolean }>(
        (resolve) => {
          let out = ""
          let ended = false
          let closed = false
          const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true }, () =>
            resolve({ socket, text: () => out, ended: () => ended, closed: () => closed }))
          socket.on("data", (d: Buffer) => {
            out += d.toString("latin1")
          })
          socket.on("end", () => {
            ended = true
          })
          socket.on("close", () => {
            closed = true
          })
          socket.on("error", () => {})
        }
      )
    ),
    (c) =>
      Effect.sync(() => c.socket.destroy())
  )

/** A WebSocket client through the router at `port`, for the service `host`. */
const opened = (port: number, path: string, host = "echo") =>
  Effect.promise(() =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { host } })
      ws.once("open", () => resolve(ws))
      ws.once("error", reject)
    })
  )

const closeOf = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() }))
  )

const routerTo = (dtab: string, extra?: Partial<Router.Options>) =>
  Effect.gen(function*() {
    const interpreter = yield* Interpreter.make()
    const stats = Stats.makeInMemory()
    const router = yield* Router.make({
      label: "http",
      servers: [{ port: 0 }],
      dtab: Dtab.parseUnsafe(dtab),
      interpreter,
      stats,
      ...extra
    })
    return { router, port: router.servers[0]!.port, stats }
  })

describe("Router tunnels", () => {
  it.live("a WebSocket echoes 1,000 messages both ways through the router, and closes cleanly", () =>
    Effect.gen(function*() {
      const backend = yield* wsEcho
      const { port, stats } = yield* routerTo(`/svc/echo => ${inet(backend.port)}`)
      const ws = yield* opened(port, "/chat")
      const received: Array<string> = []
      ws.on("message", (d) => received.push(d.toString()))
      for (let i = 0; i < 1000; i++) ws.send(`message ${i}`)
      yield* waitFor(() => received.length === 1000, "1000 echoes")
      expect(received[0]).toBe("message 0")
      expect(received[999]).toBe("message 999")
      expect(received).toEqual(Array.from({ length: 1000 }, (_, i) => `message ${i}`))
      const client = `rt/http/client/$/inet/127.0.0.1/${backend.port}`
      expect(stats.counterValue(`${client}/tunnel/opened`)).toBe(1)
      expect(stats.gaugeValues().get(`${client}/tunnel/active`)).toBe(1)
      expect(stats.counterValue(`${client}/status/101`)).toBe(1)
      const closing = closeOf(ws)
      ws.close(1000, "done")
      expect(yield* Effect.promise(() => closing)).toEqual({ code: 1000, reason: "done" })
      yield* waitFor(() => stats.counterValue(`${client}/tunnel/closed`) === 1, "the tunnel closed")
      expect(stats.gaugeValues().get(`${client}/tunnel/active`)).toBe(0)
      expect(stats.counterValue(`${client}/tunnel/closed/closed`)).toBe(1)
      // every byte counted: the client's frames are masked (2 + 4 bytes of header), the server's are
      // not (2); "message i" is 9, 10 or 11 bytes; the close frames carry the code (2) and "done"
      const payload = 10 * 9 + 90 * 10 + 900 * 11
      expect(stats.counterValue(`${client}/tunnel/sent_bytes`)).toBe(payload + 1000 * 6 + 6 + 6)
      expect(stats.counterValue(`${client}/tunnel/received_bytes`)).toBe(payload + 1000 * 2 + 2 + 6)
      expect(stats.histogramSummary(`${client}/tunnel/duration_ms`).count).toBe(1)
    }))

  it.live("close codes cross the router both ways; a killed backend closes the client", () =>
    Effect.gen(function*() {
      const backend = yield* wsEcho
      const { port } = yield* routerTo(`/svc/echo => ${inet(backend.port)}`)

      // the client closes with a code: the backend sees it
      const a = yield* opened(port, "/a")
      yield* waitFor(() => backend.sockets.length === 1, "the backend's first connection")
      const seenByBackend = closeOf(backend.sockets[0]!)
      a.close(4001, "client says bye")
      expect(yield* Effect.promise(() => seenByBackend)).toEqual({ code: 4001, reason: "client says bye" })

      // the backend closes with a code: the client sees it
      const b = yield* opened(port, "/b")
      yield* waitFor(() => backend.sockets.length === 2, "the backend's second connection")
      const seenByClient = closeOf(b)
      backend.sockets[1]!.close(4002, "server says bye")
      expect(yield* Effect.promise(() => seenByClient)).toEqual({ code: 4002, reason: "server says bye" })

      // the backend's connection is killed: the client's closes (abnormally, with no close frame)
      const c = yield* opened(port, "/c")
      yield* waitFor(() => backend.sockets.length === 3, "the backend's third connection")
      const killed = closeOf(c)
      backend.sockets[2]!.terminate()
      expect((yield* Effect.promise(() => killed)).code).toBe(1006)
    }))

  it.live("a raw upgrade to another protocol: early bytes, both directions, half-close", () =>
    Effect.gen(function*() {
      const backendPort = yield* tcpServer((s) => {
        let buf = ""
        let switched = false
        s.on("data", (d: Buffer) => {
          if (switched) {
            s.write(d.toString("latin1").toUpperCase())
            return
          }
          buf += d.toString("latin1")
          const end = buf.indexOf("\r\n\r\n")
          if (end < 0) return
          switched = true
          const head = buf.slice(0, end).toLowerCase()
          s.write(
            `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: shout/1\r\nx-saw-upgrade: ${
              /\r\nupgrade: shout\/1/.test(head)
            }\r\n\r\nwelcome `
          )
          const rest = buf.slice(end + 4)
          if (rest.length > 0) s.write(rest.toUpperCase())
        })
        s.on("end", () => s.end(" bye"))
      })
      const { port, stats } = yield* routerTo(`/svc/shout => ${inet(backendPort)}`)
      const c = yield* rawClient(port)
      // the request and the first bytes of the new protocol in one write
      c.socket.write("GET /s HTTP/1.1\r\nHost: shout\r\nConnection: Upgrade\r\nUpgrade: shout/1\r\n\r\nearly ")
      yield* waitFor(() => c.text().includes("EARLY "), "the early bytes echoed")
      const text = c.text()
      expect(text.startsWith("HTTP/1.1 101 Switching Protocols\r\n")).toBe(true)
      expect(text.toLowerCase()).toContain("\r\nconnection: upgrade\r\n")
      expect(text.toLowerCase()).toContain("\r\nupgrade: shout/1\r\n")
      expect(text).toContain("x-saw-upgrade: true")
      expect(text).toContain("\r\n\r\nwelcome EARLY ")
      c.socket.write("later")
      yield* waitFor(() => c.text().endsWith("LATER"), "later bytes echoed")
      c.socket.end()
      yield* waitFor(() => c.ended(), "the backend's half-close reaching the client")
      expect(c.text().endsWith("LATER bye")).toBe(true)
      yield* waitFor(
        () => stats.counterValue(`rt/http/client/$/inet/127.0.0.1/${backendPort}/tunnel/closed`) === 1,
        "closed"
      )
      expect(stats.counterValue(`rt/http/client/$/inet/127.0.0.1/${backendPort}/tunnel/closed/closed`)).toBe(1)
    }))

  it.live("an upgrade the backend declines is an ordinary response, on a connection that stays usable", () =>
    Effect.gen(function*() {
      const backend = yield* textBackend("plain")
      const { port } = yield* routerTo(`/svc/plain => ${inet(backend.port)}`)
      const c = yield* rawClient(port)
      const request = "GET / HTTP/1.1\r\nHost: plain\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
      c.socket.write(request + "GET /again HTTP/1.1\r\nHost: plain\r\n\r\n")
      yield* waitFor(() => c.text().split("HTTP/1.1 200 OK").length === 3, "two responses")
      expect(c.text()).toContain("plain")
      expect(backend.seen.map((s) => s.url)).toEqual(["/", "/again"])
      // the upgrade was offered to the backend, which ignored it
      expect(backend.seen[0]!.headers["upgrade"]).toBe("websocket")
      expect(c.closed()).toBe(false)
    }))

  it.live("CONNECT tunnels to the endpoint its authority is routed to, when enabled", () =>
    Effect.gen(function*() {
      const echoPort = yield* tcpServer((s) => {
        s.on("data", (d: Buffer) => s.write(d))
        s.on("end", () => s.end())
      })
      const authority = `127.0.0.1:${echoPort}`
      const { port, stats } = yield* routerTo(`/svc/${authority} => ${inet(echoPort)}`, { connectEnabled: true })
      const c = yield* rawClient(port)
      c.socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\nping`)
      yield* waitFor(() => c.text().endsWith("ping"), "the early bytes echoed")
      expect(c.text().startsWith("HTTP/1.1 200 Connection established\r\n")).toBe(true)
      expect(c.text().toLowerCase()).not.toContain("content-length")
      c.socket.write("pong")
      yield* waitFor(() => c.text().endsWith("pingpong"), "more bytes echoed")
      c.socket.end()
      yield* waitFor(() => c.ended(), "the tunnel closed")
      const client = `rt/http/client/$/inet/127.0.0.1/${echoPort}`
      yield* waitFor(() => stats.counterValue(`${client}/tunnel/closed`) === 1, "the tunnel counted closed")
      expect(stats.counterValue(`${client}/tunnel/sent_bytes`)).toBe(8)
      expect(stats.counterValue(`${client}/tunnel/received_bytes`)).toBe(8)
      expect(stats.counterValue(`${client}/status/200`)).toBe(1)

      // an authority the dtab does not bind is not tunnelled anywhere
      const d = yield* rawClient(port)
      d.socket.write("CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n")
      yield* waitFor(() => d.ended(), "the refusal")
      expect(d.text()).toMatch(/^HTTP\/1\.1 502 /)
      expect(d.text()).toContain("service name: /svc/127.0.0.1:1")
    }))

  it.live("CONNECT is refused with 405 and l5d-err when not enabled", () =>
    Effect.gen(function*() {
      let connected = 0
      const echoPort = yield* tcpServer(() => {
        connected++
      })
      const authority = `127.0.0.1:${echoPort}`
      const { port, stats } = yield* routerTo(`/svc/${authority} => ${inet(echoPort)}`)
      const c = yield* rawClient(port)
      c.socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\nnot http`)
      yield* waitFor(() => c.ended(), "the refusal and close")
      expect(c.text()).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/)
      const err = /\r\nl5d-err: ([^\r]*)\r\n/.exec(c.text())
      expect(Errors.decodeErr(err![1]!)).toContain("CONNECT is not enabled on router http")
      expect(c.text()).toContain("\r\nallow: GET")
      expect(connected).toBe(0)
      expect(stats.counterValue(`rt/http/server/127.0.0.1/${port}/status/405`)).toBe(1)
    }))

  it.live("bad input: a malformed Upgrade is a 400; Upgrade without Connection: upgrade is an ordinary request", () =>
    Effect.gen(function*() {
      const backend = yield* textBackend("plain")
      const { port } = yield* routerTo(`/svc/plain => ${inet(backend.port)}`)
      for (const upgrade of ["web socket", "", "websocket,,h2c", "a/b/c", "ws\u00e9"]) {
        const c = yield* rawClient(port)
        c.socket.write(`GET / HTTP/1.1\r\nHost: plain\r\nConnection: upgrade\r\nUpgrade: ${upgrade}\r\n\r\n`, "latin1")
        yield* waitFor(() => c.closed() || c.ended(), `the answer to Upgrade: ${upgrade}`)
        expect(c.text()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
      }
      expect(backend.seen.length).toBe(0)
      const plain = yield* sendE(port, { headers: { host: "plain", upgrade: "websocket" } })
      expect(plain.status).toBe(200)
      expect(backend.seen[0]!.headers["upgrade"]).toBeUndefined()
      // an upgrade with a body is forwarded as an ordinary request
      const c = yield* rawClient(port)
      c.socket.write(
        "POST / HTTP/1.1\r\nHost: plain\r\nConnection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\nhi"
      )
      yield* waitFor(() => c.text().includes("plain"), "the answer")
      expect(c.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
      expect(backend.seen[1]!.headers["upgrade"]).toBeUndefined()
      // a CONNECT with a body is a 400
      const d = yield* rawClient(port)
      d.socket.write("CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nContent-Length: 2\r\n\r\nhi")
      yield* waitFor(() => d.closed() || d.ended(), "the answer to a CONNECT with a body")
      expect(d.text()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
    }))

  it.live("bad input from the backend: a 101 without Upgrade is a protocol error (502), no tunnel", () =>
    Effect.gen(function*() {
      const backendPort = yield* tcpServer((s) => {
        s.once("data", () => s.write("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\nstray bytes"))
      })
      const { port, stats } = yield* routerTo(`/svc/odd => ${inet(backendPort)}`)
      const c = yield* rawClient(port)
      c.socket.write("GET / HTTP/1.1\r\nHost: odd\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
      yield* waitFor(() => c.text().includes("\r\n\r\n"), "the answer")
      expect(c.text()).toMatch(/^HTTP\/1\.1 502 /)
      expect(c.text()).toContain("101 Switching Protocols without Upgrade")
      expect(c.text()).not.toContain("stray bytes")
      expect(stats.counterValue(`rt/http/client/$/inet/127.0.0.1/${backendPort}/tunnel/opened`)).toBe(0)
    }))

  it.effect("an upgrade whose backend never answers gets the attempt timeout (TestClock)", () =>
    Effect.gen(function*() {
      let accepted = 0
      const silentPort = yield* tcpServer(() => {
        accepted++
      })
      const { port, stats } = yield* routerTo(`/svc/silent => ${inet(silentPort)}`, {
        client: () => ({ attemptTimeout: Duration.seconds(2) })
      })
      const c = yield* rawClient(port)
      c.socket.write("GET / HTTP/1.1\r\nHost: silent\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
      yield* until(() => accepted === 1)
      yield* TestClock.adjust(Duration.seconds(2))
      yield* until(() => c.text().includes("\r\n\r\n"))
      expect(c.text()).toMatch(/^HTTP\/1\.1 503 /)
      expect(c.text()).toContain("l5d-err: exceeded+2.seconds")
      const client = `rt/http/client/$/inet/127.0.0.1/${silentPort}`
      expect(stats.counterValue(`${client}/tunnel/opened`)).toBe(0)
      expect(stats.counterValue(`${client}/failures`)).toBe(1)
    }))

  it.live("backpressure: a client that does not read stops the backend, and every byte arrives once it reads", () =>
    Effect.gen(function*() {
      const total = 64 * 1024 * 1024
      const chunk = Buffer.alloc(64 * 1024, 120)
      let written = 0
      const backendPort = yield* tcpServer((s) => {
        s.once("data", () => {
          s.write("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: firehose\r\n\r\n")
          const pump = () => {
            while (written < total) {
              written += chunk.length
              if (!s.write(chunk)) return void s.once("drain", pump)
            }
            s.end()
          }
          pump()
        })
      })
      const { port } = yield* routerTo(`/svc/fire => ${inet(backendPort)}`)
      let received = 0
      let ended = false
      const socket = yield* Effect.acquireRelease(
        Effect.sync(() => net.connect({ port, host: "127.0.0.1" })),
        (s) => Effect.sync(() => s.destroy())
      )
      let holding = true
      socket.on("data", (d: Buffer) => {
        received += d.length
        if (holding) socket.pause()
      })
      socket.on("end", () => {
        ended = true
      })
      socket.write("GET / HTTP/1.1\r\nHost: fire\r\nConnection: upgrade\r\nUpgrade: firehose\r\n\r\n")
      // the client stopped reading after its first bytes: wait until the backend makes no progress
      let last = -1
      let still = 0
      yield* waitFor(() => {
        still = written === last ? still + 1 : 0
        last = written
        return still >= 10
      }, "the backend to be held back")
      // the socket buffers on the way hold a few MiB at most; without backpressure all 64 would be taken
      expect(written).toBeLessThan(total / 2)
      holding = false
      socket.resume()
      yield* waitFor(() => ended, "the whole stream", 1500)
      const head = "HTTP/1.1 101 Switching Protocols\r\n".length
      expect(received).toBeGreaterThan(total + head)
    }))

  it.effect("weir proxy: the config keys reach the router (connectEnabled, tunnelIdleTimeoutMs)", () =>
    Effect.gen(function*() {
      const echoPort = yield* tcpServer((s) => {
        s.on("data", (d: Buffer) => s.write(d))
      })
      const authority = `127.0.0.1:${echoPort}`
      const parsed = Config.parse(`
admin: {port: 0}
routers:
- protocol: http
  label: egress
  connectEnabled: true
  tunnelIdleTimeoutMs: 60000
  dtab: |
    /svc/${authority} => /$/inet/127.0.0.1/${echoPort};
  servers: [{port: 0}]
`)
      if (Result.isFailure(parsed)) throw new Error(JSON.stringify(parsed.failure))
      expect(parsed.success.routers[0]!.connectEnabled).toBe(true)
      const linker = yield* Linker.make(parsed.success)
      const port = linker.routers[0]!.servers[0]!.port
      const c = yield* rawClient(port)
      c.socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\nhi`)
      yield* until(() => c.text().endsWith("hi"))
      yield* TestClock.adjust(Duration.seconds(59))
      c.socket.write("!")
      yield* until(() => c.text().endsWith("hi!"))
      yield* TestClock.adjust(Duration.seconds(60))
      yield* until(() => c.ended())
      const closed = `rt/egress/client/$/inet/127.0.0.1/${echoPort}/tunnel/closed/idle_timeout`
      expect(linker.registry.counterValue(closed)).toBe(1)
    }))

  it.live("a drain lets open tunnels carry on and finishes once they close", () =>
    Effect.gen(function*() {
      const backend = yield* wsEcho
      const { router, port } = yield* routerTo(`/svc/echo => ${inet(backend.port)}`)
      const ws = yield* opened(port, "/drain")
      const received: Array<string> = []
      ws.on("message", (d) => received.push(d.toString()))
      let drained = false
      const drain = yield* Effect.forkChild(Effect.tap(router.drain(Duration.seconds(30)), () =>
        Effect.sync(() => {
          drained = true
        })))
      yield* waitFor(() => router.servers[0]!.connections() === 1 && !drained, "the drain to start")
      yield* Effect.sleep("50 millis")
      // still draining, and the tunnel still carries messages
      ws.send("during the drain")
      yield* waitFor(() => received.length === 1, "an echo during the drain")
      expect(received[0]).toBe("during the drain")
      expect(drained).toBe(false)
      ws.close(1000)
      yield* Fiber.join(drain)
      expect(drained).toBe(true)
    }))

  it.live("a drain whose grace ends closes the tunnels still open", () =>
    Effect.gen(function*() {
      const backend = yield* wsEcho
      const { router, port, stats } = yield* routerTo(`/svc/echo => ${inet(backend.port)}`)
      const ws = yield* opened(port, "/drain")
      const closing = closeOf(ws)
      yield* router.drain(Duration.millis(100))
      expect((yield* Effect.promise(() => closing)).code).toBe(1006)
      const client = `rt/http/client/$/inet/127.0.0.1/${backend.port}`
      expect(stats.counterValue(`${client}/tunnel/closed/drain`)).toBe(1)
    }))

  it.effect("under TestClock: traffic keeps a tunnel open past the idle timeout; silence closes it, then the total limit", () =>
    Effect.gen(function*() {
      const echoPort = yield* tcpServer((s) => {
        s.on("data", (d: Buffer) => s.write(d))
      })
      const authority = `127.0.0.1:${echoPort}`
      const { port, stats } = yield* routerTo(`/svc/${authority} => ${inet(echoPort)}`, {
        connectEnabled: true,
        tunnelIdleTimeout: Duration.minutes(5),
        tunnelMaxDuration: Duration.minutes(30)
      })
      const client = `rt/http/client/$/inet/127.0.0.1/${echoPort}/tunnel`
      const c = yield* rawClient(port)
      c.socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n0`)
      yield* until(() => c.text().endsWith("0"))
      // a byte every 4 minutes: 20 minutes of traffic, never 5 quiet ones
      for (let i = 1; i <= 5; i++) {
        yield* TestClock.adjust(Duration.minutes(4))
        c.socket.write(String(i))
        yield* until(() => c.text().endsWith(String(i)))
      }
      expect(c.ended()).toBe(false)
      expect(stats.counterValue(`${client}/closed`)).toBe(0)
      // 5 quiet minutes: closed
      yield* TestClock.adjust(Duration.minutes(5))
      yield* until(() => c.ended())
      expect(stats.counterValue(`${client}/closed/idle_timeout`)).toBe(1)
      expect(stats.histogramSummary(`${client}/duration_ms`).max).toBe(25 * 60_000)

      // a busy tunnel is still closed at tunnelMaxDuration
      const d = yield* rawClient(port)
      d.socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n0`)
      yield* until(() => d.text().endsWith("0"))
      for (let i = 1; i <= 7; i++) {
        yield* TestClock.adjust(Duration.minutes(4))
        d.socket.write(String(i))
        yield* until(() => d.text().endsWith(String(i)))
      }
      expect(d.ended()).toBe(false)
      yield* TestClock.adjust(Duration.minutes(2))
      yield* until(() => d.ended())
      expect(stats.counterValue(`${client}/closed/max_duration`)).toBe(1)
    }))
})
