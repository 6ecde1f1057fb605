/**
 * linkerd 1.x's HTTP access log (`httpAccessLog`): one line per request attempt that reached a
 * client, in Apache's combined format prefixed by the `Host` header:
 *
 * ```
 * web 127.0.0.1 - - [25/11/2026:22:17:01 +0000] "GET /books/1 HTTP/1.1" 200 42 "-" "curl/8.5.0"
 * ```
 *
 * `line` formats one line (pure); `make` opens the file in the current scope and returns a writer
 * whose `log` never blocks: lines go through one buffered write stream, flushed when the scope
 * closes. `/dev/stdout` and `/dev/stderr` write to the process's own streams (never opened,
 * truncated or closed). A write error is logged once and later lines are dropped.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import type { Writable } from "node:stream"
import type { HttpRequest, HttpResponse } from "./Message.js"

/**
 * The access log could not be opened.
 *
 * @since 0.1.0
 * @category errors
 */
export class AccessLogError extends Data.TaggedError("AccessLogError")<{
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    return `cannot open the access log ${JSON.stringify(this.path)}: ${this.reason}`
  }
}

/**
 * A running access-log writer.
 *
 * @since 0.1.0
 * @category model
 */
export interface AccessLog {
  /** The file written. */
  readonly path: string
  /** Appends the line of one attempt (formatted with `line` at the current time). Never blocks or throws. */
  readonly log: (request: HttpRequest, response: HttpResponse) => void
  /** Lines dropped (after a write error, or while more than `maxBufferedBytes` wait to be written). */
  readonly dropped: () => number
}

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** The file to write; `/dev/stdout` and `/dev/stderr` are the process's streams. */
  readonly path: string
  /** Append to an existing file (`true`, the default, as linkerd's `httpAccessLogAppend`) or truncate it. */
  readonly append?: boolean | undefined
  /** Lines waiting to be written beyond this many bytes are dropped instead of buffered. Defaults to 16 MiB. */
  readonly maxBufferedBytes?: number | undefined
}

const pad2 = (n: number): string => n < 10 ? "0" + n : String(n)

const months = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]

const zone = (date: Date): string => {
  const offset = -date.getTimezoneOffset()
  const abs = Math.abs(offset)
  return (offset < 0 ? "-" : "+") + pad2(Math.floor(abs / 60)) + pad2(abs % 60)
}

/**
 * The timestamp of a line: `dd/MM/yyyy:HH:mm:ss +hhmm`, in the local time zone.
 *
 * @since 0.1.0
 * @category formatting
 */
export const timestamp = (date: Date): string =>
  `${pad2(date.getDate())}/${months[date.getMonth()]}/${date.getFullYear()}:${pad2(date.getHours())}:${
    pad2(date.getMinutes())
  }:${pad2(date.getSeconds())} ${zone(date)}`

const first = (v: string | Array<string> | undefined): string | undefined =>
  v === undefined ? undefined : typeof v === "string" ? v : v[0]

const orDash = (v: string | Array<string> | undefined): string => {
  const s = first(v)
  return s === undefined || s === "" ? "-" : s
}

/** The peer's host from `remote` (`ip:port`, `[v6]:port` or `v6:port`). */
const remoteHost = (remote: string | undefined): string => {
  if (remote === undefined || remote === "") return "-"
  const colon = remote.lastIndexOf(":")
  if (colon <= 0) return remote
  const host = remote.slice(0, colon)
  return host.charCodeAt(0) === 91 && host.charCodeAt(host.length - 1) === 93 ? host.slice(1, -1) : host
}

const contentLength = (response: HttpResponse): string => {
  const h = first(response.headers["content-length"])
  if (h !== undefined && h !== "") return h
  const body = response.body
  if (body._tag === "Buffered") return String(body.data.length)
  if (body._tag === "Stream" && body.length !== undefined) return String(body.length)
  return "-"
}

/**
 * One access-log line (with its newline) for an attempt: `<Host|-> <remoteHost> - - [<time>]
 * "<METHOD> <uri> HTTP/<version>" <status> <content-length|-> "<Referer|->" "<User-Agent|->"`.
 * Content length is the response's `Content-Length`, else the buffered body's length, else `-`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const line = (request: HttpRequest, response: HttpResponse, now: Date): string => {
  const h = request.headers
  return `${orDash(h["host"])} ${remoteHost(request.remote)} - - [${
    timestamp(now)
  }] "${request.method} ${request.url} HTTP/${request.version}" ${response.status} ${contentLength(response)} "${
    orDash(h["referer"])
  }" "${orDash(h["user-agent"])}"\n`
}

const open = (path: string, append: boolean): Effect.Effect<number, AccessLogError> =>
  Effect.callback<number, AccessLogError>((resume) => {
    fs.open(path, append ? "a" : "w", 0o644, (err, fd) => {
      if (err !== null) resume(Effect.fail(new AccessLogError({ path, reason: err.message })))
      else resume(Effect.succeed(fd))
    })
  })

const close = (stream: fs.WriteStream): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (stream.destroyed || stream.closed) return resume(Effect.void)
    const done = () => resume(Effect.void)
    stream.once("close", done)
    stream.once("error", done)
    stream.end()
  })

/**
 * Opens the access log in the current scope (appending unless `append` is `false`). Fails with an
 * `AccessLogError` when the file cannot be opened; closing the scope flushes and closes it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<AccessLog, AccessLogError, Scope.Scope> =>
  Effect.gen(function*() {
    const path = options.path
    const maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024
    const context = yield* Effect.context<never>()
    let out: Writable
    if (path === "/dev/stdout" || path === "/dev/stderr") {
      out = path === "/dev/stdout" ? process.stdout : process.stderr
    } else {
      const fd = yield* open(path, options.append ?? true)
      const stream = fs.createWriteStream(path, { fd, autoClose: true })
      yield* Effect.addFinalizer(() => close(stream))
      out = stream
    }
    let failed = false
    let dropped = 0
    const onError = (e: Error) => {
      if (failed) return
      failed = true
      Effect.runForkWith(context)(
        Effect.logError(`access log ${JSON.stringify(path)}: write failed, dropping further lines: ${e.message}`)
      )
    }
    out.on("error", onError)
    yield* Effect.addFinalizer(() => Effect.sync(() => out.off("error", onError)))
    const log = (request: HttpRequest, response: HttpResponse): void => {
      if (failed || out.writableLength > maxBuffered) {
        dropped++
        return
      }
      try {
        out.write(line(request, response, new Date()))
      } catch (e) {
        dropped++
        onError(e instanceof Error ? e : new Error(String(e)))
      }
    }
    return { path, log, dropped: () => dropped }
  })
