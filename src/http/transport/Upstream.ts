/**
 * The upstream side of the data path: one `Service<HttpRequest, HttpResponse, ConnectionFailed>` per
 * address, over a pool of keep-alive HTTP/1.1 connections. Bodies stream both ways with backpressure
 * (a response body is a `Readable` that pauses the connection while its reader is behind), so memory
 * stays bounded whatever their size.
 *
 * It speaks HTTP/1.1 itself over `node:net` sockets with weir's codec (`Codec.ts`): on loopback the
 * proxy spends about a quarter less user CPU per request than with undici's dispatcher, and Effect's
 * HTTP client would halve throughput (see docs/benchmarks.md). Only the surface is Effect-typed; each
 * request costs one `Effect.callback` and one exchange object.
 *
 * The pool, per address:
 *
 * - idle connections are reused most recently used first; one request at a time per connection (no
 *   pipelining);
 * - at most `maxConnections` are open; further requests wait in arrival order, and one that is
 *   interrupted leaves the queue;
 * - an idle connection closes after `idleTimeout`, or sooner when the server's `Keep-Alive: timeout`
 *   says so, and is dropped as soon as the server closes it;
 * - a connection is not reused after `Connection: close` (or HTTP/1.0 without keep-alive), a
 *   close-delimited body, bytes past the response, an error, a response that came before the request
 *   was fully sent, or an exchange abandoned midway.
 *
 * Requests are written with the framing recomputed (`content-length`, or chunked for a stream of
 * unknown length); the hop-by-hop headers the client owns are dropped. Responses of at most
 * `bufferLimit` bytes with a `Content-Length` are read whole; others return at once with a streamed
 * body.
 *
 * A request with `upgrade` (and no body) is sent with `Connection: upgrade` and those protocols;
 * when the server answers `101 Switching Protocols` (with an `Upgrade`), the connection leaves the
 * pool for good and the response carries it as `tunnel` (`Tunnel.Upgraded`), with any bytes that
 * followed the 101; any other answer is an ordinary response. A `CONNECT` opens a new plain TCP
 * connection to the address (no pooling, no TLS) and answers `200` with it as `tunnel` once made.
 *
 * With `tls` (`Tls.ClientTls.connect`) each connection is made with `node:tls` and counts as made
 * once its handshake has succeeded (within the connect timeout); a failed handshake is a
 * `ConnectionFailed` with reason `tls` and `written: false`.
 *
 * A connection that could not be made (refused, unreachable, connect timeout), a closed pool or a
 * header that cannot be written fail with `ConnectionFailed` and `written: false`, which makes them
 * requeueable; a failure after the request was handed to a connection has `written: true`. A request
 * on a reused connection that the server had closed under us (reset or end of stream before any byte
 * of a response) is sent once more on a fresh connection when its method is idempotent and its body
 * replayable.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { Address } from "../../Address.js"
import { key as addressKey } from "../../Address.js"
import { ConnectionFailed } from "../../Failure.js"
import type { Service } from "../../Service.js"
import { dispatch, Pool } from "./internal/UpstreamPool.js"
import type { HttpRequest, HttpResponse } from "./Message.js"
import type { SocketOptions } from "./SocketOptions.js"
import type * as Tls from "./Tls.js"

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
  /** Connections kept open when idle (Finagle's `minSize` low watermark). Defaults to `0`. */
  readonly minConnections?: number | undefined
  /** Most requests queued for a connection (at `maxConnections`); more fail at once. Defaults to unlimited. */
  readonly maxWaiters?: number | undefined
  /** linkerd's `socketOptions` for the connections (see `SocketOptions.ts`). Defaults: `noDelay`. */
  readonly socket?: SocketOptions | undefined
  /** Connect with TLS (`Tls.ClientTls.connect`); plain TCP when absent. */
  readonly tls?: Tls.Connect | undefined
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

/**
 * A pooled client for one address, closed with its scope: new calls, calls not yet answered and idle
 * connections fail or close at once; a response already answered whose body is still arriving
 * finishes it, then its connection closes (an endpoint leaving its balancer closes once its calls
 * have answered, and a streamed body outlives the call).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (address: Address, options?: Options): Effect.Effect<Upstream, never, Scope.Scope> =>
  Effect.gen(function*() {
    const key = addressKey(address)
    const pool = new Pool(
      key,
      address.host,
      address.port,
      options?.maxConnections ?? Infinity,
      Duration.toMillis(options?.idleTimeout ?? Duration.seconds(60)),
      Duration.toMillis(options?.connectTimeout ?? Duration.seconds(10)),
      options?.bufferLimit ?? 16 * 1024,
      {
        minConnections: options?.minConnections ?? 0,
        maxWaiters: options?.maxWaiters ?? Infinity,
        socket: options?.socket ?? {}
      },
      options?.tls
    )
    yield* Effect.addFinalizer(() => Effect.sync(() => pool.close()))

    const call = (request: HttpRequest): Effect.Effect<HttpResponse, ConnectionFailed> =>
      Effect.callback<HttpResponse, ConnectionFailed>((resume) => {
        if (pool.closed) {
          resume(Effect.fail(new ConnectionFailed({ address: key, reason: "closed", written: false })))
          return
        }
        return dispatch(pool, key, request, resume)
      })

    const upstream: Upstream = {
      address,
      call,
      get status() {
        return pool.closed ? "Closed" : "Open"
      },
      connections: () => pool.open,
      connects: () => pool.connects
    }
    return upstream
  })
