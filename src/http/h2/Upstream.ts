/**
 * The h2 client of one address: an `Upstream` (the same interface as the HTTP/1.1 pool's, so the
 * destination client, its balancer and failure accrual are unchanged) over pooled, multiplexed
 * HTTP/2 connections on `node:http2`: plaintext with prior knowledge, or, with `tls`, over TLS
 * with ALPN `h2`.
 *
 * - Every request is one stream. A stream goes on the connection with the fewest streams open
 *   among those still accepting (not closing, under the peer's `SETTINGS_MAX_CONCURRENT_STREAMS`); a
 *   new connection is opened when none has room, up to `maxConnections` (then the least busy one
 *   takes it and nghttp2 holds the stream until the peer allows it).
 * - Bodies stream both ways under flow control; a request's trailers follow its body; a response's
 *   trailers are in its `trailers` (a small response that arrives whole is buffered, its trailers
 *   known at once, see `Frames.readEarly`).
 * - A gRPC call under a deadline (`Deadline.Current`) carries a fresh `grpc-timeout` of what is left.
 * - Interrupting a call before the response resets the stream (`RST_STREAM CANCEL`); destroying a
 *   response body after it does too.
 * - A connection that cannot be made, a stream refused (`REFUSED_STREAM`) or beyond the peer's
 *   `GOAWAY` fail with `ConnectionFailed` and `written: false` (requeueable); a reset after the
 *   request went out has `written: true`. A connection that received `GOAWAY` takes no new streams
 *   and closes when its streams are done; an idle one closes after `idleTimeout`.
 * - TLS (`tls`: `Tls.ClientTls.connect`, the HTTP/1.1 pool's settings): the backend's certificate
 *   is verified against the trusted CAs and the `commonName` (unless `disableValidation`), a client
 *   certificate is presented when configured, and the backend must select `h2` in ALPN. A
 *   handshake that fails, or a backend that does not select `h2`, fails the streams waiting for the
 *   connection with `ConnectionFailed` reason `tls` (`written: false`), its detail naming the
 *   problem; there is never a plaintext fallback.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as http2 from "node:http2"
import * as net from "node:net"
import type { Address } from "../../Address.js"
import { key as addressKey } from "../../Address.js"
import { ConnectionFailed } from "../../Failure.js"
import * as Deadline from "../../resilience/Deadline.js"
import type { HttpRequest, HttpResponse } from "../transport/Message.js"
import * as Tls from "../transport/Tls.js"
import type { Options as Http1Options, Upstream } from "../transport/Upstream.js"
import * as Frames from "./Frames.js"
import * as Grpc from "./Grpc.js"
import * as Settings from "./Settings.js"

/**
 * Pool settings for one address (the HTTP/1.1 pool's keys) and the HTTP/2 keys.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options extends Http1Options, Settings.H2Settings {}

/**
 * An h2 upstream: an `Upstream` whose load is counted in streams.
 *
 * @since 0.1.0
 * @category model
 */
export interface H2Upstream extends Upstream {
  /** Streams open on all its connections. */
  readonly streams: () => number
}

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = http2.constants

const ignore = () => {}

// request's options, shared (node copies them)
const endsStream = { endStream: true, waitForTrailers: false }
const withBody = { endStream: false, waitForTrailers: false }
const withTrailers = { endStream: false, waitForTrailers: true }

interface Conn {
  readonly session: http2.ClientHttp2Session
  streams: number
  connected: boolean
  closing: boolean
  lastError: unknown
}

/** Errors of the connection itself, before TLS: they keep their own reason with TLS too. */
const beforeTls: ReadonlySet<string> = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT"])

/** The detail of a connection error: OpenSSL's short reason ("wrong version number") when it has one. */
const detailOf = (err: unknown): string => {
  const e = err as { reason?: unknown; message?: unknown; cause?: unknown } | undefined
  // a stream cancelled because its connection failed carries the connection's error as its cause
  if (e?.cause !== undefined && e.cause !== err) return detailOf(e.cause)
  if (typeof e?.reason === "string") return e.reason
  return typeof e?.message === "string" ? e.message : String(err)
}

/** What a failed TLS connection reports: reason `tls` unless the TCP connection itself failed. */
const tlsFailure = (err: unknown): { readonly reason: ConnectionFailed["reason"]; readonly detail: string } => {
  const code = (err as { code?: string } | undefined)?.code
  if (code !== undefined && beforeTls.has(code)) return { reason: reasonOf(err), detail: detailOf(err) }
  return { reason: "tls", detail: `TLS handshake failed: ${err === undefined ? "connection closed" : detailOf(err)}` }
}

const reasonOf = (err: unknown): ConnectionFailed["reason"] => {
  const code = (err as { code?: string } | undefined)?.code
  switch (code) {
    case "ECONNREFUSED":
      return "refused"
    case "ECONNRESET":
    case "EPIPE":
      return "reset"
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "unreachable"
    case "ETIMEDOUT":
      return "timeout"
    default:
      return "closed"
  }
}

/**
 * An h2 client for one address, closed with its scope: new calls fail and idle connections close at
 * once; a connection with streams open lets them finish (a response's body may still be arriving),
 * then closes, or is destroyed once they outlast the idle timeout.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (address: Address, options?: Options): Effect.Effect<H2Upstream, never, Scope.Scope> =>
  Effect.gen(function*() {
    const key = addressKey(address)
    const maxConnections = options?.maxConnections ?? Infinity
    const idleMs = Duration.toMillis(Duration.fromInputUnsafe(options?.idleTimeout ?? Duration.seconds(60)))
    const connectMs = Duration.toMillis(Duration.fromInputUnsafe(options?.connectTimeout ?? Duration.seconds(10)))
    const bufferLimit = options?.bufferLimit ?? 16 * 1024
    const settings = Settings.toNode(options ?? {}, false)
    const conns = new Set<Conn>()
    let connects = 0
    let streams = 0
    let closed = false
    // the peer's stream limit as last announced: what a connection still being made is assumed to allow
    let peerLimit = 100
    const tls = options?.tls
    const authority = address.port === (tls === undefined ? 80 : 443)
      ? address.host
      : `${address.host}:${address.port}`
    // a TLS connection offering only h2 (whether the backend selected it is checked once connected)
    const secureConnection = (connect: Tls.Connect) => () => Tls.open(connect, address.host, address.port, ["h2"])
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        for (const c of conns) {
          if (c.streams > 0 && c.connected && !c.session.destroyed) {
            // its streams finish (a response's body may still be arriving: an endpoint closes once
            // its calls have answered), and no new one starts; destroyed if they outlast the idle timeout
            c.closing = true
            c.session.close()
            const session = c.session
            setTimeout(() => session.destroy(), Math.min(idleMs, 2 ** 31 - 1)).unref()
          } else c.session.destroy()
        }
        conns.clear()
      })
    )

    const open = (): Conn => {
      connects++
      const session = http2.connect(`${tls === undefined ? "http" : "https"}://${authority}`, {
        settings,
        maxSessionMemory: 64,
        peerMaxConcurrentStreams: peerLimit,
        // frames go out as soon as they are written (no Nagle delay on small header and DATA frames)
        createConnection: tls !== undefined
          ? secureConnection(tls)
          : () => net.connect({ host: address.host, port: address.port, noDelay: true })
      })
      const conn: Conn = { session, streams: 0, connected: false, closing: false, lastError: undefined }
      conns.add(conn)
      const timer = setTimeout(() => {
        if (!conn.connected) session.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" }))
      }, connectMs)
      session.once("connect", () => {
        clearTimeout(timer)
        if (tls !== undefined && session.alpnProtocol !== "h2") {
          const got = typeof session.alpnProtocol === "string" && session.alpnProtocol !== "h2c"
            ? JSON.stringify(session.alpnProtocol)
            : "no protocol"
          const err = Object.assign(new Error(`the backend did not select h2 with ALPN (it selected ${got})`), {
            code: "ERR_ALPN_NOT_H2"
          })
          conn.lastError = err
          session.destroy(err)
          return
        }
        conn.connected = true
        Settings.applyConnectionWindow(session, options ?? {})
      })
      session.on("error", (err) => {
        conn.lastError = err
      })
      session.on("remoteSettings", (remote) => {
        if (remote.maxConcurrentStreams !== undefined) peerLimit = remote.maxConcurrentStreams
      })
      session.on("goaway", () => {
        conn.closing = true
      })
      session.once("close", () => {
        clearTimeout(timer)
        conn.closing = true
        conns.delete(conn)
      })
      session.setTimeout(idleMs, () => {
        if (conn.streams === 0) {
          conn.closing = true
          session.close()
        }
      })
      return conn
    }

    const pick = (): Conn => {
      let best: Conn | undefined
      let leastBusy: Conn | undefined
      for (const c of conns) {
        if (c.closing || c.session.destroyed) continue
        const limit = c.connected ? (c.session.remoteSettings.maxConcurrentStreams ?? peerLimit) : peerLimit
        if (leastBusy === undefined || c.streams < leastBusy.streams) leastBusy = c
        if (c.streams < limit && (best === undefined || c.streams < best.streams)) best = c
      }
      if (best !== undefined) return best
      if (leastBusy !== undefined && conns.size >= maxConnections) return leastBusy
      return open()
    }

    /** Sends `request` as one stream; `deadline` is the gRPC call's (read from the fiber only for gRPC). */
    const send = (
      request: HttpRequest,
      grpc: boolean,
      deadline: Deadline.Deadline | undefined
    ): Effect.Effect<HttpResponse, ConnectionFailed> =>
      Effect.callback<HttpResponse, ConnectionFailed>((resume) => {
        if (closed) {
          resume(Effect.fail(new ConnectionFailed({ address: key, reason: "closed", written: false })))
          return
        }
        const conn = pick()
        const auth = request.headers[":authority"]
        // a gRPC call asks for trailers and carries what is left of its deadline
        const extra: Record<string, string> | undefined = grpc
          ? deadline === undefined
            ? { te: "trailers" }
            : { te: "trailers", "grpc-timeout": Grpc.encodeTimeout(deadline.deadline - Date.now()) }
          : undefined
        const body = request.body
        // a streamed body's trailers come at its end; a read body's are known (or there are none)
        const sendTrailers = body._tag === "Stream"
          ? request.trailers !== undefined
          : request.trailers?.current() !== undefined
        let stream: http2.ClientHttp2Stream
        try {
          stream = conn.session.request(
            Frames.toRaw(request.headers, [
              ":method",
              request.method,
              ":path",
              request.url,
              ":scheme",
              tls === undefined ? "http" : "https",
              ":authority",
              typeof auth === "string" ? auth : auth?.[0] ?? authority
            ], extra),
            sendTrailers ? withTrailers : body._tag === "Empty" ? endsStream : withBody
          )
        } catch (err) {
          resume(Effect.fail(
            new ConnectionFailed({ address: key, reason: "protocol", written: false, detail: String(err) })
          ))
          return
        }
        conn.streams++
        streams++
        let answered = false
        stream.on("close", () => {
          conn.streams--
          streams--
          if (conn.closing && conn.streams === 0) conn.session.close()
          if (!answered) {
            answered = true
            const code = stream.rstCode
            const refused = code === NGHTTP2_REFUSED_STREAM || !conn.connected || stream.id === undefined
            const lost = conn.lastError ?? stream.errored ?? undefined
            const failed = conn.connected
              ? undefined
              : tls !== undefined
              ? tlsFailure(lost)
              : { reason: reasonOf(lost), detail: undefined }
            resume(Effect.fail(
              new ConnectionFailed({
                address: key,
                reason: failed?.reason ?? "reset",
                written: !refused,
                detail: failed?.detail ??
                  (code !== undefined && code !== 0 ? `stream reset (code ${code})` : "stream closed")
              })
            ))
          }
        })
        // what it failed with is read from the stream (`errored`) once it closes
        stream.on("error", ignore)
        if (sendTrailers) {
          stream.once("wantTrailers", () => {
            const t = request.trailers?.current()
            try {
              stream.sendTrailers(t === undefined ? {} : Frames.toNode(t))
            } catch {
              stream.close()
            }
          })
        }
        if (body._tag === "Buffered") stream.end(body.data)
        else if (body._tag === "Empty" && sendTrailers) stream.end()
        else if (body._tag === "Stream") Frames.relay(body.stream, stream)
        stream.on("response", (block, _flags, raw) => {
          const status = Number(block[":status"])
          Frames.readEarly(stream, stream.endAfterHeaders, bufferLimit, (read) => {
            if (answered || read === "reset") return
            answered = true
            resume(Effect.succeed({
              status,
              headers: Frames.fromRaw(raw, block),
              body: read.body,
              trailers: read.trailers
            }))
          })
        })
        return Effect.sync(() => {
          if (!answered) {
            answered = true
            if (!stream.closed) stream.close(NGHTTP2_CANCEL)
          }
        })
      })

    // only a gRPC call reads its deadline (for `grpc-timeout`): any other request needs no step for it
    const call = (request: HttpRequest): Effect.Effect<HttpResponse, ConnectionFailed> =>
      Grpc.isGrpc(request)
        ? Effect.withFiber((fiber) => send(request, true, fiber.getRef(Deadline.Current)))
        : send(request, false, undefined)

    const upstream: H2Upstream = {
      address,
      call,
      get status() {
        return closed ? "Closed" : "Open"
      },
      connections: () => conns.size,
      connects: () => connects,
      streams: () => streams
    }
    return upstream
  })
