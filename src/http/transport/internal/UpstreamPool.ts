/**
 * The connection pool behind `Upstream`: request heads, one exchange per request (writing the
 * request, reading the response with the codec, streaming bodies with backpressure, mapping failures
 * to `ConnectionFailed`), keep-alive connections and the per-address pool with its wait queue.
 * Internal to `Upstream`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as net from "node:net"
import { Readable } from "node:stream"
import { ConnectionFailed } from "../../../Failure.js"
import { chunkHeader, Decoder as ChunkedDecoder, lastChunk } from "../Chunked.js"
import type { Framing, ResponseHead } from "../Codec.js"
import {
  checkedRequestHead,
  headEnd,
  invalidHeader,
  maxLeadingEmptyLines,
  ParseError,
  parseResponseHead,
  responseFraming,
  skipEmptyLines,
  writeMessage
} from "../Codec.js"
import type { Body, Headers, HttpRequest, HttpResponse } from "../Message.js"
import { empty } from "../Message.js"
import type { SocketOptions } from "../SocketOptions.js"
import * as Tls from "../Tls.js"
import type { Upgraded } from "../Tunnel.js"
import { destroyAfterHeld, holdWrites } from "./HeldWrites.js"
import { copyOut, readBuffer } from "./ReadBuffer.js"

type Reason = ConnectionFailed["reason"]

const reasonOf = (code: string | undefined): Reason => {
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
      return "timeout"
    case "ECONNRESET":
    case "EPIPE":
      return "reset"
    default:
      return "closed"
  }
}

/** Headers the client writes itself (framing and connection management), dropped from a request. */
const owned = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "expect",
  "te",
  "trailer",
  "content-length"
])

/** The protocols an upgrade request asks for, when it can be sent as one (no body). */
const upgradeOf = (request: HttpRequest): string | undefined =>
  request.body._tag === "Empty" ? request.upgrade : undefined

const idempotent = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"])

const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** visible ASCII only, as the server requires of what it receives */
const badTarget = /[^\x21-\x7e]/

/** The longest response head accepted. */
const maxHead = 64 * 1024

const hasToken = (value: string | Array<string> | undefined, name: string): boolean => {
  if (value === undefined) return false
  const all = typeof value === "string" ? value : value.join(",")
  if (all.length === name.length) return all.toLowerCase() === name
  for (const part of all.split(",")) if (part.trim().toLowerCase() === name) return true
  return false
}

/** The idle timeout a `Keep-Alive: timeout=N` hint asks for (a second early, to beat the server's own timer). */
const keepAliveHint = (value: string | Array<string> | undefined): number | undefined => {
  if (value === undefined) return undefined
  const m = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i.exec(typeof value === "string" ? value : value.join(","))
  if (m === null) return undefined
  const n = Number(m[1])
  return Math.max(n * 1000 - 1000, n * 500)
}

/**
 * The head of `request`: its headers less the ones the client owns, `host` added when absent, and the
 * framing of its body.
 */
const requestHead = (request: HttpRequest, host: string): string | undefined => {
  const headers = request.headers
  let out: Headers | undefined
  for (const name in headers) {
    if (owned.has(name)) {
      out = {}
      break
    }
  }
  if (out !== undefined) {
    for (const name in headers) if (!owned.has(name)) out[name] = headers[name]!
  }
  const body = request.body
  let extra = headers["host"] === undefined ? "host: " + host + "\r\n" : ""
  if (upgradeOf(request) !== undefined) extra += "connection: upgrade\r\nupgrade: " + request.upgrade + "\r\n"
  switch (body._tag) {
    case "Empty": {
      const m = request.method
      if (m === "POST" || m === "PUT" || m === "PATCH") extra += "content-length: 0\r\n"
      break
    }
    case "Buffered":
      extra += "content-length: " + body.data.length + "\r\n"
      break
    case "Stream":
      extra += body.length === undefined ? "transfer-encoding: chunked\r\n" : "content-length: " + body.length + "\r\n"
  }
  return checkedRequestHead(request.method, request.url, out ?? headers, extra)
}

const enum Phase {
  /** queued for a connection */
  Waiting,
  /** its connection is being made */
  Connecting,
  /** reading the response head */
  Head,
  /** reading the response body */
  Body,
  /** finished: answered, failed or interrupted */
  Done
}

/** A response body read from a connection; destroying it before its end destroys the connection. */
class BodyStream extends Readable {
  constructor(readonly exchange: Exchange) {
    super()
  }
  override _read(): void {
    this.exchange.readMore()
  }
  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.exchange.bodyDestroyed()
    callback(err)
  }
}

/** One request and its response over one connection (or two, when it is retried). */
class Exchange {
  phase = Phase.Waiting
  conn: Conn | undefined = undefined
  /** the whole request is in the socket */
  sent = false
  retried = false
  /** response bytes received on the current connection */
  received = 0
  head: Buffer | undefined = undefined
  framing: Framing | undefined = undefined
  remaining = 0
  chunks: Array<Buffer> | undefined = undefined
  responseHead: ResponseHead | undefined = undefined
  decoder: ChunkedDecoder | undefined = undefined
  stream: BodyStream | undefined = undefined
  paused = false
  /** bytes of a streamed request body written so far */
  bodySent = 0
  bodyListeners: { data: (c: Buffer) => void; end: () => void; error: (e: Error) => void } | undefined = undefined
  readonly cancel: Effect.Effect<void>

  constructor(
    readonly pool: Pool,
    readonly request: HttpRequest,
    readonly headText: string,
    readonly resume: (effect: Effect.Effect<HttpResponse, ConnectionFailed>) => void
  ) {
    this.cancel = Effect.sync(() => this.interrupt())
  }

  /** Starts the exchange on a connected `conn`. */
  start(conn: Conn): void {
    this.conn = conn
    this.phase = Phase.Head
    this.received = 0
    this.head = undefined
    const socket = conn.socket
    const body = this.request.body
    holdWrites(socket)
    switch (body._tag) {
      case "Empty":
        socket.write(this.headText, "latin1")
        this.sent = true
        return
      case "Buffered":
        writeMessage(socket, this.headText, body.data)
        this.sent = true
        return
      case "Stream":
        socket.write(this.headText, "latin1")
        this.bodySent = 0
        this.sendStream(body.stream, body.length)
    }
  }

  sendStream(stream: Readable, length: number | undefined): void {
    const listeners = {
      data: (chunk: Buffer) => {
        const conn = this.conn
        if (conn === undefined) return
        const socket = conn.socket
        holdWrites(socket)
        let more: boolean
        if (length === undefined) {
          if (chunk.length === 0) return
          socket.cork()
          socket.write(chunkHeader(chunk.length), "latin1")
          socket.write(chunk)
          more = socket.write("\r\n", "latin1")
          socket.uncork()
        } else {
          this.bodySent += chunk.length
          if (this.bodySent > length) {
            this.bodyFailed("protocol", `request body longer than its content-length ${length}`)
            return
          }
          more = socket.write(chunk)
        }
        if (!more) stream.pause()
      },
      end: () => {
        const conn = this.conn
        this.stopSending()
        if (conn === undefined) return
        if (length === undefined) {
          holdWrites(conn.socket)
          conn.socket.write(lastChunk, "latin1")
        } else if (this.bodySent !== length) {
          this.bodyFailed("protocol", `request body of ${this.bodySent} bytes, content-length ${length}`)
          return
        }
        this.sent = true
      },
      error: (err: Error) => {
        this.bodyFailed("closed", `request body failed: ${err.message}`)
      }
    }
    this.bodyListeners = listeners
    stream.on("data", listeners.data)
    stream.on("end", listeners.end)
    stream.on("error", listeners.error)
    if (stream.readableEnded) listeners.end()
    else stream.resume()
  }

  /** The connection can take more of the request body. */
  drained(): void {
    if (this.bodyListeners !== undefined && this.request.body._tag === "Stream") this.request.body.stream.resume()
  }

  /** Stops reading the request body (sent whole, or abandoned: then what is left of it is discarded). */
  stopSending(): void {
    const listeners = this.bodyListeners
    if (listeners === undefined || this.request.body._tag !== "Stream") return
    this.bodyListeners = undefined
    const stream = this.request.body.stream
    stream.off("data", listeners.data)
    stream.off("end", listeners.end)
    stream.off("error", listeners.error)
    if (!stream.readableEnded && !stream.destroyed) {
      stream.on("error", ignore)
      stream.resume()
    }
  }

  bodyFailed(reason: Reason, detail: string): void {
    this.stopSending()
    const conn = this.conn
    if (conn === undefined) return
    this.conn = undefined
    conn.exchange = undefined
    conn.destroy()
    this.lost(reason, detail, true)
  }

  /** Response bytes from the connection. */
  data(chunk: Buffer): void {
    this.received += chunk.length
    if (this.phase === Phase.Body) {
      this.body(chunk, 0)
      return
    }
    if (this.phase !== Phase.Head) return
    const scanned = this.head === undefined ? 0 : this.head.length
    const buf = this.head === undefined ? chunk : Buffer.concat([this.head, chunk])
    let start = 0
    let searchFrom = scanned
    for (;;) {
      // a few empty lines before a status line are ignored (RFC 9112 §2.2; some servers send one after
      // a body or a 100 Continue); kept in `head` until the status line comes, so the bound holds across reads
      const from = start
      start = skipEmptyLines(buf, from)
      if (start < 0) {
        this.protocolError(`more than ${maxLeadingEmptyLines} empty lines, or a bare CR or LF, before the status line`)
        return
      }
      const end = headEnd(buf, start, searchFrom)
      if (end < 0) {
        if (buf.length - start > maxHead) this.protocolError("response head too large")
        else this.head = from === 0 ? buf : buf.subarray(from)
        return
      }
      const head = parseResponseHead(buf, start, end)
      if (head instanceof ParseError) {
        this.protocolError(head.reason)
        return
      }
      if (head.status < 200) {
        if (head.status === 101) {
          if (upgradeOf(this.request) === undefined) this.protocolError("unexpected 101 Switching Protocols")
          else if (head.headers["upgrade"] === undefined) this.protocolError("101 Switching Protocols without Upgrade")
          else this.switched(head, end < buf.length ? buf.subarray(end) : undefined)
          return
        }
        start = end
        searchFrom = end
        continue
      }
      this.head = undefined
      this.onHead(head)
      if ((this.phase as Phase) !== Phase.Body) return
      if (this.framing!._tag === "None") this.finish(end < buf.length)
      else if (end < buf.length) this.body(buf, end)
      return
    }
  }

  /**
   * The upstream accepted the upgrade: its connection leaves the pool (it now speaks another
   * protocol) and is handed over with the bytes that followed the 101.
   */
  switched(head: ResponseHead, rest: Buffer | undefined): void {
    const conn = this.conn!
    this.conn = undefined
    this.phase = Phase.Done
    const socket = conn.release()
    const upgrade = head.headers["upgrade"]!
    const tunnel: Upgraded = {
      socket,
      head: rest,
      protocol: typeof upgrade === "string" ? upgrade : upgrade.join(", ")
    }
    this.resume(Effect.succeed({ status: 101, headers: head.headers, body: empty, tunnel }))
  }

  /**
   * Decides the framing and whether the connection may be reused; answers at once with a streamed
   * body unless the body is empty or small enough to buffer.
   */
  onHead(head: ResponseHead): void {
    const framing = responseFraming(this.request.method, head)
    if (framing instanceof ParseError) {
      this.protocolError(framing.reason)
      return
    }
    const conn = this.conn!
    const headers = head.headers
    const connection = headers["connection"]
    if (
      framing._tag === "Close" || !this.sent ||
      (head.version === "1.1" ? hasToken(connection, "close") : !hasToken(connection, "keep-alive"))
    ) conn.reusable = false
    const hint = keepAliveHint(headers["keep-alive"])
    if (hint !== undefined) conn.shortenIdle(hint)
    this.framing = framing
    this.phase = Phase.Body
    switch (framing._tag) {
      case "None":
        this.responseHead = head
        return
      case "Length":
        this.remaining = framing.length
        if (framing.length <= this.pool.bufferLimit) {
          this.chunks = []
          this.responseHead = head
          return
        }
        break
      case "Chunked":
        this.decoder = new ChunkedDecoder((c) => this.push(c))
    }
    const stream = new BodyStream(this)
    this.stream = stream
    const body: Body = { _tag: "Stream", stream, length: framing._tag === "Length" ? framing.length : undefined }
    this.resume(Effect.succeed({ status: head.status, headers, body }))
  }

  push(chunk: Buffer): void {
    if (this.phase !== Phase.Body) return
    if (!this.stream!.push(chunk) && !this.paused && this.conn !== undefined) {
      this.paused = true
      this.conn.socket.pause()
    }
  }

  /** Body bytes in `buf` from `from`. */
  body(buf: Buffer, from: number): void {
    const framing = this.framing!
    switch (framing._tag) {
      case "Length": {
        const available = buf.length - from
        const take = available < this.remaining ? available : this.remaining
        const piece = from === 0 && take === buf.length ? buf : buf.subarray(from, from + take)
        this.remaining -= take
        if (this.chunks !== undefined) this.chunks.push(piece)
        else this.push(piece)
        if (this.remaining === 0 && this.phase === Phase.Body) this.finish(from + take < buf.length)
        return
      }
      case "Chunked": {
        const used = this.decoder!.push(buf, from)
        if (this.phase !== Phase.Body) return
        if (used instanceof ParseError) this.protocolError(used.reason)
        else if (this.decoder!.done) this.finish(from + used < buf.length)
        return
      }
      case "Close":
        this.push(from === 0 ? buf : buf.subarray(from))
        return
      case "None":
        this.finish(true)
    }
  }

  /** The response was read whole (`extra`: bytes followed it). The connection is settled before answering. */
  finish(extra: boolean): void {
    const conn = this.conn!
    this.phase = Phase.Done
    this.conn = undefined
    if (extra) conn.reusable = false
    if (this.paused) {
      this.paused = false
      conn.socket.resume()
    }
    if (this.sent) conn.done()
    else {
      this.stopSending()
      conn.destroy()
    }
    const head = this.responseHead
    if (this.stream !== undefined) this.stream.push(null)
    else if (head !== undefined) {
      const chunks = this.chunks
      this.chunks = undefined
      this.responseHead = undefined
      const body: Body = chunks === undefined
        ? empty
        : { _tag: "Buffered", data: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }
      this.resume(Effect.succeed({ status: head.status, headers: head.headers, body }))
    }
  }

  /** The connection ended (`Close` framing: the end of the body). */
  ended(): boolean {
    if (this.phase === Phase.Body && this.framing!._tag === "Close") {
      this.conn!.reusable = false
      this.finish(false)
      return true
    }
    return false
  }

  readMore(): void {
    if (this.paused) {
      this.paused = false
      this.conn?.socket.resume()
    }
  }

  bodyDestroyed(): void {
    const conn = this.conn
    if (this.phase === Phase.Done || conn === undefined) return
    this.phase = Phase.Done
    this.conn = undefined
    conn.exchange = undefined
    this.stopSending()
    conn.destroy()
  }

  protocolError(detail: string): void {
    const conn = this.conn!
    this.conn = undefined
    conn.exchange = undefined
    conn.destroy()
    this.stopSending()
    this.lost("protocol", detail, true)
  }

  /** The connection broke (`connected` false: it was never made). */
  connectionLost(conn: Conn, reason: Reason, detail: string): void {
    this.conn = undefined
    this.stopSending()
    if (!conn.connected) {
      this.lost(reason, detail, this.retried)
      return
    }
    if (
      this.phase === Phase.Head && this.received === 0 && conn.uses > 1 && !this.retried && !this.pool.closed &&
      this.request.body._tag !== "Stream" && idempotent.has(this.request.method)
    ) {
      this.retried = true
      this.sent = false
      this.pool.connect(this)
      return
    }
    this.lost(reason, detail, true)
  }

  lost(reason: Reason, detail: string, written: boolean): void {
    if (this.phase === Phase.Done) return
    this.phase = Phase.Done
    const error = new ConnectionFailed({ address: this.pool.key, reason, written, detail })
    const stream = this.stream
    if (stream !== undefined) {
      if (!stream.destroyed) {
        if (stream.listenerCount("error") === 0) stream.on("error", ignore)
        stream.destroy(error)
      }
      return
    }
    this.chunks = undefined
    this.resume(Effect.fail(error))
  }

  /** The caller was interrupted. */
  interrupt(): void {
    const phase = this.phase
    this.phase = Phase.Done
    switch (phase) {
      case Phase.Waiting:
        this.pool.leaveQueue(this)
        return
      case Phase.Connecting:
        this.conn!.exchange = undefined
        this.conn = undefined
        return
      case Phase.Done:
        return
      default: {
        const conn = this.conn
        this.conn = undefined
        this.stopSending()
        if (conn !== undefined) {
          conn.exchange = undefined
          conn.destroy()
        }
        const stream = this.stream
        if (stream !== undefined && !stream.destroyed) {
          if (stream.listenerCount("error") === 0) stream.on("error", ignore)
          stream.destroy(new Error("request interrupted"))
        }
      }
    }
  }
}

const ignore = () => {}

/**
 * How often a pool looks for connections idle too long: a quarter of its idle time, from 10 ms to
 * 250 ms, so that one is closed at most that late (a `Keep-Alive: timeout=N` hint, at least 500 ms
 * and a second or half early, is still beaten to it).
 */
const sweepEvery = (idleMs: number): number => Math.max(10, Math.min(250, Math.floor(idleMs / 4)))

/** One connection of the pool. */
class Conn {
  readonly socket: net.Socket
  exchange: Exchange | undefined = undefined
  connected = false
  dead = false
  reusable = true
  /** exchanges started on it */
  uses = 0
  idleMs: number
  /** when it went back to the pool (`performance.now()`), for the pool's sweep */
  idleSince = 0
  readonly listeners: Array<[string, (...args: Array<any>) => void]> = []

  constructor(readonly pool: Pool, exchange: Exchange) {
    const sock = pool.tuning.socket
    this.idleMs = Math.min(pool.idleMs, sock.idleTimeoutMs ?? Infinity)
    this.exchange = exchange
    exchange.conn = this
    exchange.phase = Phase.Connecting
    const tls = pool.tls
    const socket = tls === undefined
      ? net.connect({
        host: pool.host,
        port: pool.port,
        noDelay: sock.noDelay ?? true,
        keepAlive: sock.keepAlive ?? false,
        onread: { buffer: readBuffer, callback: (n: number, buf: Uint8Array) => this.read(n, buf) }
      })
      : Tls.open(tls, pool.host, pool.port)
    if (tls !== undefined) {
      socket.setNoDelay(sock.noDelay ?? true)
      if (sock.keepAlive === true) socket.setKeepAlive(true)
    }
    this.socket = socket
    socket.setTimeout(pool.connectMs)
    this.listen(tls === undefined ? "connect" : "secureConnect", () => this.onConnect())
    if (tls !== undefined) this.listen("data", (chunk: Buffer) => this.received(chunk))
    this.listen("end", () => {
      const ex = this.exchange
      if (ex === undefined || !ex.ended()) this.lose("closed", "connection closed by the server")
    })
    this.listen("error", (err: NodeJS.ErrnoException & { reason?: string }) => {
      // OpenSSL's errors carry a short reason ("wrong version number") besides a long message
      if (tls !== undefined && err.code?.startsWith("ERR_SSL_") === true) this.lose("tls", err.reason ?? err.message)
      else this.lose(reasonOf(err.code), err.message)
    })
    this.listen("close", () => this.lose("closed", "connection closed"))
    this.listen("timeout", () => {
      const io = sock.idleTimeoutMs
      if (!this.connected) this.lose("timeout", `connect timed out after ${pool.connectMs} ms`)
      else if (this.exchange === undefined) {
        if (pool.all.size > pool.tuning.minConnections || (io !== undefined && this.idleMs >= io)) this.destroy()
      } else if (io !== undefined && this.idleMs >= io) this.lose("timeout", `no byte read or written for ${io} ms`)
    })
    this.listen("drain", () => this.exchange?.drained())
  }

  /** Bytes read from the socket, for the exchange on it. */
  received(chunk: Buffer): void {
    const ex = this.exchange
    if (ex !== undefined) ex.data(chunk)
    else this.destroy()
  }

  /**
   * `n` bytes read into the shared `readBuffer` (plain TCP), copied out at once. After
   * {@link release}, the socket's new owner reads them as `data`.
   */
  read(n: number, buf: Uint8Array): boolean {
    const chunk = copyOut(n, buf)
    if (this.dead) this.socket.emit("data", chunk)
    else this.received(chunk)
    return true
  }

  /** Listens to the socket, in a way `release` can undo. */
  listen(event: string, listener: (...args: Array<any>) => void): void {
    this.listeners.push([event, listener])
    this.socket.on(event, listener)
  }

  /**
   * Takes the connection out of the pool for good (a tunnel): stops listening to it and returns
   * its socket, paused, guarded against errors and destroyed if nobody claims it within the pool's
   * idle timeout.
   */
  release(): net.Socket {
    const socket = this.socket
    this.dead = true
    this.exchange = undefined
    socket.pause()
    for (const [event, listener] of this.listeners) socket.off(event, listener)
    this.listeners.length = 0
    socket.on("error", ignore)
    socket.setTimeout(this.pool.idleMs)
    socket.once("timeout", () => socket.destroy())
    const pool = this.pool
    pool.detach(this)
    pool.serveWaiters()
    return socket
  }

  onConnect(): void {
    if (this.dead) return
    this.connected = true
    this.pool.connected(this)
    this.socket.setTimeout(this.pool.socketTimers ? this.idleMs : 0)
    const ex = this.exchange
    if (ex !== undefined) {
      this.uses++
      ex.start(this)
    } else this.done()
  }

  shortenIdle(ms: number): void {
    if (ms < this.idleMs) {
      this.idleMs = ms
      if (ms <= 0) this.reusable = false
      else if (this.pool.socketTimers) this.socket.setTimeout(ms)
    }
  }

  /** The exchange on it is over (request sent, response read): back to the pool, or closed. */
  done(): void {
    this.exchange = undefined
    if (!this.reusable || this.dead) {
      this.destroy()
      return
    }
    const pool = this.pool
    const next = pool.nextWaiter()
    if (next !== undefined) {
      this.exchange = next
      this.uses++
      next.start(this)
    } else pool.park(this)
  }

  /** Closes it with no exchange to tell. */
  destroy(): void {
    this.exchange = undefined
    this.lose("closed", "connection closed")
  }

  /** Closes it; the exchange on it, if any, fails with `reason`. */
  lose(reason: Reason, detail: string): void {
    if (this.dead) return
    this.dead = true
    if (this.pool.tls !== undefined && reason !== "timeout" && (!this.connected || reason === "tls")) {
      detail = `TLS ${this.connected ? "" : "handshake "}failed: ${detail}`
      reason = "tls"
    }
    destroyAfterHeld(this.socket)
    const pool = this.pool
    pool.detach(this)
    const ex = this.exchange
    this.exchange = undefined
    if (ex !== undefined) ex.connectionLost(this, reason, detail)
    pool.serveWaiters()
  }
}

/** Pool settings beyond the constructor's: idle connections kept, queue bound, socket options. */
export interface Tuning {
  readonly minConnections: number
  readonly maxWaiters: number
  readonly socket: SocketOptions
}

export class Pool {
  readonly idle: Array<Conn> = []
  readonly waiting: Array<Exchange> = []
  readonly all = new Set<Conn>()
  open = 0
  connects = 0
  closed = false
  /**
   * Whether idle connections close by their sockets' timers: with an I/O timeout, whose timer (which
   * every read and write restarts) closes them when idle too; without, the pool's sweep does, and
   * reads and writes restart nothing.
   */
  readonly socketTimers: boolean
  /** the sweep of idle connections, while there are any (without {@link socketTimers}) */
  sweeper: ReturnType<typeof setInterval> | undefined = undefined

  constructor(
    readonly key: string,
    readonly host: string,
    readonly port: number,
    readonly max: number,
    readonly idleMs: number,
    readonly connectMs: number,
    readonly bufferLimit: number,
    readonly tuning: Tuning = { minConnections: 0, maxWaiters: Infinity, socket: {} },
    readonly tls?: Tls.Connect | undefined
  ) {
    this.socketTimers = tuning.socket.idleTimeoutMs !== undefined
  }

  acquire(ex: Exchange): void {
    const idle = this.idle
    while (idle.length > 0) {
      const conn = idle.pop()!
      if (!conn.dead) {
        conn.exchange = ex
        conn.uses++
        ex.start(conn)
        return
      }
    }
    if (this.all.size < this.max) this.connect(ex)
    else if (this.waiting.length >= this.tuning.maxWaiters) {
      ex.lost("closed", `too many waiters (maxWaiters ${this.tuning.maxWaiters})`, false)
    } else this.waiting.push(ex)
  }

  connect(ex: Exchange): void {
    if (this.closed) {
      ex.lost("closed", "upstream closed", ex.retried)
      return
    }
    this.all.add(new Conn(this, ex))
  }

  connected(_conn: Conn): void {
    this.open++
    this.connects++
  }

  /** Takes `conn` back as idle. */
  park(conn: Conn): void {
    this.idle.push(conn)
    if (this.socketTimers) return
    conn.idleSince = performance.now()
    if (this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(), sweepEvery(this.idleMs))
      this.sweeper.unref()
    }
  }

  /**
   * Closes the connections idle for their idle time (the pool's, or shorter where a server's
   * `Keep-Alive` hint asked), but the `minConnections` the pool keeps; stops when none is idle.
   */
  sweep(): void {
    const now = performance.now()
    const idle = this.idle
    for (let i = idle.length - 1; i >= 0; i--) {
      const conn = idle[i]!
      if (now - conn.idleSince >= conn.idleMs && this.all.size > this.tuning.minConnections) conn.destroy()
    }
    if (this.idle.length === 0 || this.closed) {
      clearInterval(this.sweeper)
      this.sweeper = undefined
    }
  }

  nextWaiter(): Exchange | undefined {
    return this.waiting.length === 0 ? undefined : this.waiting.shift()
  }

  leaveQueue(ex: Exchange): void {
    const i = this.waiting.indexOf(ex)
    if (i >= 0) this.waiting.splice(i, 1)
  }

  detach(conn: Conn): void {
    if (!this.all.delete(conn)) return
    if (conn.connected) this.open--
    const i = this.idle.lastIndexOf(conn)
    if (i >= 0) this.idle.splice(i, 1)
  }

  serveWaiters(): void {
    while (this.waiting.length > 0 && this.all.size < this.max && !this.closed) this.connect(this.waiting.shift()!)
  }

  close(): void {
    this.closed = true
    clearInterval(this.sweeper)
    this.sweeper = undefined
    const waiting = this.waiting.splice(0)
    for (const ex of waiting) {
      ex.phase = Phase.Done
      ex.resume(Effect.fail(new ConnectionFailed({ address: this.key, reason: "closed", written: false })))
    }
    for (const conn of Array.from(this.all)) {
      // a response already answered with its body still arriving finishes it, then its connection
      // closes: an endpoint closes once its calls have answered (Endpoint drains them), and cutting
      // the body would break a response the client is already receiving
      const ex = conn.exchange
      if (ex !== undefined && ex.stream !== undefined && conn.connected) conn.reusable = false
      else conn.lose("closed", "upstream closed")
    }
  }
}

/**
 * Sends `request` through `pool`: refuses a method, target or header that cannot be written (with
 * `ConnectionFailed` reason `protocol`, before touching a connection), else queues an exchange;
 * returns what cancels it.
 */
export const dispatch = (
  pool: Pool,
  key: string,
  request: HttpRequest,
  resume: (effect: Effect.Effect<HttpResponse, ConnectionFailed>) => void
): Effect.Effect<void> | undefined => {
  const bad = !token.test(request.method)
    ? "invalid method"
    : badTarget.test(request.url) || request.url.length === 0
    ? "invalid request target"
    : undefined
  const badUpgrade = request.upgrade !== undefined && !token.test(request.upgrade.replace(/[\s,/]+/g, "-"))
  // the head is written and its headers checked in one pass (a CONNECT's head is never sent, but a
  // header that cannot be written is refused alike)
  const head = bad === undefined && !badUpgrade ? requestHead(request, key) : undefined
  if (head === undefined) {
    const detail = bad ?? (badUpgrade
      ? "invalid upgrade protocols"
      : `invalid header ${JSON.stringify((invalidHeader(request.headers) ?? "").slice(0, 64))}`)
    resume(Effect.fail(new ConnectionFailed({ address: key, reason: "protocol", written: false, detail })))
    return undefined
  }
  if (request.method === "CONNECT") return connectTunnel(pool, key, resume)
  const exchange = new Exchange(pool, request, head, resume)
  pool.acquire(exchange)
  return exchange.cancel
}

/**
 * A `CONNECT` to this address: a new TCP connection (never a pooled one, never TLS: the client's
 * bytes go through as they are), answered with a `200` that carries it once it is made. A connection
 * that cannot be made fails as a request would (`ConnectionFailed`, not written).
 */
const connectTunnel = (
  pool: Pool,
  key: string,
  resume: (effect: Effect.Effect<HttpResponse, ConnectionFailed>) => void
): Effect.Effect<void> => {
  const sock = pool.tuning.socket
  const socket = net.connect({
    host: pool.host,
    port: pool.port,
    noDelay: sock.noDelay ?? true,
    keepAlive: sock.keepAlive ?? false,
    allowHalfOpen: true
  })
  let settled = false
  const fail = (reason: Reason, detail: string) => {
    if (settled) return
    settled = true
    socket.destroy()
    resume(Effect.fail(new ConnectionFailed({ address: key, reason, written: false, detail })))
  }
  socket.setTimeout(pool.connectMs)
  socket.once("timeout", () => fail("timeout", `connect timed out after ${pool.connectMs} ms`))
  socket.on("error", (err: NodeJS.ErrnoException) => fail(reasonOf(err.code), err.message))
  const closed = () => fail("closed", "connection closed")
  socket.once("close", closed)
  socket.once("connect", () => {
    if (settled) return
    settled = true
    pool.connects++
    socket.off("close", closed)
    socket.setTimeout(pool.idleMs)
    socket.removeAllListeners("timeout")
    socket.once("timeout", () => socket.destroy())
    const tunnel: Upgraded = { socket }
    resume(Effect.succeed({ status: 200, headers: {}, body: empty, tunnel }))
  })
  return Effect.sync(() => {
    if (settled) return
    settled = true
    socket.destroy()
  })
}
