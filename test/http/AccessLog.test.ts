import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import * as AccessLog from "../../src/http/AccessLog.js"
import * as Message from "../../src/http/transport/Message.js"

/** 5 March 2026, 07:08:09 local time. */
const when = new Date(2026, 2, 5, 7, 8, 9)

const zone = (() => {
  const offset = -when.getTimezoneOffset()
  const abs = Math.abs(offset)
  const two = (n: number) => String(n).padStart(2, "0")
  return `${offset < 0 ? "-" : "+"}${two(Math.floor(abs / 60))}${two(abs % 60)}`
})()

const withRemote = (request: Message.HttpRequest, remote: string): Message.HttpRequest => ({ ...request, remote })

describe("AccessLog.line", () => {
  it("formats linkerd's line: Host, remote host, local time, request line, status, length, referer, agent", () => {
    const request = withRemote(
      Message.request({
        url: "/books/1?x=2",
        headers: { host: "web", referer: "http://a/b", "user-agent": "curl/8.5.0" }
      }),
      "10.0.0.7:51234"
    )
    const response = Message.response(200, "hello", { "content-length": "5" })
    expect(AccessLog.line(request, response, when)).toBe(
      `web 10.0.0.7 - - [05/03/2026:07:08:09 ${zone}] "GET /books/1?x=2 HTTP/1.1" 200 5 "http://a/b" "curl/8.5.0"\n`
    )
  })

  it("writes - for a missing Host, Referer, User-Agent, remote and length", () => {
    const request = Message.request({ method: "POST", url: "/", version: "1.0" })
    const response: Message.HttpResponse = { status: 502, headers: {}, body: Message.streamed(new PassThrough()) }
    expect(AccessLog.line(request, response, when)).toBe(
      `- - - - [05/03/2026:07:08:09 ${zone}] "POST / HTTP/1.0" 502 - "-" "-"\n`
    )
  })

  it("takes the length from a buffered body, or a stream's declared length, without a Content-Length", () => {
    const request = Message.request({ url: "/", headers: { host: ["first", "second"] } })
    const buffered = AccessLog.line(request, Message.response(404, "nope"), when)
    expect(buffered).toContain(`"GET / HTTP/1.1" 404 4 `)
    expect(buffered.startsWith("first ")).toBe(true)
    const stream: Message.HttpResponse = { status: 200, headers: {}, body: Message.streamed(new PassThrough(), 77) }
    expect(AccessLog.line(request, stream, when)).toContain(`" 200 77 "`)
  })

  it("strips the port from IPv4 and IPv6 peers", () => {
    const request = Message.request({ url: "/" })
    const ok = Message.response(200)
    expect(AccessLog.line(withRemote(request, "[::1]:4000"), ok, when).split(" ")[1]).toBe("::1")
    expect(AccessLog.line(withRemote(request, "::ffff:127.0.0.1:4000"), ok, when).split(" ")[1]).toBe(
      "::ffff:127.0.0.1"
    )
  })

  it("pads the timestamp and shows the local offset", () => {
    expect(AccessLog.timestamp(new Date(2026, 10, 25, 23, 0, 0))).toBe(`25/11/2026:23:00:00 ${zone}`)
  })

  it("shows a negative offset west of UTC", () => {
    const saved = process.env.TZ
    process.env.TZ = "America/New_York"
    try {
      expect(AccessLog.timestamp(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe("01/01/2026:22:04:05 -0500")
    } finally {
      if (saved === undefined) delete process.env.TZ
      else process.env.TZ = saved
    }
  })
})

describe("AccessLog.make", () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-access-log-"))

  it.live("appends by default and flushes when the scope closes", () =>
    Effect.gen(function*() {
      const file = join(dir, "append.log")
      writeFileSync(file, "old\n")
      yield* Effect.scoped(Effect.gen(function*() {
        const log = yield* AccessLog.make({ path: file })
        log.log(Message.request({ url: "/a", headers: { host: "h" } }), Message.response(200, "x"))
        log.log(Message.request({ url: "/b", headers: { host: "h" } }), Message.response(500, "y"))
      }))
      const lines = readFileSync(file, "utf8").split("\n")
      expect(lines[0]).toBe("old")
      expect(lines[1]).toMatch(/^h - - - \[.*\] "GET \/a HTTP\/1\.1" 200 1 "-" "-"$/)
      expect(lines[2]).toMatch(/"GET \/b HTTP\/1\.1" 500 1 /)
      expect(lines.length).toBe(4)
    }))

  it.live("truncates with append: false", () =>
    Effect.gen(function*() {
      const file = join(dir, "truncate.log")
      writeFileSync(file, "old\n")
      yield* Effect.scoped(Effect.gen(function*() {
        const log = yield* AccessLog.make({ path: file, append: false })
        log.log(Message.request({ url: "/a" }), Message.response(204))
      }))
      expect(readFileSync(file, "utf8")).toMatch(/^- - - - \[.*\] "GET \/a HTTP\/1\.1" 204 - "-" "-"\n$/)
    }))

  it.live("fails with a clear error when the file cannot be opened", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(AccessLog.make({ path: join(dir, "missing", "x.log") })))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) {
        expect(String(exit.cause)).toContain("cannot open the access log")
        expect(String(exit.cause)).toContain("missing")
      }
    }))

  it.live("drops lines after a write error instead of failing, and reports it once", () =>
    Effect.gen(function*() {
      const messages: Array<unknown> = []
      const capture = Logger.make((options) => {
        messages.push(options.message)
      })
      yield* Effect.scoped(Effect.gen(function*() {
        const log = yield* AccessLog.make({ path: "/dev/full" })
        const request = Message.request({ url: "/" })
        log.log(request, Message.response(200))
        // wait for the write to fail (ENOSPC), then later lines are dropped
        for (let i = 0; i < 200 && log.dropped() === 0; i++) {
          yield* Effect.sleep("5 millis")
          log.log(request, Message.response(200))
        }
        expect(log.dropped()).toBeGreaterThan(0)
        log.log(request, Message.response(200))
        yield* Effect.sleep("5 millis")
      })).pipe(Effect.provideService(Logger.CurrentLoggers, new Set([capture])))
      expect(messages.length).toBe(1)
      expect(String(messages[0])).toContain(`access log "/dev/full": write failed`)
    }))

  it.live("writes to /dev/stderr without closing it", () =>
    Effect.gen(function*() {
      yield* Effect.scoped(Effect.gen(function*() {
        const log = yield* AccessLog.make({ path: "/dev/stderr" })
        expect(log.path).toBe("/dev/stderr")
      }))
      expect(process.stderr.destroyed).toBe(false)
    }))
})
