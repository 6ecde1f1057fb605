/**
 * The HTTP/2 server of an h2 router on `node:http2` (nghttp2): plaintext HTTP/2 with prior knowledge
 * (h2c), or, with `tls`, HTTP/2 over TLS negotiated with ALPN (`h2`), living in a `Scope`, with the
 * same handler shape as the HTTP/1.1 `Server`, so a router's per-server handler serves both. Every
 * stream is one `HttpRequest` (`:method` and `:path` as method and url, `:authority` kept as a header
 * for identifiers, version `2`); the handler's `HttpResponse` is written back with its trailers.
 *
 * - Bodies stream both ways under HTTP/2 flow control: a request body is read only as fast as the
 *   upstream takes it, a response body is piped with backpressure, so a slow reader never makes the
 *   proxy buffer without bound. A request body that ends with its headers' read (up to
 *   `bufferLimit`) is buffered, which makes it retryable (see `Frames.readEarly`).
 * - Cancellation: a client's `RST_STREAM` (or a connection that goes away) interrupts the handler and
 *   destroys the response body being relayed, which resets the upstream stream; an upstream reset
 *   while relaying resets the client's stream with the same code.
 * - gRPC: `grpc-timeout` becomes the call's deadline (`Deadline.Current`, so it travels on as
 *   `l5d-ctx-deadline` and a fresh `grpc-timeout`); when it passes, the call answers
 *   `DEADLINE_EXCEEDED` (trailers-only if nothing was sent yet, else in the trailers, the upstream
 *   stream reset). A router error answering a gRPC call is turned into a trailers-only response
 *   with its gRPC status (`Grpc.fromRouterError`), `l5d-err` kept.
 * - Limits: `maxConcurrentStreamsPerConnection` (streams beyond are refused with `REFUSED_STREAM`),
 *   `maxHeaderListBytes` (a larger header list is answered 431, or `RESOURCE_EXHAUSTED` for a gRPC
 *   call, with `l5d-err`); other streams on the connection carry on.
 * - TLS (`tls`, the same `Tls.ServerTls` as HTTP/1.1's, reloaded on `SIGHUP`): the server offers
 *   only `h2` in ALPN. A client that does not negotiate it (`http/1.1` only: the handshake fails
 *   with `no_application_protocol`; no ALPN at all: closed after the handshake) is logged as a
 *   warning and its connection closed, as linkerd does: HTTP/1.1 is never served on an h2
 *   router's port. A client that does not finish the handshake within 10 seconds is disconnected.
 * - Drain: stop accepting, send `GOAWAY` on every connection, let the streams in flight finish
 *   within the grace, then close what is left.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as http2 from "node:http2"
import type * as net from "node:net"
import type * as NodeTls from "node:tls"
import * as Deadline from "../../resilience/Deadline.js"
import * as Errors from "../Errors.js"
import type { HttpRequest, HttpResponse } from "../transport/Message.js"
import { empty, header } from "../transport/Message.js"
import type { Handler, Server } from "../transport/Server.js"
import { ListenError } from "../transport/Server.js"
import type * as Tls from "../transport/Tls.js"
import * as Frames from "./Frames.js"
import * as Grpc from "./Grpc.js"
import * as Settings from "./Settings.js"

/**
 * h2 server settings: where to listen, the HTTP/2 keys, and the drain grace.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options extends Settings.H2Settings {
  /** Address to listen on. Defaults to `127.0.0.1`. */
  readonly ip?: string | undefined
  /** Port; `0` picks a free one. Defaults to `4142`. */
  readonly port?: number | undefined
  /**
   * Request bodies that end with their headers' read, up to this many bytes, are buffered (and so
   * retryable). Defaults to 16 KiB (linkerd's `retryBufferSize.requestBytes`).
   */
  readonly bufferLimit?: number | undefined
  /** How long a drain waits for streams in flight. Defaults to 10 seconds. */
  readonly drainGrace?: Duration.Input | undefined
  /** Called for every stream refused before the handler (with its RST_STREAM code name). */
  readonly onClientError?: ((status: number, code: string) => void) | undefined
  /**
   * Serve HTTP/2 over TLS with these files (`Tls.server`), ALPN `h2` only; plaintext h2c when
   * absent.
   */
  readonly tls?: Tls.ServerTls | undefined
}

const { NGHTTP2_CANCEL, NGHTTP2_INTERNAL_ERROR } = http2.constants

const ignore = () => {}

// respond's options, shared (node copies them)
const endsStream = { endStream: true }
const withTrailers = { waitForTrailers: true }
const withoutTrailers = { waitForTrailers: false }

const maxTimerMs = 2 ** 31 - 1

/** How long a TLS client may take to finish its handshake. */
const handshakeTimeoutMs = 10_000

/** The message of a router error: its `l5d-err`, else its body. */
const errorMessage = (response: HttpResponse): string => {
  const err = header(response.headers, "l5d-err")
  if (err !== undefined) return Errors.decodeErr(err)
  return response.body._tag === "Buffered" ? response.body.data.toString("utf8") : `HTTP ${response.status}`
}

/**
 * Listens and serves until the scope closes (which drains).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <R>(options: Options, handler: Handler<R>): Effect.Effect<Server, ListenError, Scope.Scope | R> =>
  Effect.gen(function*() {
    const context = yield* Effect.context<R>()
    const run = Effect.runCallbackWith(context)
    const runFork = Effect.runForkWith(context)
    const ip = options.ip ?? "127.0.0.1"
    const port = options.port ?? 4142
    const bufferLimit = options.bufferLimit ?? 16 * 1024
    const maxHeaderListBytes = options.maxHeaderListBytes ?? Settings.defaultMaxHeaderListBytes
    const graceDefault = options.drainGrace ?? Duration.seconds(10)
    const sessions = new Set<http2.ServerHttp2Session>()
    // each connection's peer address, read once (not through the session's socket proxy per stream)
    const remotes = new WeakMap<http2.Http2Session, string | undefined>()
    let inFlight = 0
    let draining = false
    let onIdle: (() => void) | undefined
    let boundPort = port

    const common = {
      settings: Settings.toNode(options, true),
      maxSessionMemory: 64,
      maxHeaderListPairs: 512
    }
    const tlsConfig = options.tls
    const server: http2.Http2Server | http2.Http2SecureServer = tlsConfig === undefined
      ? http2.createServer(common)
      : http2.createSecureServer({
        ...tlsConfig.options,
        ...common,
        ALPNProtocols: ["h2"],
        allowHTTP1: false,
        handshakeTimeout: handshakeTimeoutMs
      })
    if (tlsConfig !== undefined) {
      const secure = server as http2.Http2SecureServer
      const refuse = (socket: { remoteAddress?: string | undefined; remotePort?: number | undefined }, what: string) =>
        run(Effect.logWarning(
          `h2 server ${ip}:${boundPort}: closed a TLS connection from ${socket.remoteAddress}:${socket.remotePort} ` +
            `that ${what}; an h2 router serves only HTTP/2 (ALPN h2)`
        ))
      // a client that offered ALPN protocols but not h2 fails the handshake (no_application_protocol)
      secure.on("tlsClientError", (err: NodeJS.ErrnoException, socket: NodeTls.TLSSocket) => {
        if (err.code === "ERR_SSL_NO_APPLICATION_PROTOCOL") refuse(socket, "offered no h2 in ALPN")
      })
      // a client that offered no ALPN at all completes the handshake: closed here
      secure.on("unknownProtocol", (socket: NodeTls.TLSSocket) => {
        socket.destroy()
        refuse(socket, "negotiated no ALPN protocol")
      })
      const unsubscribe = tlsConfig.onReload((o) => secure.setSecureContext(o))
      yield* Effect.addFinalizer(() => Effect.sync(unsubscribe))
    }
    // frames go out as soon as they are written (no Nagle delay on small header and DATA frames)
    server.on("connection", (socket: net.Socket) => socket.setNoDelay(true))
    server.on("session", (session) => {
      if (draining) {
        session.destroy()
        return
      }
      sessions.add(session)
      const socket = session.socket
      remotes.set(
        session,
        socket?.remoteAddress === undefined ? undefined : `${socket.remoteAddress}:${socket.remotePort}`
      )
      Settings.applyConnectionWindow(session, options)
      session.on("error", ignore)
      session.once("close", () => sessions.delete(session))
    })
    server.on("sessionError", ignore)

    const serve = (
      stream: http2.ServerHttp2Stream,
      block: http2.IncomingHttpHeaders,
      _flags: number,
      raw: Array<string>
    ) => {
      stream.on("error", ignore)
      inFlight++
      // one close listener for the stream (a stream closes once, also when it was reset or refused
      // here): the count, then the handler's cleanup
      let onClose: (() => void) | undefined
      stream.on("close", () => {
        inFlight--
        if (inFlight === 0 && onIdle !== undefined) onIdle()
        onClose?.()
      })
      if (Frames.rawListBytes(raw) > maxHeaderListBytes) {
        options.onClientError?.(431, "header list too large")
        const message = `request header list exceeds maxHeaderListBytes (${maxHeaderListBytes})`
        const grpc = Grpc.isGrpc({ headers: Frames.fromRaw(raw, block) })
        try {
          stream.respond(
            grpc
              ? Frames.toNode(
                Grpc.trailersOnly(Grpc.Status.RESOURCE_EXHAUSTED, message, { "l5d-err": Errors.encodeErr(message) })
                  .headers,
                { ":status": 200 }
              )
              : { ":status": 431, "l5d-err": Errors.encodeErr(message) },
            { endStream: true }
          )
        } catch {
          stream.close(NGHTTP2_INTERNAL_ERROR)
        }
        stream.resume()
        return
      }
      const method = String(block[":method"] ?? "GET")
      const url = String(block[":path"] ?? "/")
      const headers = Frames.fromRaw(raw, block, true)
      if (headers[":authority"] === undefined && block["host"] !== undefined) {
        headers[":authority"] = String(block["host"])
      }
      const session = stream.session
      const remote = session === undefined ? undefined : remotes.get(session)
      if (stream.endAfterHeaders) {
        // no body (every GET): served at once, without a callback to wait for it
        stream.resume()
        if (stream.destroyed) return
        onClose = handle(stream, {
          method,
          url,
          version: "2",
          headers,
          body: empty,
          remote,
          trailers: Frames.noTrailers
        })
        return
      }
      Frames.readEarly(stream, false, bufferLimit, (read) => {
        if (read === "reset" || stream.destroyed) return
        const request: HttpRequest = {
          method,
          url,
          version: "2",
          headers,
          body: read.body,
          remote,
          trailers: read.trailers
        }
        onClose = handle(stream, request)
      })
    }

    /** Runs the handler for one stream; returns what to do when the stream closes. */
    const handle = (stream: http2.ServerHttp2Stream, request: HttpRequest): () => void => {
      const grpc = Grpc.isGrpc(request)
      const timeoutMs = grpc ? Grpc.timeoutOf(request) : undefined
      let response: HttpResponse | undefined
      let deadlineTrailers: Record<string, string> | undefined
      let timer: ReturnType<typeof setTimeout> | undefined
      let relayed: { readonly detach: () => void } | undefined
      let effect = handler(request)
      if (timeoutMs !== undefined) {
        delete request.headers["grpc-timeout"]
        effect = Deadline.withDeadline(effect, Deadline.ofTimeout(Date.now(), Duration.millis(timeoutMs)))
      }
      let exited = false
      let timedOut = false
      // the fiber itself is the interruptor (no options object and interruptor closure per stream)
      const fiber = runFork(effect)
      fiber.addObserver((exit) => {
        exited = true
        if (stream.destroyed || stream.closed) {
          if (exit._tag === "Success" && exit.value.body._tag === "Stream") exit.value.body.stream.destroy()
          return
        }
        if (exit._tag === "Success") respond(exit.value)
        else if (Cause.hasInterruptsOnly(exit.cause)) {
          if (!timedOut) stream.close(NGHTTP2_CANCEL)
        } else {
          respond(
            grpc
              ? Grpc.trailersOnly(Grpc.Status.INTERNAL, "Internal error", { "l5d-err": "Internal+error" })
              : { status: 500, headers: { "l5d-err": "Internal+error" }, body: { _tag: "Empty" } }
          )
        }
      })
      const onClose = () => {
        if (timer !== undefined) clearTimeout(timer)
        if (!exited) fiber.interruptUnsafe()
        const body = response?.body
        if (body !== undefined && body._tag === "Stream" && !body.stream.readableEnded) body.stream.destroy()
      }
      // a reset stream closes at once, unless the handler still has a request body to read (the stream
      // then closes only once it is read): then the reset itself cancels
      if (request.body._tag === "Stream") stream.on("aborted", onClose)

      // a timer cannot wait longer than 2^31 - 1 ms (it would fire at once); such a deadline still travels on
      if (timeoutMs !== undefined && timeoutMs <= maxTimerMs) {
        timer = setTimeout(() => {
          const message = `exceeded grpc-timeout ${Grpc.encodeTimeout(timeoutMs)} to ${request.url}`
          const err = Errors.encodeErr(message)
          timedOut = true
          if (response === undefined) {
            if (!exited) fiber.interruptUnsafe()
            if (!stream.headersSent && !stream.destroyed) {
              respond(Grpc.trailersOnly(Grpc.Status.DEADLINE_EXCEEDED, message, { "l5d-err": err }))
            }
            return
          }
          // headers are out: the rest of the body is dropped and the status goes in the trailers
          deadlineTrailers = {
            "grpc-status": String(Grpc.Status.DEADLINE_EXCEEDED),
            "grpc-message": Grpc.encodeMessage(message),
            "l5d-err": err
          }
          relayed?.detach()
          const body = response.body
          if (body._tag === "Stream") body.stream.destroy()
          if (!stream.writableEnded) stream.end()
        }, timeoutMs)
      }

      const respond = (answer: HttpResponse) => {
        const r = grpc && Errors.isRouterError(answer) ? Grpc.fromRouterError(answer, errorMessage(answer)) : answer
        response = r
        const body = r.body
        const status = r.status >= 200 && r.status <= 599 && r.status % 1 === 0 ? r.status : 502
        const headers = Frames.respondTakesRaw
          ? Frames.toRaw(r.headers, [":status", String(status)])
          : Frames.toNode(r.headers, { ":status": status })
        if (body._tag === "Empty" && r.trailers?.current() === undefined) {
          // no body and nothing after it: one header block that ends the stream (a trailers-only answer)
          try {
            stream.respond(headers, endsStream)
          } catch {
            // the client went away meanwhile
          }
          return
        }
        // a streamed body's trailers come at its end; a read body's are known by now (an h2 peer's
        // trailers arrive before the end of its body), so a response without any ends with its DATA
        const waitForTrailers = grpc ||
          (body._tag === "Stream" ? r.trailers !== undefined : r.trailers?.current() !== undefined)
        try {
          stream.respond(headers, waitForTrailers ? withTrailers : withoutTrailers)
        } catch {
          if (body._tag === "Stream") body.stream.destroy()
          stream.close(NGHTTP2_INTERNAL_ERROR)
          return
        }
        if (waitForTrailers) {
          stream.once("wantTrailers", () => {
            const t = deadlineTrailers ?? r.trailers?.current()
            const block = t === undefined ? {} : Frames.toNode(t)
            try {
              stream.sendTrailers(block)
            } catch {
              stream.close()
            }
          })
        }
        if (body._tag === "Empty") stream.end()
        else if (body._tag === "Buffered") {
          // the end goes after the write has completed: ending with the data would close the stream
          // before node's write callback, which then builds an ERR_STREAM_DESTROYED (a stack trace
          // per response) that nothing reads
          stream.write(body.data, () => {
            if (!stream.writableEnded) stream.end()
          })
        } else relayed = Frames.relay(body.stream, stream)
      }
      return onClose
    }

    server.on("stream", serve)

    yield* Effect.callback<void, ListenError>((resume) => {
      const onError = (err: Error) => resume(Effect.fail(new ListenError({ ip, port, detail: err.message })))
      server.once("error", onError)
      try {
        server.listen({ host: ip, port, backlog: 4096 }, () => {
          server.off("error", onError)
          resume(Effect.void)
        })
      } catch (err) {
        onError(err instanceof Error ? err : new Error(String(err)))
      }
    })
    server.on("error", ignore)
    const bound = server.address()
    boundPort = typeof bound === "object" && bound !== null ? bound.port : port

    const drains = new Set<() => void>()
    const drain = (grace?: Duration.Input): Effect.Effect<void> =>
      Effect.callback<void>((resume) => {
        draining = true
        server.close()
        // a graceful close: GOAWAY now, the session closes once its streams are done
        for (const s of sessions) s.close()
        const finish = () => {
          clearTimeout(graceTimer)
          drains.delete(finish)
          for (const s of sessions) s.destroy()
          resume(Effect.void)
        }
        const graceTimer = setTimeout(finish, Duration.toMillis(Duration.fromInputUnsafe(grace ?? graceDefault)))
        if (inFlight === 0) return finish()
        drains.add(finish)
        onIdle = () => {
          for (const f of Array.from(drains)) f()
        }
        return Effect.sync(() => {
          clearTimeout(graceTimer)
          drains.delete(finish)
        })
      })

    yield* Effect.addFinalizer(() => drain())

    const result: Server = {
      ip,
      port: boundPort,
      inFlight: () => inFlight,
      connections: () => sessions.size,
      drain
    }
    return result
  })
