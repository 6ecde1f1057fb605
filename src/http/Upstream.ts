/**
 * The upstream side of the data path: one `Service<HttpRequest, HttpResponse, ConnectionFailed>` per
 * address, over a pool of keep-alive connections. Bodies stream both ways with backpressure (a
 * response body is a `Readable` that pauses the connection while its reader is behind), so memory
 * stays bounded whatever their size.
 *
 * It drives undici's `Pool.dispatch` directly: Effect's HTTP client halves proxy throughput, and on
 * loopback undici's dispatcher carries about 1.5× the requests per second of `node:http`'s client
 * (see docs/benchmarks.md). Only the surface is Effect-typed.
 *
 * A connection that could not be made (refused, unreachable, connect timeout) fails with
 * `ConnectionFailed` and `written: false`, which makes it requeueable; a failure after the request
 * was handed to a connection has `written: true`.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { Readable } from "node:stream"
import { Pool } from "undici"
import type { Dispatcher } from "undici"
import type { Address } from "../Address.js"
import { key as addressKey } from "../Address.js"
import { ConnectionFailed } from "../Failure.js"
import type { Service } from "../Service.js"
import type { Body, Headers, HttpRequest, HttpResponse } from "./Message.js"
import { empty } from "./Message.js"

/**
 * Pool and connection settings for one address.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** Most connections open to the address at once; further requests queue. Defaults to unlimited. */
  readonly maxConnections?: number | undefined
  /** How long an idle connection is kept (the server's keep-alive hint may shorten it). Defaults to 60 seconds. */
  readonly idleTimeout?: Duration.Input | undefined
  /** How long a connect may take. Defaults to 10 seconds. */
  readonly connectTimeout?: Duration.Input | undefined
  /**
   * Response bodies with a `Content-Length` up to this many bytes are read whole before the
   * response is returned (one write downstream, and a retry can discard them). Defaults to 16 KiB.
   */
  readonly bufferLimit?: number | undefined
}

/**
 * A pooled client for one address, with connection counters for stats.
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
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return "timeout"
    case "ECONNRESET":
    case "EPIPE":
      return "reset"
    case "HPE_INVALID_CONSTANT":
    case "HPE_INVALID_STATUS":
    case "HPE_INVALID_HEADER_TOKEN":
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
    case "UND_ERR_INVALID_ARG":
    case "UND_ERR_RES_CONTENT_LENGTH_MISMATCH":
    case "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH":
      return "protocol"
    default:
      return "closed"
  }
}

const notConnected = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_DESTROYED",
  "UND_ERR_CLOSED"
])

/** Headers undici refuses to send (it manages the connection itself). */
const refused = ["connection", "keep-alive", "transfer-encoding", "upgrade", "expect", "te", "trailer"]

const sanitize = (headers: Headers): Headers => {
  let out: Headers | undefined
  for (const name of refused) {
    if (headers[name] !== undefined) {
      if (out === undefined) out = { ...headers }
      delete out[name]
    }
  }
  return out ?? headers
}

const bodyOf = (body: Body): Buffer | Readable | null =>
  body._tag === "Empty" ? null : body._tag === "Buffered" ? body.data : body.stream

/**
 * One request's exchange with undici's dispatcher: a single object per request (its methods are the
 * dispatch handler), rather than a handler of closures.
 */
class Exchange implements Dispatcher.DispatchHandler {
  controller: Dispatcher.DispatchController | undefined = undefined
  settled = false
  stream: Readable | undefined = undefined
  chunks: Array<Buffer> | undefined = undefined
  bufferedStatus = 0
  responseHeaders: Headers | undefined = undefined
  /** Aborts the exchange if it is still waiting for a response (the fiber was interrupted). */
  readonly cancel: Effect.Effect<void>

  constructor(
    readonly method: string,
    readonly key: string,
    readonly bufferLimit: number,
    readonly resume: (effect: Effect.Effect<HttpResponse, ConnectionFailed>) => void
  ) {
    this.cancel = Effect.sync(() => {
      if (!this.settled) {
        this.settled = true
        this.controller?.abort(new Error("request interrupted"))
      }
    })
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.controller = c
  }

  onResponseStart(
    c: Dispatcher.DispatchController,
    code: number,
    headers: Record<string, string | Array<string> | undefined>
  ): void {
    if (code < 200) return
    const status = code
    if (this.method === "HEAD" || status === 204 || status === 304) {
      this.settled = true
      this.resume(Effect.succeed({ status, headers: headers as Headers, body: empty }))
      return
    }
    const cl = headers["content-length"]
    const length = typeof cl === "string" ? Number(cl) : undefined
    if (length !== undefined && length <= this.bufferLimit) {
      this.chunks = []
      this.bufferedStatus = code
      this.responseHeaders = headers as Headers
      return
    }
    this.settled = true
    const stream = new Readable({
      read: () => c.resume(),
      destroy: (err, cb) => {
        if (!c.aborted) c.abort(err ?? new Error("response body discarded"))
        cb(null)
      }
    })
    this.stream = stream
    this.resume(Effect.succeed({
      status,
      headers: headers as Headers,
      body: { _tag: "Stream", stream, length }
    }))
  }

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.chunks !== undefined) this.chunks.push(chunk)
    else if (this.stream !== undefined && !this.stream.push(chunk)) c.pause()
  }

  onResponseEnd(): void {
    const chunks = this.chunks
    if (chunks !== undefined) {
      this.settled = true
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
      this.chunks = undefined
      const headers = this.responseHeaders!
      this.responseHeaders = undefined
      this.resume(Effect.succeed({ status: this.bufferedStatus, headers, body: { _tag: "Buffered", data } }))
    } else if (!this.settled) {
      this.settled = true
      this.resume(Effect.succeed({ status: 502, headers: {}, body: empty }))
    } else this.stream?.push(null)
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.settled) {
      if (this.stream !== undefined && !this.stream.destroyed) this.stream.destroy(err)
      return
    }
    this.settled = true
    const code = (err as NodeJS.ErrnoException).code
    const written = !(code !== undefined && notConnected.has(code))
    this.resume(Effect.fail(
      new ConnectionFailed({ address: this.key, reason: reasonOf(code), written, detail: err.message })
    ))
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
    const pool = new Pool(`http://${key}`, {
      connections: options?.maxConnections ?? null,
      pipelining: 1,
      keepAliveTimeout: Duration.toMillis(options?.idleTimeout ?? Duration.seconds(60)),
      keepAliveMaxTimeout: Duration.toMillis(options?.idleTimeout ?? Duration.seconds(60)),
      connectTimeout: Duration.toMillis(options?.connectTimeout ?? Duration.seconds(10)),
      headersTimeout: 0,
      bodyTimeout: 0
    })
    const bufferLimit = options?.bufferLimit ?? 16 * 1024
    let connects = 0
    let closed = false
    pool.on("connect", () => {
      connects++
    })
    yield* Effect.addFinalizer(() =>
      Effect.promise(() => {
        closed = true
        return pool.destroy().catch(() => undefined)
      })
    )

    const call = (request: HttpRequest): Effect.Effect<HttpResponse, ConnectionFailed> =>
      Effect.callback<HttpResponse, ConnectionFailed>((resume) => {
        if (closed) {
          resume(Effect.fail(new ConnectionFailed({ address: key, reason: "closed", written: false })))
          return
        }
        const exchange = new Exchange(request.method, key, bufferLimit, resume)
        try {
          pool.dispatch({
            path: request.url,
            method: request.method as Dispatcher.HttpMethod,
            headers: sanitize(request.headers),
            body: bodyOf(request.body)
          }, exchange)
        } catch (err) {
          exchange.settled = true
          resume(Effect.fail(
            new ConnectionFailed({ address: key, reason: "protocol", written: false, detail: String(err) })
          ))
        }
        return exchange.cancel
      })

    const upstream: Upstream = {
      address,
      call,
      get status() {
        return closed ? "Closed" : "Open"
      },
      connections: () => pool.stats.connected,
      connects: () => connects
    }
    return upstream
  })
