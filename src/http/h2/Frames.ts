/**
 * What the h2 server and the h2 upstream share: header blocks between node's `http2` objects and
 * weir's `Headers` (pseudo-headers out, connection-specific fields dropped), and the early read of a
 * stream's body. A body whose end arrives together with its headers (the same read from the socket:
 * a unary gRPC call, a small response with its trailers) and within a size limit is buffered, so that
 * it can be retried and its trailers are known at once; any other body streams, starting with the
 * bytes already in the stream, and HTTP/2 flow control applies backpressure (node only opens the
 * window again as the stream is read).
 *
 * @since 0.1.0
 */
import * as http2 from "node:http2"
import type { Duplex, Readable } from "node:stream"
import type { Body, Headers, Trailers } from "../transport/Message.js"
import { buffered, deferredTrailers, empty, knownTrailers, streamed } from "../transport/Message.js"

const { NGHTTP2_SESSION_SERVER } = http2.constants

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
 * `trailers`. Built from the raw header list node hands out with its header object (`[name, value,
 * …]`, the `stream` event's 4th argument, a response's 3rd): walking the list does not enumerate
 * node's object (a dictionary, whose keys V8 collects into a fresh array each time).
 * A field that node combines or keeps as an array (a repeated name, `set-cookie`, `te`) is taken
 * from `block` as it is there.
 *
 * @since 0.1.0
 * @category headers
 */
export const fromRaw = (
  raw: ReadonlyArray<string>,
  block: http2.IncomingHttpHeaders,
  keepAuthority = false
): Headers => {
  const out: Headers = {}
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!
    if (name.charCodeAt(0) === 58) {
      if (keepAuthority && name === ":authority" && out[name] === undefined) out[name] = raw[i + 1]!
      continue
    }
    if (connectionSpecific.has(name)) continue
    if (name === "te") {
      if (String(block[name]).toLowerCase() === "trailers") out[name] = "trailers"
      continue
    }
    if (out[name] === undefined && name !== "set-cookie") out[name] = raw[i + 1]!
    else {
      const v = block[name]!
      out[name] = Array.isArray(v) ? v.slice() : String(v)
    }
  }
  return out
}

/**
 * The size of a header list as SETTINGS_MAX_HEADER_LIST_SIZE counts it (RFC 9113 §6.5.2): name,
 * value and 32 per field, from node's raw list (a repeated field counts once per value).
 *
 * @since 0.1.0
 * @category headers
 */
export const rawListBytes = (raw: ReadonlyArray<string>): number => {
  let n = 0
  for (let i = 0; i < raw.length; i++) n += raw[i]!.length
  return n + 16 * raw.length
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

/**
 * No trailers, known from the start (shared: it never changes).
 *
 * @since 0.1.0
 * @category reading
 */
export const noTrailers: Trailers = knownTrailers(undefined)

/** What a stream that ended with its headers reads: no body, no trailers (shared: it never changes). */
const endedWithHeaders: Read = { body: empty, trailers: noTrailers }

/** Where a stream being read early keeps its `EarlyRead` (the listeners are shared functions). */
const kEarly = Symbol.for("weir/h2/EarlyRead")

type Early = Duplex & { [kEarly]: EarlyRead }

/** The part of node's `Readable` state that tells whether a body is all there (not in node's typed API). */
interface ReadableState {
  readonly ended: boolean
  readonly length: number
  highWaterMark: number
}

const readableState = (stream: Duplex): ReadableState =>
  (stream as unknown as { readonly _readableState: ReadableState })._readableState

/** Whether `stream` is one an h2 server received (not a client's response). */
const isServed = (stream: Duplex): boolean =>
  (stream as { readonly session?: { readonly type?: number } }).session?.type === NGHTTP2_SESSION_SERVER

/**
 * One early read: its state as fields of one object, and its listeners shared by all streams (they
 * find it on the stream they are called on), instead of a closure per listener for every stream.
 */
class EarlyRead {
  finished = false
  received: Headers | undefined = undefined
  settle: ((h: Headers | undefined) => void) | undefined = undefined
  constructor(
    readonly stream: Duplex,
    readonly limit: number,
    readonly done: (read: Read | "reset") => void
  ) {}

  /**
   * Once the read from the socket that brought the headers is over: node has pushed the DATA it
   * carried into the stream (read or not) and ended it if END_STREAM came too, and emitted the
   * trailers that came with it.
   */
  afterRead() {
    if (this.finished) return
    this.finished = true
    const stream = this.stream
    const code = rstCodeOf(stream)
    if (code !== undefined && code !== 0) return this.done("reset")
    const state = readableState(stream)
    if (state.ended && state.length <= this.limit && !stream.destroyed) {
      // all there: taken in one read (a body pushed in one chunk is kept as it is, no copy)
      const data = stream.read() as Buffer | null
      // a served stream flows, as after a read through 'data': node closes one never read once its
      // response is out
      if (isServed(stream)) stream.resume()
      return this.done({
        body: data === null ? empty : buffered(data),
        trailers: this.received === undefined ? noTrailers : knownTrailers(this.received)
      })
    }
    // streams, from what is in the stream already; trailers once it ends
    stream.pause()
    const deferred = deferredTrailers()
    if (this.received !== undefined) deferred.settle(this.received)
    else {
      this.settle = deferred.settle
      stream.on("close", onClose)
    }
    this.done({ body: streamed(stream), trailers: deferred.trailers })
  }
}

function onTrailers(this: Early, t: http2.IncomingHttpHeaders, _flags: number, raw: Array<string>) {
  const early = this[kEarly]
  early.received = fromRaw(raw, t)
  early.settle?.(early.received)
}
function onEnd(this: Early) {
  this[kEarly].afterRead()
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
  for (let i = 0; i < due.length; i++) due[i]!.afterRead()
}

/**
 * Reads a stream's body early (see the module docs) and calls `done` once: `ended` says the peer
 * ended the stream with its headers (no body at all). The stream is not read meanwhile (no 'data'
 * listener, no flowing): node pushes what arrives into it anyway, up to its high-water mark (raised
 * above `limit` here, so that a body up to `limit` in one read is taken whole), and the body is
 * settled once the read from the socket is over. A body read whole gets its trailers as they are at
 * its end (an h2 peer's trailers arrive before the end of its body), without a promise; only a
 * streamed body's trailers are deferred until the stream ends.
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
  // a body with no bytes (trailers only) ends without a read, and the stream may then close before
  // the read from the socket is over: settled at its end
  stream.on("end", onEnd)
  const state = readableState(stream)
  if (state.highWaterMark <= limit) state.highWaterMark = limit + 1
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
