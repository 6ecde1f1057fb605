/**
 * One client connection of `Server`: parses request heads with the codec, feeds request bodies
 * (buffered or streamed with backpressure), runs the handler and writes responses, one exchange at a
 * time; times itself out when idle or slow. Internal to `Server`.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import type * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as net from "node:net"
import { Readable } from "node:stream"
import * as Chunked from "../Chunked.js"
import * as Codec from "../Codec.js"
import type { Body, HttpRequest, HttpResponse } from "../Message.js"
import { empty } from "../Message.js"
import type { Handler } from "../Server.js"
import { abandon, Splice, type Upgraded } from "../Tunnel.js"
import { destroyAfterHeld, holdWrites } from "./HeldWrites.js"
import { copyOut, readBuffer } from "./ReadBuffer.js"

const codeOf = (status: number): string =>
  status === 431
    ? "HPE_HEADER_OVERFLOW"
    : status === 408
    ? "ERR_HTTP_REQUEST_TIMEOUT"
    : status === 417
    ? "EXPECTATION_FAILED"
    : status === 501
    ? "HPE_INVALID_TRANSFER_ENCODING"
    : status === 505
    ? "HPE_INVALID_VERSION"
    : "HPE_INVALID_REQUEST"

const continueLine = "HTTP/1.1 100 Continue\r\n\r\n"

/** Whether a `Connection` header lists `option` (a whole token, any case: `x-close` is not `close`). */
const hasOption = (value: string | Array<string> | undefined, option: string): boolean => {
  if (value === undefined) return false
  if (typeof value === "string" && value.length === option.length) return value.toLowerCase() === option
  const all = typeof value === "string" ? value : value.join(",")
  for (const part of all.split(",")) if (part.trim().toLowerCase() === option) return true
  return false
}

/** Upgrade = #protocol, protocol = protocol-name ["/" protocol-version] (RFC 9110 §7.8) */
const upgradeList =
  /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+)?(?:[ \t]*,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+)?)*$/

/**
 * What a request asks to switch to: `connect` for `CONNECT`; the `Upgrade` value when `Connection`
 * lists `upgrade` (HTTP/1.1 only: RFC 9110 §7.8 has a server ignore it in HTTP/1.0) and the request
 * has no body; `undefined` for an ordinary request; `false` for an `Upgrade` that is not a list of
 * protocols (400).
 */
const switchOf = (head: Codec.RequestHead, framing: Codec.Framing): "connect" | string | undefined | false => {
  if (head.method === "CONNECT") return "connect"
  const h = head.headers
  const upgrade = h["upgrade"]
  if (upgrade === undefined || head.version !== "1.1" || !hasOption(h["connection"], "upgrade")) return undefined
  const value = typeof upgrade === "string" ? upgrade.trim() : upgrade.map((v) => v.trim()).join(", ")
  if (!upgradeList.test(value)) return false
  return framing._tag === "None" ? value : undefined
}

/** Keeps an `error` event from being unhandled (a stream nobody else listens to). */
export const ignore = (): void => {}

/** Bytes of pipelined requests kept while one is in flight before the socket stops being read. */
const pipelineLimit = 64 * 1024

/**
 * Requests started per slice of the event loop. Past that, a connection whose request head arrived
 * waits its turn in one process-wide first-come-first-served queue, started at the end of the turn
 * (`setImmediate`) a slice at a time: a turn's length no longer grows with the number of busy
 * connections, so the loop polls its sockets (and accepts new connections, one per listening socket
 * per poll) often, and requests start in the order they arrived.
 */
const startsPerSlice = 64

const turns: { started: number; scheduled: boolean; head: number; readonly waiting: Array<Connection<any>> } = {
  started: 0,
  scheduled: false,
  head: 0,
  waiting: []
}

const slice = (): void => {
  turns.scheduled = false
  turns.started = 0
  const waiting = turns.waiting
  while (turns.head < waiting.length && turns.started < startsPerSlice) {
    const conn = waiting[turns.head]!
    waiting[turns.head++] = undefined!
    conn.deferred = false
    conn.parse()
    // its bytes did not complete a head: what it waits for now is the client, not the loop
    conn.queuedSince = 0
  }
  if (turns.head === waiting.length) {
    waiting.length = 0
    turns.head = 0
  } else schedule()
}

const schedule = (): void => {
  if (turns.scheduled) return
  turns.scheduled = true
  setImmediate(slice)
}

/**
 * A socket reading into the shared `readBuffer` (node's `onread` option) in place of `accepted`, which
 * `net.Server` built paused: each read reaches `conn.read` directly, without a readable stream's
 * push, `data` event, buffer slice and `nextTick` (about 2 % of a proxied request's CPU time and 3 %
 * of its allocations, docs/benchmarks.md). `net.Server` cannot give its sockets `onread`, so the
 * accepted socket hands its handle to a new one and stays behind, inert, until that one closes;
 * destroying it then keeps the server's count of connections. Where there is no handle to take (or
 * node refuses it), `accepted` itself is resumed and returned, to be read as a stream.
 */
const adoptSocket = (accepted: net.Socket, conn: { read(n: number, buf: Uint8Array): boolean }): net.Socket => {
  const owner = accepted as unknown as { _handle: { useUserBuffer?: unknown } | null }
  const handle = owner._handle
  if (handle === null || handle === undefined || typeof handle.useUserBuffer !== "function") {
    return accepted.resume()
  }
  owner._handle = null
  let socket: net.Socket
  try {
    socket = new net.Socket({
      handle,
      allowHalfOpen: true,
      onread: { buffer: readBuffer, callback: (n: number, buf: Uint8Array) => conn.read(n, buf) }
    } as net.SocketConstructorOpts)
  } catch {
    owner._handle = handle
    return accepted.resume()
  }
  socket.on("close", () => accepted.destroy())
  return socket
}

/** What every connection of one server shares. */
export interface Shared<R> {
  readonly run: (
    effect: Effect.Effect<HttpResponse, never, R>,
    options: { readonly onExit: (exit: Exit.Exit<HttpResponse>) => void }
  ) => () => void
  readonly handler: Handler<R>
  readonly maxHeaderBytes: number
  readonly bufferLimit: number
  readonly onClientError: ((status: number, code: string) => void) | undefined
  readonly onQueued: ((ms: number) => void) | undefined
  /** `inFlight`: requests being handled; `tunnels`: connections that became tunnels, still open (a drain waits for both) */
  readonly state: { draining: boolean; inFlight: number; tunnels: number; onIdle: (() => void) | undefined }
}

const enum Phase {
  /** waiting for (the rest of) a request head */
  Head,
  /** a request is being handled: its body may still be arriving, its response being written */
  Busy,
  /** the connection is a tunnel (after a 101 to an Upgrade, or a 2xx to a CONNECT) */
  Tunnel,
  /** the connection is finishing (after `Connection: close`, an error or a drain) */
  Closing
}

/**
 * One client connection: parses request heads, feeds bodies, runs the handler and writes responses,
 * one exchange at a time.
 */
export class Connection<R> {
  phase = Phase.Head
  /** unparsed bytes (the next request head, or pipelined requests while busy) */
  pending: Buffer | undefined = undefined
  /** how far `pending` was already searched for the end of a head */
  scanned = 0
  /** when the head being awaited started arriving (0: no byte yet) */
  headSince = 0
  /** when the connection became idle between requests (0: not idle) */
  idleSince: number
  readonly remote: string

  // the exchange in progress
  request: HttpRequest | undefined = undefined
  keepAlive = true
  /** bytes of a Content-Length body still to read; -1 chunked; 0 complete */
  bodyLeft = 0
  chunked: Chunked.Decoder | undefined = undefined
  collect: Array<Buffer> | undefined = undefined
  collectLength = 0
  bodyStream: Readable | undefined = undefined
  cancel: (() => void) | undefined = undefined
  responding = false
  responseSource: Readable | undefined = undefined
  responseChunked = false
  responseLeft = -1
  /** no exchange in flight (the last one answered, abandoned, or none yet) */
  finished = true
  parsing = false
  /** the client sent its FIN: answer what it already sent, then close */
  eof = false
  /** the last response is written but the socket's buffer is full: the next request waits for "drain" */
  awaitingDrain = false
  /** while closing: since when everything was sent and the client's FIN is awaited */
  lingerSince = 0
  /** what the request in flight asked to switch to (`connect`, or the upgrade's protocols) */
  switching: string | undefined = undefined
  /** the tunnel, once the connection became one */
  splice: Splice | undefined = undefined
  /** its request head waits in the queue of requests to start */
  deferred = false
  /** while deferred: since when (`performance.now()`); read when its request begins */
  queuedSince = 0

  readonly socket: net.Socket

  /**
   * `accepted` as `net.Server` handed it over, paused. With `adopt` (plain TCP), the connection reads
   * it through node's `onread` into the shared `readBuffer` (`adoptSocket`); otherwise it is read as a
   * stream of `data` events by the server.
   */
  constructor(accepted: net.Socket, adopt: boolean, readonly shared: Shared<R>, now: number) {
    this.socket = adopt ? adoptSocket(accepted, this) : accepted
    this.idleSince = now
    this.remote = `${this.socket.remoteAddress}:${this.socket.remotePort}`
  }

  /** `n` bytes read into the shared `readBuffer`, copied out at once. */
  read(n: number, buf: Uint8Array): boolean {
    this.onData(copyOut(n, buf))
    return true
  }

  onData(chunk: Buffer): void {
    if (this.splice !== undefined) return this.splice.fromClient(chunk)
    if (this.phase === Phase.Busy && this.bodyLeft !== 0 && this.request !== undefined) {
      const used = this.feedBody(chunk, 0)
      if (used < chunk.length) {
        this.queue(chunk.subarray(used))
        // the exchange may have finished synchronously: the rest is the next request
        if ((this.phase as Phase) === Phase.Head) this.parse()
      }
      return
    }
    if (this.phase === Phase.Closing) return
    this.queue(chunk)
    if (this.phase !== Phase.Head || this.deferred) return
    if (turns.started >= startsPerSlice || turns.head < turns.waiting.length) {
      this.deferred = true
      this.queuedSince = performance.now()
      turns.waiting.push(this)
      schedule()
      return
    }
    this.parse()
  }

  queue(chunk: Buffer): void {
    this.pending = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk])
    if (this.phase === Phase.Busy && this.pending.length > pipelineLimit) this.socket.pause()
    if (this.phase === Phase.Head && this.headSince === 0) this.headSince = performance.now()
  }

  parse(): void {
    if (this.parsing) return
    this.parsing = true
    try {
      this.parseLoop()
    } finally {
      this.parsing = false
    }
    if (this.eof && this.phase === Phase.Head) {
      this.phase = Phase.Closing
      this.socket.end()
    }
  }

  parseLoop(): void {
    const shared = this.shared
    while (this.phase === Phase.Head && this.pending !== undefined) {
      const buf = this.pending
      const start = Codec.skipLeadingBlankLines(buf, 0)
      if (start === buf.length) {
        this.pending = undefined
        this.scanned = 0
        this.headSince = 0
        return
      }
      const end = Codec.headEnd(buf, start, this.scanned)
      if (end < 0) {
        if (buf.length - start > shared.maxHeaderBytes) return this.reject(431)
        this.scanned = buf.length
        if (this.headSince === 0) this.headSince = performance.now()
        return
      }
      if (end - start > shared.maxHeaderBytes) return this.reject(431)
      const head = Codec.parseRequestHead(buf, start, end)
      if (head instanceof Codec.ParseError) return this.reject(head.status)
      const framing = Codec.requestFraming(head)
      if (framing instanceof Codec.ParseError) return this.reject(framing.status)
      const switching = switchOf(head, framing)
      // a CONNECT's content has no meaning (RFC 9110 §9.3.6): what follows its head is the tunnel's
      if (switching === false || (switching === "connect" && framing._tag !== "None")) return this.reject(400)
      const h = head.headers
      if (head.version === "1.1" && h["host"] === undefined) return this.reject(400)
      const expect = h["expect"]
      // RFC 9110 §10.1.1: an expectation in an HTTP/1.0 request is ignored
      if (expect !== undefined && head.version === "1.1") {
        if (typeof expect !== "string" || expect.toLowerCase() !== "100-continue") return this.reject(417)
        if (framing._tag !== "None") this.socket.write(continueLine, "latin1")
      }
      this.pending = end < buf.length ? buf.subarray(end) : undefined
      this.scanned = 0
      this.headSince = 0
      this.idleSince = 0
      this.begin(head, framing, switching)
    }
  }

  begin(head: Codec.RequestHead, framing: Codec.Framing, switching: string | undefined): void {
    if (turns.started++ === 0) schedule()
    if (this.queuedSince !== 0) {
      this.shared.onQueued?.(performance.now() - this.queuedSince)
      this.queuedSince = 0
    }
    this.phase = Phase.Busy
    this.finished = false
    this.responding = false
    this.cancel = undefined
    this.switching = switching
    const connection = head.headers["connection"]
    // a CONNECT not answered with a tunnel leaves the client's next bytes meaningless: close after the answer
    this.keepAlive = switching === "connect"
      ? false
      : head.version === "1.1"
      ? !hasOption(connection, "close")
      : hasOption(connection, "keep-alive")
    this.shared.state.inFlight++
    const upgrade = switching !== undefined && switching !== "connect" ? switching : undefined
    // two literal shapes: ordinary requests (nearly all) keep the one they always had
    const make = (body: Body): HttpRequest =>
      upgrade === undefined
        ? {
          method: head.method,
          url: head.target,
          version: head.version,
          headers: head.headers,
          body,
          remote: this.remote
        }
        : {
          method: head.method,
          url: head.target,
          version: head.version,
          headers: head.headers,
          body,
          remote: this.remote,
          upgrade
        }
    switch (framing._tag) {
      case "None":
      case "Close": {
        this.bodyLeft = 0
        return this.start(make(empty))
      }
      case "Length": {
        const rest = this.pending
        this.pending = undefined
        if (framing.length <= this.shared.bufferLimit) {
          this.bodyLeft = framing.length
          this.collect = []
          this.collectLength = 0
          this.request = make(empty)
          if (rest !== undefined) {
            const used = this.feedBody(rest, 0)
            if (used < rest.length) this.queue(rest.subarray(used))
          }
          return
        }
        this.bodyLeft = framing.length
        this.openBodyStream()
        this.start(make({ _tag: "Stream", stream: this.bodyStream!, length: framing.length }))
        if (rest !== undefined) this.onData(rest)
        return
      }
      case "Chunked": {
        const rest = this.pending
        this.pending = undefined
        this.bodyLeft = -1
        this.chunked = new Chunked.Decoder((data) => this.pushBody(data))
        this.openBodyStream()
        this.start(make({ _tag: "Stream", stream: this.bodyStream! }))
        if (rest !== undefined) this.onData(rest)
      }
    }
  }

  openBodyStream(): void {
    const socket = this.socket
    this.bodyStream = new Readable({
      read: () => {
        if (socket.isPaused()) socket.resume()
      },
      destroy: (err, cb) => {
        if (this.bodyLeft !== 0 && this.bodyStream !== undefined) {
          // the handler gave up on the body: the connection cannot be reused
          this.keepAlive = false
          this.bodyStream = undefined
          if (socket.isPaused()) socket.resume()
        }
        cb(err)
      }
    })
    // a handler that never reads the body must not crash the process when it fails
    this.bodyStream.on("error", ignore)
  }

  pushBody(data: Buffer): void {
    const stream = this.bodyStream
    if (stream !== undefined && !stream.push(data)) this.socket.pause()
  }

  /** Takes body bytes from `buf` starting at `from`; returns how many were the body's. */
  feedBody(buf: Buffer, from: number): number {
    if (this.chunked !== undefined) {
      const used = this.chunked.push(buf, from)
      if (used instanceof Codec.ParseError) {
        this.bodyFailed(
          `malformed request body: ${used.reason}`,
          used.status,
          used.status === 431 ? "HPE_HEADER_OVERFLOW" : "HPE_INVALID_CHUNK_SIZE"
        )
        return buf.length - from
      }
      if (this.chunked.done) {
        this.chunked = undefined
        this.bodyDone()
      }
      return used
    }
    const take = Math.min(this.bodyLeft, buf.length - from)
    const piece = from === 0 && take === buf.length ? buf : buf.subarray(from, from + take)
    this.bodyLeft -= take
    if (this.collect !== undefined) {
      this.collect.push(piece)
      this.collectLength += take
    } else this.pushBody(piece)
    if (this.bodyLeft === 0) this.bodyDone()
    return take
  }

  bodyDone(): void {
    this.bodyLeft = 0
    const collect = this.collect
    if (collect !== undefined) {
      this.collect = undefined
      const data = collect.length === 1 ? Buffer.from(collect[0]!) : Buffer.concat(collect, this.collectLength)
      const request = this.request!
      this.start({ ...request, body: { _tag: "Buffered", data } })
      return
    }
    const stream = this.bodyStream
    this.bodyStream = undefined
    if (stream !== undefined) stream.push(null)
    if (this.finished) this.next()
  }

  bodyFailed(message: string, status: number, code: string): void {
    this.keepAlive = false
    const responding = this.responding
    this.phase = Phase.Closing
    const stream = this.bodyStream
    this.bodyStream = undefined
    this.bodyLeft = 0
    this.chunked = undefined
    this.pending = undefined
    if (stream !== undefined) stream.destroy(new Error(message))
    if (responding) {
      // the response has started: all the client can learn is that the connection broke
      destroyAfterHeld(this.socket)
      return
    }
    this.shared.onClientError?.(status, code)
    this.writeBare(status)
    this.socket.end()
    if (this.socket.isPaused()) this.socket.resume()
    const cancel = this.cancel
    this.cancel = undefined
    if (cancel !== undefined) cancel()
    else this.done()
  }

  start(request: HttpRequest): void {
    this.request = request
    let exited = false
    const cancel = this.shared.run(this.shared.handler(request), {
      onExit: (exit) => {
        exited = true
        this.cancel = undefined
        if (this.phase === Phase.Closing) {
          if (exit._tag === "Success") {
            if (exit.value.body._tag === "Stream") exit.value.body.stream.destroy()
            if (exit.value.tunnel !== undefined) abandon(exit.value.tunnel)
          }
          return this.done()
        }
        if (exit._tag === "Success") this.respond(exit.value)
        else if (Cause.hasInterruptsOnly(exit.cause)) {
          destroyAfterHeld(this.socket)
          this.done()
        } else {
          // a bare 500: the defect's text (stack traces, internals) is not the client's business
          this.respond({ status: 500, headers: { "l5d-err": "Internal+error" }, body: empty })
        }
      }
    })
    if (!exited) this.cancel = cancel
  }

  respond(response: HttpResponse): void {
    const socket = this.socket
    const tunnel = response.tunnel
    if (socket.destroyed) {
      if (response.body._tag === "Stream") response.body.stream.destroy()
      if (tunnel !== undefined) abandon(tunnel)
      this.phase = Phase.Closing
      return this.done()
    }
    if (tunnel !== undefined) {
      const switching = this.switching
      const status = response.status
      if (
        switching === "connect" ? status >= 200 && status < 300 : switching !== undefined && status === 101
      ) return this.switchTo(response, tunnel)
      // a tunnel nobody asked for (or with the wrong status): an ordinary response, without it
      abandon(tunnel)
      return this.respond({ status: response.status, headers: response.headers, body: response.body })
    }
    this.responding = true
    const request = this.request!
    const status = response.status
    const headers = response.headers
    const body = response.body
    if (!(status >= 200 && status <= 999) || status % 1 !== 0) {
      // a 1xx would be taken for an interim answer (the next response then answering this request)
      if (body._tag === "Stream") body.stream.destroy()
      return this.respond({
        status: 502,
        headers: { "content-type": "text/plain", "l5d-err": "Invalid+response+status" },
        body: { _tag: "Buffered", data: Buffer.from(`invalid response status ${String(status).slice(0, 16)}`) }
      })
    }
    const noBody = request.method === "HEAD" || status === 204 || status === 304
    const shared = this.shared
    if (shared.state.draining || this.bodyLeft !== 0) this.keepAlive = false
    let extra = this.keepAlive
      ? (request.version === "1.0" ? "connection: keep-alive\r\n" : "")
      : "connection: close\r\n"
    // the framing (none, a length, chunked or until the close) goes into `extra`; the head is then
    // written and checked in one pass, before anything is sent
    let omit: Codec.Omitted = "framing"
    let left = -1
    let closes = false
    if (noBody) {
      // RFC 9110 §8.6: no Content-Length in a 204 (a client could wait for that many bytes)
      omit = status === 204 ? "framing" : "framing-but-length"
    } else if (body._tag === "Empty") {
      extra += "content-length: 0\r\n"
    } else if (body._tag === "Buffered") {
      extra += "content-length: " + body.data.length + "\r\n"
    } else if (body.length !== undefined && body.length >= 0 && body.length % 1 === 0) {
      // a length that is not a byte count (NaN, negative, fractional) is as good as none
      extra += "content-length: " + body.length + "\r\n"
      left = body.length
    } else if (request.version === "1.1") {
      extra += "transfer-encoding: chunked\r\n"
    } else {
      if (this.keepAlive) extra = "connection: close\r\n"
      closes = true
    }
    const head = Codec.checkedResponseHead(status, headers, extra, omit)
    if (head === undefined) {
      if (body._tag === "Stream") body.stream.destroy()
      return this.respond({
        status: 502,
        headers: { "content-type": "text/plain", "l5d-err": "Invalid+response+headers" },
        body: {
          _tag: "Buffered",
          data: Buffer.from(`invalid response header ${JSON.stringify(Codec.invalidHeader(headers) ?? "")}`)
        }
      })
    }
    holdWrites(socket)
    if (noBody) {
      if (body._tag === "Stream") body.stream.on("error", ignore).resume()
      socket.write(head, "latin1")
      return this.finish()
    }
    switch (body._tag) {
      case "Empty": {
        socket.write(head, "latin1")
        return this.finish()
      }
      case "Buffered": {
        Codec.writeMessage(socket, head, body.data)
        return this.finish()
      }
      case "Stream": {
        const src = body.stream
        if (closes) this.keepAlive = false
        this.responseLeft = left
        this.responseChunked = left === -1 && !closes
        socket.write(head, "latin1")
        this.responseSource = src
        // an error, or a destroy without one (only "close"), before the end breaks the response
        const broken = () => this.sourceBroken(src)
        src.on("data", (chunk: Buffer) => this.sendChunk(chunk))
        src.once("end", () => this.sourceEnded())
        src.on("error", broken)
        src.once("close", broken)
        if (src.readableEnded) this.sourceEnded()
        else if (src.destroyed) this.sourceBroken(src)
      }
    }
  }

  /**
   * Answers with the head of `response` (`101` with this hop's `Connection: upgrade` and the
   * upstream's `Upgrade`, or a `2xx` to a `CONNECT` without framing headers, RFC 9110 §9.3.6) and
   * turns the connection into a tunnel to `tunnel`'s socket. The exchange is over: the tunnel holds
   * no request slot.
   */
  switchTo(response: HttpResponse, tunnel: Upgraded): void {
    const socket = this.socket
    if (response.body._tag === "Stream") response.body.stream.on("error", ignore).destroy()
    let headers = response.headers
    if (headers["upgrade"] !== undefined) {
      headers = { ...headers }
      delete headers["upgrade"]
    }
    const connect = this.switching === "connect"
    const extra = connect || tunnel.protocol === undefined
      ? ""
      : "connection: upgrade\r\nupgrade: " + tunnel.protocol + "\r\n"
    let head = Codec.writeResponseHead(response.status, headers, extra, "framing")
    if (connect && response.status === 200) head = "HTTP/1.1 200 Connection established" + head.slice(15)
    socket.write(head, "latin1")
    this.responding = false
    this.finished = true
    this.phase = Phase.Tunnel
    const state = this.shared.state
    state.inFlight--
    state.tunnels++
    const early = this.pending
    this.pending = undefined
    this.splice = new Splice(socket, tunnel, early, this.eof, () => {
      state.tunnels--
      if (state.inFlight === 0 && state.tunnels === 0 && state.onIdle !== undefined) state.onIdle()
    })
    if (state.inFlight === 0 && state.tunnels === 0 && state.onIdle !== undefined) state.onIdle()
  }

  sendChunk(chunk: Buffer | string): void {
    const socket = this.socket
    if (typeof chunk === "string") chunk = Buffer.from(chunk, "utf8")
    else if (!(chunk instanceof Uint8Array)) {
      // an object-mode stream of something else: not bytes, the response cannot go on
      this.responseSource?.destroy()
      destroyAfterHeld(socket)
      return
    }
    if (chunk.length === 0 || socket.destroyed) return
    holdWrites(socket)
    let ok: boolean
    if (this.responseChunked) {
      socket.cork()
      socket.write(Chunked.chunkHeader(chunk.length), "latin1")
      socket.write(chunk)
      ok = socket.write("\r\n", "latin1")
      socket.uncork()
    } else if (this.responseLeft >= 0) {
      if (chunk.length > this.responseLeft) {
        // more bytes than the declared length: the framing is broken, so is the connection
        this.responseSource?.destroy()
        destroyAfterHeld(socket)
        return
      }
      this.responseLeft -= chunk.length
      ok = socket.write(chunk)
    } else ok = socket.write(chunk)
    if (!ok) this.responseSource?.pause()
  }

  sourceBroken(src: Readable): void {
    if (this.responseSource !== src) return
    this.responseSource = undefined
    destroyAfterHeld(this.socket)
  }

  sourceEnded(): void {
    if (this.responseSource === undefined) return
    this.responseSource = undefined
    if (this.responseChunked) {
      holdWrites(this.socket)
      this.socket.write(Chunked.lastChunk, "latin1")
    } else if (this.responseLeft > 0) {
      destroyAfterHeld(this.socket)
      return
    }
    this.finish()
  }

  /** The response is written whole. */
  finish(): void {
    this.responding = false
    this.finished = true
    this.shared.state.inFlight--
    if (!this.keepAlive) {
      this.phase = Phase.Closing
      this.socket.end()
      // read and drop what the client still sends (a body nobody read), so it gets this response, not a reset
      if (this.socket.isPaused()) this.socket.resume()
    } else if (this.bodyLeft === 0) this.next()
    const state = this.shared.state
    if (state.inFlight === 0 && state.tunnels === 0 && state.onIdle !== undefined) state.onIdle()
  }

  /** Ready for the next request on this connection. */
  next(): void {
    if (this.phase !== Phase.Busy) return
    if (this.socket.writableNeedDrain) {
      // the client is not reading its responses: take no new request until it does ("drain")
      this.awaitingDrain = true
      return
    }
    this.phase = Phase.Head
    this.request = undefined
    this.idleSince = performance.now()
    if (this.socket.isPaused()) this.socket.resume()
    if (this.pending !== undefined || this.eof) this.parse()
  }

  /** The exchange ended without a response being written (interrupted, or the client left). */
  done(): void {
    if (this.finished) return
    this.finished = true
    this.responding = false
    const state = this.shared.state
    state.inFlight--
    if (state.inFlight === 0 && state.tunnels === 0 && state.onIdle !== undefined) state.onIdle()
  }

  writeBare(status: number): void {
    if (!this.socket.writable) return
    this.socket.write(
      `HTTP/1.1 ${status} ${Codec.reasonPhrase(status)}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
      "latin1"
    )
  }

  /**
   * Answers `status` and closes the sending side; what the client still sends is read and dropped
   * (a lingering close, so that it gets the answer rather than a reset), until it closes too or
   * the sweep gives up on it.
   */
  reject(status: number): void {
    this.phase = Phase.Closing
    this.pending = undefined
    this.shared.onClientError?.(status, codeOf(status))
    this.writeBare(status)
    this.socket.end()
  }

  /** The client finished sending: answer what it sent (pipelined requests included), then close. */
  ended(): void {
    this.eof = true
    if (this.splice !== undefined) return this.splice.clientEnd()
    // what it sent waits in the queue: answered when its turn comes, then the connection closes
    if (this.deferred) return
    if (this.phase === Phase.Busy) {
      // a tunnel's client may send its last bytes and FIN before the answer: they are the tunnel's
      if (this.switching !== undefined && !this.responding && !this.finished) return
      if (this.bodyLeft !== 0) {
        this.bodyFailed("the client ended the connection within the request body", 400, "HPE_INVALID_EOF_STATE")
      } else if (!this.responding && !this.finished) {
        // as node:http and linkerd: a client that closes its side has given up on the request, so the
        // handler is interrupted (its upstream call cancelled) rather than left to run for nobody
        destroyAfterHeld(this.socket)
      }
      return
    }
    this.phase = Phase.Closing
    this.socket.end()
  }

  /** The socket closed (by either side). */
  closed(): void {
    if (this.splice !== undefined) return this.splice.clientClosed()
    this.phase = Phase.Closing
    this.pending = undefined
    const stream = this.bodyStream
    this.bodyStream = undefined
    if (stream !== undefined && this.bodyLeft !== 0) stream.destroy(new Error("client closed the connection"))
    const src = this.responseSource
    this.responseSource = undefined
    if (src !== undefined) src.destroy()
    if (!this.finished) {
      const cancel = this.cancel
      this.cancel = undefined
      if (cancel !== undefined) cancel()
      else this.done()
    }
  }

  /**
   * Closes the connection if it has been idle or slow for too long; destroys a closing one whose
   * client has not closed its side within `keepAliveTimeout` of everything being sent.
   */
  sweep(now: number, headersTimeout: number, keepAliveTimeout: number): void {
    if (this.phase === Phase.Closing) {
      // still sending: a slow reader is not cut (no more than while busy); all sent: wait for its FIN
      if (this.lingerSince === 0 || this.socket.writableLength > 0) this.lingerSince = now
      else if (now - this.lingerSince > keepAliveTimeout) destroyAfterHeld(this.socket)
      return
    }
    if (this.phase !== Phase.Head) return
    if (this.headSince > 0) {
      if (now - this.headSince > headersTimeout) {
        this.phase = Phase.Closing
        this.shared.onClientError?.(408, codeOf(408))
        this.writeBare(408)
        this.socket.end()
      }
    } else if (this.idleSince > 0 && now - this.idleSince > keepAliveTimeout) {
      this.phase = Phase.Closing
      this.socket.end()
    }
  }

  /** Waiting for a request with no byte of one received. */
  get idle(): boolean {
    return this.phase === Phase.Head && this.headSince === 0
  }

  /** Finishing: no further request will be read. */
  get closing(): boolean {
    return this.phase === Phase.Closing
  }

  /** Closes an idle connection (a drain). */
  close(): void {
    this.phase = Phase.Closing
    this.socket.end()
  }
}
