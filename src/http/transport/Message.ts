/**
 * The HTTP/1.1 request and response model of weir's data path. Headers are a plain object keyed by
 * lower-case name (a repeated header keeps every value in an array, in arrival order); bodies are
 * either absent, fully buffered, or a node `Readable` that streams. Only a request whose body is
 * absent or was buffered whole can be sent twice, so `isReplayable` is what retry filters and
 * response classifiers consult (linkerd: chunked requests are not retryable).
 *
 * @since 0.1.0
 */
import type { Readable } from "node:stream"
import type { Upgraded } from "./Tunnel.js"

/**
 * Header values by lower-case name. A single value is a string; a repeated header keeps all its
 * values, in order.
 *
 * @since 0.1.0
 * @category model
 */
export type Headers = Record<string, string | Array<string>>

/**
 * A message body: none, fully buffered bytes, or a stream read once. `length` is the declared
 * `Content-Length` of a stream, when it had one.
 *
 * @since 0.1.0
 * @category model
 */
export type Body =
  | { readonly _tag: "Empty" }
  | { readonly _tag: "Buffered"; readonly data: Buffer }
  | { readonly _tag: "Stream"; readonly stream: Readable; readonly length?: number | undefined }

/**
 * A request as the proxy sees it. `url` is origin-form (path and query). `remote` is the peer's
 * `ip:port` on the server side.
 *
 * @since 0.1.0
 * @category model
 */
export interface HttpRequest {
  readonly method: string
  readonly url: string
  readonly version: "1.0" | "1.1" | "2"
  readonly headers: Headers
  readonly body: Body
  readonly remote?: string | undefined
  /** Trailer fields sent after the body (HTTP/2, gRPC). Defaults to none. */
  readonly trailers?: Trailers | undefined
  /**
   * The protocols of an HTTP/1.1 `Upgrade` the client asked for (its `Upgrade` value, listed in
   * `Connection`), when the request has no body. `Upstream` sends them on, and answers a `101` with
   * a response carrying the switched connection (`tunnel`). Defaults to none.
   */
  readonly upgrade?: string | undefined
}

/**
 * A response.
 *
 * @since 0.1.0
 * @category model
 */
export interface HttpResponse {
  readonly status: number
  readonly headers: Headers
  readonly body: Body
  /** Trailer fields sent after the body (HTTP/2, gRPC `grpc-status`). Defaults to none. */
  readonly trailers?: Trailers | undefined
  /**
   * The upstream connection of a `101` to an `Upgrade` or a `2xx` to a `CONNECT`, which `Server`
   * splices with the client's (see `Tunnel`). Defaults to none.
   */
  readonly tunnel?: Upgraded | undefined
}

/**
 * The trailer fields of a message, which are only known once its body has ended: `current()` is
 * `undefined` until then (and when the body ended without trailers), `settled` resolves when the
 * body ended (or failed) with what came. A buffered body's trailers are known from the start.
 *
 * @since 0.1.0
 * @category model
 */
export interface Trailers {
  readonly current: () => Headers | undefined
  readonly settled: Promise<Headers | undefined>
}

/**
 * Trailers already known (a buffered body's, or a trailers-only response's).
 *
 * @since 0.1.0
 * @category constructors
 */
export const knownTrailers = (headers: Headers | undefined): Trailers => ({
  current: () => headers,
  settled: Promise.resolve(headers)
})

/**
 * When a response is over: for a streamed body whose trailers are still to come (an h2 response),
 * the promise its trailers settle with; `undefined` for a response complete as it is. What the
 * balancer counts as load (`loadUntil`) and what stats and failure accrual wait for before they
 * classify (`ResponseClass.Settle`).
 *
 * @since 0.1.0
 * @category getters
 */
export const streamEnd = (response: unknown): PromiseLike<unknown> | undefined => {
  const r = response as HttpResponse
  return r.body._tag === "Stream" && r.trailers !== undefined && r.trailers.current() === undefined
    ? r.trailers.settled
    : undefined
}

/**
 * Trailers to be settled when a streamed body ends: `settle` is called once with what came
 * (`undefined` for none); later calls are ignored.
 *
 * @since 0.1.0
 * @category constructors
 */
export const deferredTrailers = (): {
  readonly trailers: Trailers
  readonly settle: (h: Headers | undefined) => void
} => {
  let value: Headers | undefined
  let done = false
  let resolve: (h: Headers | undefined) => void = () => {}
  const settled = new Promise<Headers | undefined>((r) => {
    resolve = r
  })
  return {
    trailers: { current: () => value, settled },
    settle: (h) => {
      if (done) return
      done = true
      value = h
      resolve(h)
    }
  }
}

/**
 * The empty body.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: Body = { _tag: "Empty" }

/**
 * A buffered body (a string is encoded as UTF-8).
 *
 * @since 0.1.0
 * @category constructors
 */
export const buffered = (data: Buffer | string): Body => ({
  _tag: "Buffered",
  data: typeof data === "string" ? Buffer.from(data, "utf8") : data
})

/**
 * A streamed body.
 *
 * @since 0.1.0
 * @category constructors
 */
export const streamed = (stream: Readable, length?: number): Body => ({ _tag: "Stream", stream, length })

/**
 * Builds a request; method defaults to `GET`, version to `1.1`, body to none.
 *
 * @since 0.1.0
 * @category constructors
 */
export const request = (options: {
  readonly url: string
  readonly method?: string | undefined
  readonly version?: "1.0" | "1.1" | "2" | undefined
  readonly headers?: Headers | undefined
  readonly body?: Body | undefined
}): HttpRequest => ({
  method: options.method ?? "GET",
  url: options.url,
  version: options.version ?? "1.1",
  headers: options.headers ?? {},
  body: options.body ?? empty
})

/**
 * Builds a response with a buffered body.
 *
 * @since 0.1.0
 * @category constructors
 */
export const response = (status: number, body?: Buffer | string, headers?: Headers): HttpResponse => ({
  status,
  headers: headers ?? {},
  body: body === undefined ? empty : buffered(body)
})

/**
 * Whether the body can be sent again (absent or buffered). A streamed body cannot.
 *
 * @since 0.1.0
 * @category guards
 */
export const isReplayable = (self: { readonly body: Body }): boolean => self.body._tag !== "Stream"

/**
 * The first value of a header (names are lower-case), or `undefined`.
 *
 * @since 0.1.0
 * @category headers
 */
export const header = (headers: Headers, name: string): string | undefined => {
  const v = headers[name]
  return v === undefined ? undefined : typeof v === "string" ? v : v[0]
}

/**
 * Every value of a header (names are lower-case), in order.
 *
 * @since 0.1.0
 * @category headers
 */
export const headerAll = (headers: Headers, name: string): ReadonlyArray<string> => {
  const v = headers[name]
  return v === undefined ? [] : typeof v === "string" ? [v] : v
}

/**
 * Appends a value to a header, keeping earlier values (mutates `headers`).
 *
 * @since 0.1.0
 * @category headers
 */
export const appendHeader = (headers: Headers, name: string, value: string): void => {
  const v = headers[name]
  if (v === undefined) headers[name] = value
  else if (typeof v === "string") headers[name] = [v, value]
  else v.push(value)
}

/**
 * Discards a streamed body (so that its connection can be reused or closed); a no-op otherwise.
 *
 * @since 0.1.0
 * @category utils
 */
export const discard = (body: Body): void => {
  if (body._tag === "Stream" && !body.stream.destroyed) {
    body.stream.resume()
  }
}
