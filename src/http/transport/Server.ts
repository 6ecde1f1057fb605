/**
 * The HTTP/1.1 server of a router: weir's own HTTP/1.1 connection handling over `node:net` (the
 * codec is {@link Codec}), living in a `Scope`, whose handler is an Effect. It keeps connections
 * alive (one request at a time per connection; pipelined requests wait their turn), answers
 * `Expect: 100-continue` itself, protects itself from slow clients (a headers timeout) and from
 * malformed requests (400 for a bad request line or framing, 431 for oversized headers, 501/505 for
 * what it does not speak) while serving everyone else, and drains gracefully: stop accepting, let the
 * requests in flight finish within a grace period, then close what is left.
 *
 * Small request bodies (a `Content-Length` up to `bufferLimit`) are read whole before the handler
 * runs, so the request can be retried; larger or chunked ones stream with backpressure (the socket
 * pauses while the body's reader is behind).
 *
 * A client's FIN is a half-close: what it already sent is answered, then the connection closes. A
 * client that resets the connection (or whose response cannot be written) interrupts its handler.
 * A client that does not read its responses is not given new ones, and a connection the server
 * closes lingers (reading and dropping) until the client closes too, at most `keepAliveTimeout`
 * after the last byte was sent.
 *
 * A request that asks to switch protocols (`Connection: upgrade` with an `Upgrade` list, or
 * `CONNECT`) is handled like any other; when the handler's response carries the upstream connection
 * (`HttpResponse.tunnel`: a `101`, or a `2xx` to the `CONNECT`), the connection becomes a byte tunnel
 * to it (`Tunnel`), the bytes the client sent after its request head included. Any other answer is
 * an ordinary response (and closes the connection after a `CONNECT`). A malformed `Upgrade`, or a
 * `CONNECT` with a body, is a 400. A drain waits for open tunnels as for requests in flight, within
 * the same grace period.
 *
 * On Linux (Node ≥ 22.12) it listens with several sockets on its port (`acceptors`, `SO_REUSEPORT`):
 * node accepts one connection per listening socket each time its event loop polls, so under load one
 * socket leaves new connections waiting in the kernel's queue for seconds (docs/benchmarks.md,
 * "Fairness at 2,000 connections"). For the same reason at most 64 requests start per slice of the
 * event loop; the others wait their turn in arrival order (`internal/ServerConnection.ts`).
 *
 * With `tls` it listens with `node:tls` (the handshake must finish within `headersTimeout`) and
 * hands each connection, once secure, to the same connection handling.
 *
 * Driving the sockets directly instead of through `node:http` leaves more of the CPU to routing
 * (docs/benchmarks.md, "weir's own HTTP/1.1 transport"); only the surface is Effect-typed.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as net from "node:net"
import * as tls from "node:tls"
import { Connection, ignore, type Shared } from "./internal/ServerConnection.js"
import type { HttpRequest, HttpResponse } from "./Message.js"
import type { SocketOptions } from "./SocketOptions.js"
import type * as Tls from "./Tls.js"

/**
 * Server settings.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** Address to listen on. Defaults to `127.0.0.1` (never wider than configured). */
  readonly ip?: string | undefined
  /** Port; `0` picks a free one. Defaults to `4140`. */
  readonly port?: number | undefined
  /** Largest request head (request line and headers) in bytes; more gets 431. Defaults to 8 KiB + 4 KiB. */
  readonly maxHeaderBytes?: number | undefined
  /** How long a client may take to send its request head. Defaults to 10 seconds. */
  readonly headersTimeout?: Duration.Input | undefined
  /** How long an idle keep-alive connection stays open. Defaults to 5 seconds. */
  readonly keepAliveTimeout?: Duration.Input | undefined
  /** Request bodies with a `Content-Length` up to this many bytes are buffered (retryable). Defaults to 5 KiB. */
  readonly bufferLimit?: number | undefined
  /** How long a drain waits for requests in flight. Defaults to 10 seconds. */
  readonly drainGrace?: Duration.Input | undefined
  /** Called for every request the server rejected before the handler (400, 408, 417, 431, 501, 505). */
  readonly onClientError?: ((status: number, code: string) => void) | undefined
  /**
   * Called with the wait of every request that did not start in the turn of the event loop that read
   * it: past 64 request starts in one slice of the loop, the rest wait in a first-come-first-served
   * queue for the next slices. Its milliseconds, from the read that queued it to its start.
   */
  readonly onQueued?: ((ms: number) => void) | undefined
  /** linkerd's `socketOptions` (see `SocketOptions.ts`). Defaults: `noDelay`, nothing else. */
  readonly socket?: SocketOptions | undefined
  /**
   * Listening sockets on the port (`SO_REUSEPORT`, Linux): node accepts one connection per listening
   * socket and event-loop turn, so under load a single socket leaves new connections waiting in the
   * kernel's queue for seconds while the accepted ones are served. Defaults to `8` where
   * `SO_REUSEPORT` is available (Linux, Node ≥ 22.12), else `1`. With more than one, another process
   * of the same user may listen on the same port (and share its connections) instead of failing.
   */
  readonly acceptors?: number | undefined
  /**
   * Serve TLS with these files (`Tls.server`); plain TCP when absent. A client that does not
   * complete the handshake (plaintext, an untrusted client certificate) is disconnected.
   */
  readonly tls?: Tls.ServerTls | undefined
}

/**
 * Handles one request. Typed errors are not allowed: the handler turns them into responses; a
 * defect becomes a bare 500.
 *
 * @since 0.1.0
 * @category model
 */
export type Handler<R> = (request: HttpRequest) => Effect.Effect<HttpResponse, never, R>

/**
 * A running server.
 *
 * @since 0.1.0
 * @category model
 */
export interface Server {
  /** The address actually bound (the real port when `0` was asked). */
  readonly ip: string
  readonly port: number
  /** Requests being handled. */
  readonly inFlight: () => number
  /** Open connections. */
  readonly connections: () => number
  /** Stops accepting, waits up to `grace` (default: the server's `drainGrace`) for requests in flight, then closes every connection. */
  readonly drain: (grace?: Duration.Input) => Effect.Effect<void>
}

/**
 * The server could not listen (port in use, bad address).
 *
 * @since 0.1.0
 * @category errors
 */
export class ListenError extends Data.TaggedError("ListenError")<{
  readonly ip: string
  readonly port: number
  readonly detail: string
}> {
  override get message(): string {
    return `cannot listen on ${this.ip}:${this.port}: ${this.detail}`
  }
}

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number)
const reusePortSupported = process.platform === "linux" &&
  (major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12))
const defaultAcceptors = reusePortSupported ? 8 : 1

/**
 * Listens and serves until the scope closes (which drains).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <R>(options: Options, handler: Handler<R>): Effect.Effect<Server, ListenError, Scope.Scope | R> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<R>()
    const ip = options.ip ?? "127.0.0.1"
    const port = options.port ?? 4140
    const graceDefault = options.drainGrace ?? Duration.seconds(10)
    const headersTimeout = Duration.toMillis(options.headersTimeout ?? Duration.seconds(10))
    const keepAliveTimeout = Duration.toMillis(options.keepAliveTimeout ?? Duration.seconds(5))
    const connections = new Set<Connection<R>>()
    const shared: Shared<R> = {
      run: Effect.runCallbackWith(context),
      handler,
      maxHeaderBytes: options.maxHeaderBytes ?? 12 * 1024,
      bufferLimit: options.bufferLimit ?? 5 * 1024,
      onClientError: options.onClientError,
      onQueued: options.onQueued,
      state: { draining: false, inFlight: 0, tunnels: 0, onIdle: undefined }
    }
    const state = shared.state

    const sock = options.socket ?? {}
    const onSocket = (accepted: net.Socket) => {
      // plain TCP: the connection takes the socket over and reads it itself (ServerConnection's `adoptSocket`)
      const conn = new Connection(accepted, tlsConfig === undefined, shared, performance.now())
      const socket = conn.socket
      if (sock.idleTimeoutMs !== undefined) {
        socket.setTimeout(sock.idleTimeoutMs)
        socket.on("timeout", () => socket.destroy())
      }
      if (state.draining) {
        socket.destroy()
        return
      }
      connections.add(conn)
      if (socket === accepted) socket.on("data", (chunk: Buffer) => conn.onData(chunk))
      socket.on("drain", () => {
        if (conn.splice !== undefined) return conn.splice.clientDrained()
        const src = conn.responseSource
        if (src !== undefined && src.isPaused()) src.resume()
        else if (conn.awaitingDrain) {
          conn.awaitingDrain = false
          conn.next()
        }
      })
      socket.on("error", ignore)
      socket.on("end", () => conn.ended())
      // "close" comes once: `on` spares the wrapper `once` allocates for every connection
      socket.on("close", () => {
        connections.delete(conn)
        conn.closed()
      })
    }
    const tlsConfig = options.tls
    const listener = (): net.Server => {
      if (tlsConfig === undefined) {
        return net.createServer({
          noDelay: sock.noDelay ?? true,
          keepAlive: sock.keepAlive ?? false,
          allowHalfOpen: true,
          // the connection starts reading once it has taken the socket over
          pauseOnConnect: true
        }, onSocket)
      }
      const secure = tls.createServer(
        {
          ...tlsConfig.options,
          noDelay: sock.noDelay ?? true,
          keepAlive: sock.keepAlive ?? false,
          allowHalfOpen: true,
          handshakeTimeout: headersTimeout
        },
        onSocket
      )
      secure.on("tlsClientError", ignore)
      unsubscribes.push(tlsConfig.onReload((o) => secure.setSecureContext(o)))
      return secure
    }
    const unsubscribes: Array<() => void> = []
    yield* Effect.addFinalizer(() => Effect.sync(() => unsubscribes.forEach((f) => f())))
    const acceptors = options.acceptors ?? defaultAcceptors
    const reusePort = sock.reusePort === true || acceptors > 1
    const listen = (server: net.Server, at: number, reuse: boolean, backlog = sock.backlog ?? 4096) =>
      Effect.callback<void, ListenError>((resume) => {
        const onError = (err: Error) => resume(Effect.fail(new ListenError({ ip, port: at, detail: err.message })))
        server.once("error", onError)
        try {
          server.listen({ host: ip, port: at, backlog, ...(reuse ? { reusePort: true } : {}) }, () => {
            server.off("error", onError)
            server.on("error", ignore)
            resume(Effect.void)
          })
        } catch (err) {
          // a port out of range or of the wrong type throws instead of emitting "error"
          onError(err instanceof Error ? err : new Error(String(err)))
        }
      })
    let at = port
    if (reusePort && sock.reusePort !== true) {
      // the acceptors share the port among themselves only: a port another process listens on (with
      // SO_REUSEPORT or not) is in use, as with one socket
      const probe = net.createServer()
      yield* listen(probe, port, false, 1)
      const address = probe.address()
      if (typeof address === "object" && address !== null) at = address.port
      yield* Effect.callback<void>((resume) => void probe.close(() => resume(Effect.void)))
    }
    const server = listener()
    const servers = [server]
    yield* listen(server, at, reusePort)
    const bound = server.address()
    const boundPort = typeof bound === "object" && bound !== null ? bound.port : port
    // more listening sockets on the same port (SO_REUSEPORT): node accepts one connection per socket
    // and event-loop turn, so a busy loop with one socket leaves new connections queued for seconds
    for (let i = 1; i < acceptors; i++) {
      const more = listener()
      servers.push(more)
      const r = yield* Effect.result(listen(more, boundPort, true))
      if (r._tag === "Failure") {
        servers.pop()
        break
      }
    }

    const tick = Math.max(10, Math.min(1000, Math.floor(Math.min(headersTimeout, keepAliveTimeout) / 4)))
    const timer = setInterval(() => {
      const now = performance.now()
      for (const conn of connections) conn.sweep(now, headersTimeout, keepAliveTimeout)
    }, tick)
    timer.unref()

    const closeIdle = () => {
      for (const conn of connections) {
        if (conn.idle) conn.close()
      }
    }

    /** the drains waiting for the requests in flight (more than one when drain is called again) */
    const drains = new Set<() => void>()
    const onIdle = () => {
      closeIdle()
      for (const finish of Array.from(drains)) finish()
    }

    const drain = (grace?: Duration.Input): Effect.Effect<void> =>
      Effect.callback<void>((resume) => {
        state.draining = true
        for (const s of servers) s.close()
        closeIdle()
        const finish = () => {
          clearTimeout(graceTimer)
          drains.delete(finish)
          clearInterval(timer)
          for (const conn of connections) {
            if (conn.splice !== undefined) conn.splice.close("drain")
            else if (conn.closing) conn.socket.destroySoon()
            else conn.socket.destroy()
          }
          resume(Effect.void)
        }
        const graceTimer = setTimeout(finish, Duration.toMillis(grace ?? graceDefault))
        if (state.inFlight === 0 && state.tunnels === 0) return finish()
        drains.add(finish)
        state.onIdle = onIdle
        return Effect.sync(() => {
          clearTimeout(graceTimer)
          drains.delete(finish)
        })
      })

    yield* Effect.addFinalizer(() => drain())

    const result: Server = {
      ip,
      port: boundPort,
      inFlight: () => state.inFlight,
      connections: () => connections.size,
      drain
    }
    return result
  })
