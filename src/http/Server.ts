/**
 * The HTTP/1.1 server of a router: a `node:http` server living in a `Scope`, whose handler is an
 * Effect. It keeps connections alive, answers `Expect: 100-continue` itself, protects itself from
 * slow clients (a headers timeout) and from malformed requests (400 for a bad request line, 431 for
 * oversized headers) while serving everyone else, and drains gracefully: stop accepting, let the
 * requests in flight finish within a grace period, then close what is left.
 *
 * Small request bodies (a `Content-Length` up to `bufferLimit`) are read whole before the handler
 * runs, so the request can be retried; larger or chunked ones stream.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import type { Socket } from "node:net"
import type { Body, Headers, HttpRequest, HttpResponse } from "./Message.js"
import { buffered, empty, fromRawHeaders, streamed } from "./Message.js"

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
  /** Called for every request the server rejected before the handler (400, 408, 431). */
  readonly onClientError?: ((status: number, code: string) => void) | undefined
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

const clientErrorStatus = (code: string | undefined): number =>
  code === "HPE_HEADER_OVERFLOW" ? 431 : code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400

const reasonPhrase = (status: number): string => http.STATUS_CODES[status] ?? "Error"

/** Reads the framing from the headers already copied (touching `req.headers` would build node's copy too). */
const readBody = (req: http.IncomingMessage, headers: Headers, limit: number): Body | "buffer" => {
  const te = headers["transfer-encoding"]
  const cl = headers["content-length"]
  if (te === undefined) {
    if (cl === undefined) return empty
    const n = Number(typeof cl === "string" ? cl : cl[0])
    if (n === 0) return empty
    if (n <= limit) return "buffer"
    return streamed(req, n)
  }
  return streamed(req)
}

const writeResponse = (
  request: HttpRequest,
  res: http.ServerResponse,
  response: HttpResponse,
  draining: boolean
): void => {
  if (res.headersSent || res.destroyed) return
  const headers = response.headers
  if (draining) headers["connection"] = "close"
  const body = response.body
  if (body._tag === "Buffered" && headers["content-length"] === undefined && request.method !== "HEAD") {
    headers["content-length"] = String(body.data.length)
  }
  try {
    res.writeHead(response.status, headers as http.OutgoingHttpHeaders)
  } catch (err) {
    res.writeHead(502, { "content-type": "text/plain", "l5d-err": "Invalid+response+headers" })
    res.end(String(err))
    if (body._tag === "Stream") body.stream.destroy()
    return
  }
  switch (body._tag) {
    case "Empty":
      res.end()
      return
    case "Buffered":
      res.end(body.data)
      return
    case "Stream": {
      const src = body.stream
      src.on("error", () => res.destroy())
      res.on("close", () => {
        if (!src.readableEnded) src.destroy()
      })
      src.pipe(res)
    }
  }
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
    const ip = options.ip ?? "127.0.0.1"
    const port = options.port ?? 4140
    const bufferLimit = options.bufferLimit ?? 5 * 1024
    const graceDefault = options.drainGrace ?? Duration.seconds(10)
    const sockets = new Set<Socket>()
    let inFlight = 0
    let draining = false
    let onIdle: (() => void) | undefined

    const finished = () => {
      inFlight--
      if (inFlight === 0 && onIdle !== undefined) onIdle()
    }

    const serve = (req: http.IncomingMessage, res: http.ServerResponse) => {
      inFlight++
      let interrupt: (() => void) | undefined
      res.once("close", () => {
        finished()
        if (interrupt !== undefined && !res.writableFinished) interrupt()
      })
      const headers = fromRawHeaders(req.rawHeaders)
      const start = (body: Body) => {
        const request: HttpRequest = {
          method: req.method ?? "GET",
          url: req.url ?? "/",
          version: req.httpVersion === "1.0" ? "1.0" : "1.1",
          headers,
          body,
          remote: `${req.socket.remoteAddress}:${req.socket.remotePort}`
        }
        const cancel = run(handler(request), {
          onExit: (exit) => {
            if (exit._tag === "Success") writeResponse(request, res, exit.value, draining)
            else if (!res.headersSent && !res.destroyed) {
              if (!Cause.hasInterruptsOnly(exit.cause)) {
                res.writeHead(500, { "content-type": "text/plain", "l5d-err": "Internal+error" })
                res.end(Cause.pretty(exit.cause))
              } else res.destroy()
            }
          }
        })
        interrupt = cancel
      }
      const body = readBody(req, headers, bufferLimit)
      if (body !== "buffer") return start(body)
      const chunks: Array<Buffer> = []
      req.on("data", (c: Buffer) => chunks.push(c))
      req.on("end", () => start(buffered(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))))
      req.on("error", () => res.destroy())
    }

    const server = http.createServer({
      maxHeaderSize: options.maxHeaderBytes ?? 12 * 1024,
      headersTimeout: Duration.toMillis(options.headersTimeout ?? Duration.seconds(10)),
      requestTimeout: 0,
      keepAliveTimeout: Duration.toMillis(options.keepAliveTimeout ?? Duration.seconds(5)),
      connectionsCheckingInterval: 1000,
      noDelay: true
    }, serve)
    server.on("checkContinue", (req, res) => {
      res.writeContinue()
      serve(req, res)
    })
    server.on("connection", (socket: Socket) => {
      sockets.add(socket)
      socket.once("close", () => sockets.delete(socket))
    })
    server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
      const status = clientErrorStatus(err.code)
      options.onClientError?.(status, err.code ?? "unknown")
      if (socket.writable && !(socket as any)._httpMessage?.headersSent) {
        socket.end(`HTTP/1.1 ${status} ${reasonPhrase(status)}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
      } else socket.destroy()
    })

    yield* Effect.callback<void, ListenError>((resume) => {
      const onError = (err: Error) => resume(Effect.fail(new ListenError({ ip, port, detail: err.message })))
      server.once("error", onError)
      server.listen({ host: ip, port }, () => {
        server.off("error", onError)
        resume(Effect.void)
      })
    })
    const bound = server.address()
    const boundPort = typeof bound === "object" && bound !== null ? bound.port : port

    const drain = (grace?: Duration.Input): Effect.Effect<void> =>
      Effect.callback<void>((resume) => {
        draining = true
        server.close()
        server.closeIdleConnections()
        const finish = () => {
          clearTimeout(timer)
          onIdle = undefined
          server.closeAllConnections()
          for (const s of sockets) s.destroy()
          resume(Effect.void)
        }
        const timer = setTimeout(finish, Duration.toMillis(grace ?? graceDefault))
        if (inFlight === 0) finish()
        else {
          onIdle = () => {
            server.closeIdleConnections()
            finish()
          }
        }
      })

    yield* Effect.addFinalizer(() => drain())

    const result: Server = {
      ip,
      port: boundPort,
      inFlight: () => inFlight,
      connections: () => sockets.size,
      drain
    }
    return result
  })
