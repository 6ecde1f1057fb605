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
 * truncated, rolled or closed). A write error is logged once and later lines are dropped. Files are
 * rolled by `rollPolicy` (see `RollPolicy.ts`), keeping `rotateCount` of them.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import type { Writable } from "node:stream"
import * as RollPolicy from "./RollPolicy.js"
import type { HttpRequest, HttpResponse } from "./transport/Message.js"

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
  /** When to roll the file (linkerd's `httpAccessLogRollPolicy`). Defaults to never. */
  readonly rollPolicy?: RollPolicy.RollPolicy | undefined
  /** Rolled files kept (`<path>.1` the newest); `-1`, the default, keeps them all. */
  readonly rotateCount?: number | undefined
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
    if (!stream.writableEnded) stream.end()
  })

/**
 * Shifts the rolled files of `path` up by one (`path.1` → `path.2` …, the oldest beyond `keep`
 * removed; `keep` `-1` keeps all) and renames `path` to `path.1`. Synchronous: it runs once per roll.
 */
const shift = (path: string, keep: number): void => {
  let top = 1
  while (fs.existsSync(`${path}.${top}`)) top++
  // `top` is the first free index; with a limit, files from `keep` up are dropped
  if (keep >= 0) {
    for (let i = top - 1; i >= Math.max(keep, 1); i--) fs.rmSync(`${path}.${i}`, { force: true })
    top = Math.min(top, Math.max(keep, 1))
  }
  for (let i = top - 1; i >= 1; i--) fs.renameSync(`${path}.${i}`, `${path}.${i + 1}`)
  if (keep === 0) fs.rmSync(path, { force: true })
  else fs.renameSync(path, `${path}.1`)
}

/**
 * Opens the access log in the current scope (appending unless `append` is `false`). Fails with an
 * `AccessLogError` when the file cannot be opened; closing the scope flushes and closes it.
 *
 * With a `rollPolicy`, the file is rolled before the line that is due after the roll time (time
 * policies, read from the `Clock`) or that would take it past the size: `path` is renamed to
 * `path.1` (earlier ones shifted to `path.2` …, at most `rotateCount` kept) and a new `path` is
 * started; lines still buffered for the old file land in `path.1`. A roll that fails is logged and
 * writing goes on in the current file. `/dev/stdout` and `/dev/stderr` are never rolled.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<AccessLog, AccessLogError, Scope.Scope> =>
  Effect.gen(function*() {
    const path = options.path
    const maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024
    const context = yield* Effect.context<never>()
    const clock = yield* Clock.Clock
    const std = path === "/dev/stdout" || path === "/dev/stderr"
    const policy = std ? RollPolicy.never : options.rollPolicy ?? RollPolicy.never
    const keep = options.rotateCount ?? -1
    let out: Writable
    let size = 0
    let failed = false
    let dropped = 0
    const report = (message: string) =>
      Effect.runForkWith(context)(Effect.logError(`access log ${JSON.stringify(path)}: ${message}`))
    const onError = (e: Error) => {
      if (failed) return
      failed = true
      report(`write failed, dropping further lines: ${e.message}`)
    }
    if (std) {
      out = path === "/dev/stdout" ? process.stdout : process.stderr
    } else {
      const fd = yield* open(path, options.append ?? true)
      size = policy._tag === "MaxSize" ? fs.fstatSync(fd).size : 0
      out = fs.createWriteStream(path, { fd, autoClose: true })
    }
    out.on("error", onError)
    const rolled: Array<fs.WriteStream> = []
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        out.off("error", onError)
        return std ? Effect.void : Effect.forEach([...rolled, out as fs.WriteStream], close, { discard: true })
      })
    )
    let due = RollPolicy.nextRoll(policy, clock.currentTimeMillisUnsafe())
    const roll = (now: number): void => {
      let fd: number
      try {
        shift(path, keep)
        fd = fs.openSync(path, "w", 0o644)
      } catch (e) {
        report(`roll failed, writing on in the current file: ${e instanceof Error ? e.message : String(e)}`)
        return
      }
      const old = out as fs.WriteStream
      old.off("error", onError)
      old.on("error", () => {})
      old.end()
      rolled.push(old)
      old.once("close", () => rolled.splice(rolled.indexOf(old), 1))
      out = fs.createWriteStream(path, { fd, autoClose: true })
      out.on("error", onError)
      size = 0
      due = RollPolicy.nextRoll(policy, now)
    }
    const log = (request: HttpRequest, response: HttpResponse): void => {
      if (failed || out.writableLength > maxBuffered) {
        dropped++
        return
      }
      try {
        const text = line(request, response, new Date())
        if (policy._tag === "MaxSize") {
          const bytes = Buffer.byteLength(text)
          if (size > 0 && size + bytes > policy.bytes) roll(0)
          size += bytes
        } else if (due !== undefined) {
          const now = clock.currentTimeMillisUnsafe()
          if (now >= due) roll(now)
        }
        out.write(text)
      } catch (e) {
        dropped++
        onError(e instanceof Error ? e : new Error(String(e)))
      }
    }
    return { path, log, dropped: () => dropped }
  })
