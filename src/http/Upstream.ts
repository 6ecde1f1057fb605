/**
 * The upstream side of the data path: one `Service<HttpRequest, HttpResponse, ConnectionFailed>` per
 * address, over a pool of keep-alive connections (node's `http.Agent`). Bodies stream both ways
 * with node's backpressure, so memory stays bounded whatever their size. Effect's own HTTP client
 * halves proxy throughput (see docs/benchmarks.md), so this module drives `node:http` directly and
 * only its surface is Effect-typed.
 *
 * A connection that could not be made (refused, unreachable, connect timeout) fails with
 * `ConnectionFailed` and `written: false`, which makes it requeueable; a failure after the request
 * was handed to a connected socket has `written: true`.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import type { Socket } from "node:net"
import type { Address } from "../Address.js"
import { key as addressKey } from "../Address.js"
import { ConnectionFailed } from "../Failure.js"
import type { Service } from "../Service.js"
import type { Body, HttpRequest, HttpResponse } from "./Message.js"
import { empty, fromRawHeaders, streamed } from "./Message.js"

/**
 * Pool and connection settings for one address.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** Most connections open to the address at once; further requests wait. Defaults to unlimited. */
  readonly maxConnections?: number | undefined
  /** Most idle connections kept for reuse. Defaults to `256`. */
  readonly maxIdleConnections?: number | undefined
  /** How long an idle connection is kept. Defaults to 60 seconds. */
  readonly idleTimeout?: Duration.Input | undefined
  /** How long a connect may take. Defaults to 10 seconds. */
  readonly connectTimeout?: Duration.Input | undefined
}

/**
 * Connection counters for stats (`connects`, `connections`).
 *
 * @since 0.1.0
 * @category model
 */
export interface Upstream extends Service<HttpRequest, HttpResponse, ConnectionFailed> {
  readonly address: Address
  /** Connections currently open. */
  readonly connections: () => number
  /** Connections opened so far. */
  readonly connects: () => number
}

const connectCodes = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EADDRNOTAVAIL",
  "ETIMEDOUT"
])

const reasonOf = (code: string | undefined): ConnectionFailed["reason"] => {
  switch (code) {
    case "ECONNREFUSED":
      return "refused"
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EADDRNOTAVAIL":
      return "unreachable"
    case "ETIMEDOUT":
    case "ConnectTimeout":
      return "timeout"
    case "ECONNRESET":
    case "EPIPE":
      return "reset"
    case "HPE_INVALID_CONSTANT":
    case "HPE_INVALID_STATUS":
    case "HPE_INVALID_HEADER_TOKEN":
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
      return "protocol"
    default:
      return "closed"
  }
}

const hasNoBody = (method: string, status: number, headers: http.IncomingHttpHeaders): boolean =>
  method === "HEAD" || status === 204 || status === 304 || (status >= 100 && status < 200) ||
  headers["content-length"] === "0"

const sendBody = (body: Body, req: http.ClientRequest): void => {
  switch (body._tag) {
    case "Empty":
      req.end()
      return
    case "Buffered":
      req.end(body.data)
      return
    case "Stream": {
      const src = body.stream
      src.on("error", (err) => req.destroy(err))
      req.on("error", () => src.destroy())
      src.pipe(req)
    }
  }
}

/**
 * A pooled client for one address, closed (every connection destroyed) with its scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (address: Address, options?: Options): Effect.Effect<Upstream, never, Scope.Scope> =>
  Effect.gen(function*() {
    const key = addressKey(address)
    const idleMs = Duration.toMillis(options?.idleTimeout ?? Duration.seconds(60))
    const connectMs = Duration.toMillis(options?.connectTimeout ?? Duration.seconds(10))
    const agent = new http.Agent({
      keepAlive: true,
      maxSockets: options?.maxConnections ?? Infinity,
      maxFreeSockets: options?.maxIdleConnections ?? 256,
      scheduling: "lifo",
      timeout: idleMs
    })
    let connections = 0
    let connects = 0
    let closed = false
    agent.on("free", (socket: Socket) => socket.setTimeout(idleMs))
    const onSocket = (socket: Socket) => {
      if ((socket as any).__weirCounted === true) return
      ;(socket as any).__weirCounted = true
      connects++
      connections++
      socket.once("close", () => connections--)
    }
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        agent.destroy()
      })
    )
    const fail = (reason: ConnectionFailed["reason"], written: boolean, detail?: string) =>
      new ConnectionFailed({ address: key, reason, written, detail })
    const call = (request: HttpRequest): Effect.Effect<HttpResponse, ConnectionFailed> =>
      Effect.callback<HttpResponse, ConnectionFailed>((resume) => {
        if (closed) {
          resume(Effect.fail(fail("closed", false, "client closed")))
          return
        }
        let connected = false
        let settled = false
        let connectTimer: ReturnType<typeof setTimeout> | undefined
        const creq = http.request({
          host: address.host,
          port: address.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
          agent,
          setHost: false
        })
        creq.on("socket", (socket: Socket) => {
          onSocket(socket)
          if (!socket.connecting) {
            connected = true
            return
          }
          connectTimer = setTimeout(() => {
            if (!connected && !settled) creq.destroy(Object.assign(new Error("connect timeout"), { code: "ConnectTimeout" }))
          }, connectMs)
          socket.once("connect", () => {
            connected = true
            if (connectTimer !== undefined) clearTimeout(connectTimer)
          })
        })
        creq.on("response", (res) => {
          settled = true
          if (connectTimer !== undefined) clearTimeout(connectTimer)
          const status = res.statusCode ?? 502
          const headers = fromRawHeaders(res.rawHeaders)
          if (hasNoBody(request.method, status, res.headers)) {
            res.resume()
            resume(Effect.succeed({ status, headers, body: empty }))
          } else {
            const cl = res.headers["content-length"]
            resume(Effect.succeed({ status, headers, body: streamed(res, cl === undefined ? undefined : Number(cl)) }))
          }
        })
        creq.on("error", (err: NodeJS.ErrnoException) => {
          if (connectTimer !== undefined) clearTimeout(connectTimer)
          if (settled) return
          settled = true
          const code = err.code
          const beforeConnect = !connected || (code !== undefined && connectCodes.has(code) && !connected)
          resume(Effect.fail(fail(reasonOf(code), !beforeConnect, err.message)))
        })
        sendBody(request.body, creq)
        return Effect.sync(() => {
          if (connectTimer !== undefined) clearTimeout(connectTimer)
          if (!settled) {
            settled = true
            creq.destroy()
          }
        })
      })
    const upstream: Upstream = {
      address,
      call,
      get status() {
        return closed ? "Closed" : "Open"
      },
      connections: () => connections,
      connects: () => connects
    }
    return upstream
  })
