/**
 * What the h2 server and the h2 upstream share: header blocks between node's `http2` objects and
 * weir's `Headers` (pseudo-headers out, connection-specific fields dropped), and the early read of a
 * stream's body. A body whose end arrives together with its headers (the same read from the socket:
 * a unary gRPC call, a small response with its trailers) and within a size limit is buffered, so that
 * it can be retried and its trailers are known at once; any other body streams, with the bytes
 * already read put back in front, and HTTP/2 flow control applies backpressure (node only opens
 * the window again as the stream is read).
 *
 * @since 0.1.0
 */
import * as http2 from "node:http2"
import type { Duplex, Readable } from "node:stream"
import type { Body, Headers, Trailers } from "../transport/Message.js"
import { buffered, deferredTrailers, empty, knownTrailers, streamed } from "../transport/Message.js"

/** Fields HTTP/2 forbids (RFC 9113 §8.2.2) or that only describe the previous hop. */
const connectionSpecific: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "host",
  "http2-settings"
])

/**
 * weir `Headers` from a node header block: pseudo-headers are left out (except `:authority`, which
 * identifiers read, when `keepAuthority`), as are connection-specific fields; `te` is kept only as
 * `trailers`.
 *
 * @since 0.1.0
 * @category headers
 */
export const fromNode = (block: http2.IncomingHttpHeaders, keepAuthority = false): Headers => {
  const out: Headers = {}
  for (const name in block) {
    const v = block[name]
    if (v === undefined) continue
    if (name.charCodeAt(0) === 58) {
      if (keepAuthority && name === ":authority") out[name] = String(v)
      continue
    }
    if (connectionSpecific.has(name)) continue
    if (name === "te") {
      if (String(v).toLowerCase() === "trailers") out[name] = "trailers"
      continue
    }
    out[name] = Array.isArray(v) ? v.slice() : String(v)
  }
  return out
}

/** A value that cannot be written in a header field. */
const unwritable = /[\r\n\0]/

/**
 * A node header block from weir `Headers`: names lower-cased, pseudo-headers and
 * connection-specific fields dropped (`te` only as `trailers`), values with a line break or a
 * NUL left out (they cannot be written); `pseudo` come first (the object given is filled in and
 * returned, so pass a fresh one). `extra` fields (already lower-case and writable) are added
 * last, replacing those of `headers`: a copy of `headers` is not needed to add a few fields.
 *
 * @since 0.1.0
 * @category headers
 */
export const toNode = (
  headers: Headers,
  pseudo?: Record<string, string | number>,
  extra?: Record<string, string>
): http2.OutgoingHttpHeaders => {
  const out: http2.OutgoingHttpHeaders = pseudo ?? {}
  for (const raw in headers) {
    if (raw.charCodeAt(0) === 58) continue
    const name = raw.toLowerCase()
    if (connectionSpecific.has(name) || (extra !== undefined && name in extra)) continue
    const v = headers[raw]!
    if (name === "te") {
      if (String(v).toLowerCase() === "trailers") out[name] = "trailers"
      continue
    }
    if (typeof v === "string") {
      if (!unwritable.test(v)) out[name] = v
      continue
    }
    const ok = v.filter((x) => !unwritable.test(x))
    if (ok.length === 0) continue
    out[name] = ok.length === 1 ? ok[0]! : ok
  }
  if (extra !== undefined) {
    for (const name in extra) out[name] = extra[name]
  }
  return out
}

const [nodeMajor = 0, nodeMinor = 0] = process.versions.node.split(".").map(Number)

/**
 * Whether `Http2Stream.respond` takes a raw header list (node 22.20, 24.7 and later); before, only
 * `ClientHttp2Session.request` does (node 22.17).
 *
 * @since 0.1.0
 * @category headers
 */
export const respondTakesRaw: boolean = nodeMajor > 24 || (nodeMajor === 24 && nodeMinor >= 7) ||
  (nodeMajor === 22 && nodeMinor >= 20)

/**
 * `toNode` as a raw header list (`[name, value, name, value, …]`, a repeated field once per
 * value), which `ClientHttp2Session.request` (and `Http2Stream.respond` where `respondTakesRaw`)
 * take without copying it into an object of their own first: the same fields, after the
 * pseudo-header pairs already in `list` (filled in and returned).
 *
 * @since 0.1.0
 * @category headers
 */
export const toRaw = (headers: Headers, list: Array<string>, extra?: Record<string, string>): Array<string> => {
  for (const raw in headers) {
    if (raw.charCodeAt(0) === 58) continue
    const name = raw.toLowerCase()
    if (connectionSpecific.has(name) || (extra !== undefined && name in extra)) continue
    const v = headers[raw]!
    if (name === "te") {
      if (String(v).toLowerCase() === "trailers") list.push(name, "trailers")
      continue
    }
    if (typeof v === "string") {
      if (!unwritable.test(v)) list.push(name, v)
      continue
    }
    for (let i = 0; i < v.length; i++) {
      if (!unwritable.test(v[i]!)) list.push(name, v[i]!)
    }
  }
  if (extra !== undefined) {
    for (const name in extra) list.push(name, extra[name]!)
  }
  return list
}

/**
 * A body and its trailers read from a node stream, as described above.
 *
 * @since 0.1.0
 * @category model
 */
export interface Read {
  readonly body: Body
  readonly trailers: Trailers
}

/** No trailers, known from the start (shared: it never changes). */
const noTrailers: Trailers = knownTrailers(undefined)

/** What a stream that ended with its headers reads: no body, no trailers (shared: it never changes). */
const endedWithHeaders: Read = { body: empty, trailers: noTrailers }

/** Where a stream being read early keeps its `EarlyRead` (the listeners are shared functions). */
const kEarly = Symbol.for("weir/h2/EarlyRead")

type Early = Duplex & { [kEarly]: EarlyRead }

/** What a finished read holds (nothing: it is never added to). */
const noChunks: Array<Buffer> = []

/**
 * One early read: its state and steps as fields and methods of one object, and its listeners
 * shared by all streams (they find it on the stream they are called on), instead of a closure per
 * listener and step for every stream.
 */
class EarlyRead {
  chunks: Array<Buffer> = []
  size = 0
  finished = false
  received: Headers | undefined = undefined
  settle: ((h: Headers | undefined) => void) | undefined = undefined
  constructor(
    readonly stream: Duplex,
    readonly limit: number,
    readonly done: (read: Read | "reset") => void
  ) {}

  finish(read: Read | "reset") {
    this.finished = true
    this.chunks = noChunks
    this.stream.off("data", onData)
    this.stream.off("end", onEnd)
    this.stream.off("error", onEnd)
    this.done(read)
  }

  data(chunk: Buffer) {
    this.chunks.push(chunk)
    this.size += chunk.length
    if (this.size > this.limit) this.streaming()
  }

  /** The bytes read so far as one buffer: a body read in one chunk is kept as it is (no copy). */
  bytes(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size)
  }

  streaming() {
    if (this.finished) return
    const stream = this.stream
    stream.pause()
    if (this.size > 0) stream.unshift(this.bytes())
    const deferred = deferredTrailers()
    if (this.received !== undefined) deferred.settle(this.received)
    else {
      this.settle = deferred.settle
      stream.on("close", onClose)
    }
    this.finish({ body: streamed(stream), trailers: deferred.trailers })
  }

  end() {
    if (this.finished) return
    const code = rstCodeOf(this.stream)
    if (code !== undefined && code !== 0) this.finish("reset")
    else if (this.stream.readableEnded) {
      this.finish({
        body: this.size === 0 ? empty : buffered(this.bytes()),
        trailers: this.received === undefined ? noTrailers : knownTrailers(this.received)
      })
    } else this.streaming()
  }
}

function onTrailers(this: Early, t: http2.IncomingHttpHeaders) {
  const early = this[kEarly]
  early.received = fromNode(t)
  early.settle?.(early.received)
}
function onData(this: Early, chunk: Buffer) {
  this[kEarly].data(chunk)
}
function onEnd(this: Early) {
  this[kEarly].end()
}
function onClose(this: Early) {
  this[kEarly].settle?.(undefined)
}

/**
 * The early reads whose headers came in the current read from the socket: one `setImmediate`
 * settles them all once it is over (not one timer per stream).
 */
let afterRead: Array<EarlyRead> = []
const runAfterRead = () => {
  const due = afterRead
  afterRead = []
  for (let i = 0; i < due.length; i++) due[i]!.streaming()
}

/**
 * Reads a stream's body early (see the module docs) and calls `done` once: `ended` says the peer
 * ended the stream with its headers (no body at all). A body read whole gets its trailers as they
 * are at its end (an h2 peer's trailers arrive before the end of its body), without a promise; only
 * a streamed body's trailers are deferred until the stream ends.
 *
 * @since 0.1.0
 * @category reading
 */
export const readEarly = (
  stream: Duplex,
  ended: boolean,
  limit: number,
  done: (read: Read | "reset") => void
): void => {
  if (ended) {
    stream.resume()
    done(endedWithHeaders)
    return
  }
  const early = new EarlyRead(stream, limit, done)
  ;(stream as Early)[kEarly] = early
  stream.on("trailers", onTrailers)
  stream.on("data", onData)
  stream.on("end", onEnd)
  stream.on("error", onEnd)
  if (afterRead.length === 0) setImmediate(runAfterRead)
  afterRead.push(early)
}

/** The RST_STREAM code an http2 stream closed with (node ends a reset stream's readable side too). */
const rstCodeOf = (stream: Readable): number | undefined => (stream as { rstCode?: number }).rstCode

/**
 * Relays a body into an http2 stream with backpressure: the stream ends when the body ended
 * cleanly, and is reset when the body was cut short (an http2 source that was reset, with its code;
 * an error; a close before the end). `detach` stops relaying without touching the stream.
 *
 * @since 0.1.0
 * @category writing
 */
export const relay = (src: Readable, dest: http2.Http2Stream): { readonly detach: () => void } => {
  let done = false
  const reset = (code: number) => {
    if (done) return
    done = true
    src.unpipe(dest)
    if (!dest.closed && !dest.destroyed) dest.close(code)
  }
  src.once("end", () => {
    const code = rstCodeOf(src)
    if (code !== undefined && code !== 0) return reset(code)
    if (done) return
    done = true
    if (!dest.writableEnded) dest.end()
  })
  src.once("error", () => reset(rstCodeOf(src) || http2.constants.NGHTTP2_INTERNAL_ERROR))
  src.once("close", () => {
    if (!src.readableEnded) reset(rstCodeOf(src) || http2.constants.NGHTTP2_CANCEL)
  })
  src.pipe(dest, { end: false })
  return {
    detach: () => {
      done = true
      src.unpipe(dest)
    }
  }
}
