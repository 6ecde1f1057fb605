import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { TestClock } from "effect/testing"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as AccessLog from "../../src/http/AccessLog.js"
import * as RollPolicy from "../../src/http/RollPolicy.js"
import * as Message from "../../src/http/transport/Message.js"
import * as Config from "../../src/proxy/Config.js"
import * as ConfigJson from "../../src/proxy/ConfigJson.js"

const request = (url: string) => Message.request({ url, headers: { host: "h" } })
const ok = Message.response(200, "x")
const urls = (file: string) =>
  existsSync(file) ? [...readFileSync(file, "utf8").matchAll(/"GET (\S+) HTTP/g)].map((m) => m[1]) : undefined

describe("RollPolicy", () => {
  it("parses linkerd's policies, case-insensitively", () => {
    expect(RollPolicy.parse("never")).toEqual(Result.succeed(RollPolicy.never))
    expect(RollPolicy.parse("Daily")).toEqual(Result.succeed({ _tag: "Daily" }))
    expect(RollPolicy.parse("hourly")).toEqual(Result.succeed({ _tag: "Hourly" }))
    expect(RollPolicy.parse("Weekly(2)")).toEqual(Result.succeed({ _tag: "Weekly", dayOfWeek: 2 }))
    expect(RollPolicy.parse("100.megabytes")).toEqual(Result.succeed({ _tag: "MaxSize", bytes: 100 * 1024 * 1024 }))
    expect(RollPolicy.parse("1.gigabyte")).toEqual(Result.succeed({ _tag: "MaxSize", bytes: 1024 ** 3 }))
    expect(RollPolicy.parse("10.bytes")).toEqual(Result.succeed({ _tag: "MaxSize", bytes: 10 }))
    for (const bad of ["weekly", "weekly(8)", "sighup", "3.parsecs", "0.bytes", "often"]) {
      expect(Result.isFailure(RollPolicy.parse(bad))).toBe(true)
    }
  })

  it("rolls time policies at the next hour, local midnight, and midnight of the given weekday", () => {
    const wed = new Date(2026, 2, 4, 13, 45, 10).getTime() // a Wednesday
    expect(RollPolicy.nextRoll({ _tag: "Hourly" }, wed)).toBe(new Date(2026, 2, 4, 14).getTime())
    expect(RollPolicy.nextRoll({ _tag: "Daily" }, wed)).toBe(new Date(2026, 2, 5).getTime())
    // 1 = Sunday (8 March), 4 = Wednesday: a week later, not today
    expect(RollPolicy.nextRoll({ _tag: "Weekly", dayOfWeek: 1 }, wed)).toBe(new Date(2026, 2, 8).getTime())
    expect(RollPolicy.nextRoll({ _tag: "Weekly", dayOfWeek: 4 }, wed)).toBe(new Date(2026, 2, 11).getTime())
    expect(RollPolicy.nextRoll(RollPolicy.never, wed)).toBeUndefined()
  })
})

describe("AccessLog rolling", () => {
  const dir = mkdtempSync(join(tmpdir(), "weir-access-roll-"))

  it.live("by size: renames file to file.1, shifting older ones, keeping rotateCount", () =>
    Effect.gen(function*() {
      const file = join(dir, "size.log")
      const one = AccessLog.line(request("/0"), ok, new Date()).length
      yield* Effect.scoped(Effect.gen(function*() {
        // room for two lines per file
        const log = yield* AccessLog.make({
          path: file,
          rollPolicy: { _tag: "MaxSize", bytes: one * 2 + 1 },
          rotateCount: 2
        })
        for (let i = 0; i < 7; i++) log.log(request(`/${i}`), ok)
      }))
      expect(urls(file)).toEqual(["/6"])
      expect(urls(`${file}.1`)).toEqual(["/4", "/5"])
      expect(urls(`${file}.2`)).toEqual(["/2", "/3"])
      expect(existsSync(`${file}.3`)).toBe(false)
    }))

  it.live("rotateCount -1 keeps every rolled file", () =>
    Effect.gen(function*() {
      const file = join(dir, "all.log")
      yield* Effect.scoped(Effect.gen(function*() {
        const log = yield* AccessLog.make({ path: file, rollPolicy: { _tag: "MaxSize", bytes: 1 } })
        for (let i = 0; i < 4; i++) log.log(request(`/${i}`), ok)
      }))
      expect([urls(file), urls(`${file}.1`), urls(`${file}.2`), urls(`${file}.3`)]).toEqual([
        ["/3"],
        ["/2"],
        ["/1"],
        ["/0"]
      ])
    }))

  it.effect("hourly: the first line after the hour starts a new file (the Clock decides)", () =>
    Effect.gen(function*() {
      const file = join(dir, "hourly.log")
      yield* Effect.scoped(Effect.gen(function*() {
        const log = yield* AccessLog.make({ path: file, rollPolicy: { _tag: "Hourly" } })
        log.log(request("/a"), ok)
        yield* TestClock.adjust("30 minutes")
        log.log(request("/b"), ok)
        yield* TestClock.adjust("1 hour")
        log.log(request("/c"), ok)
        yield* TestClock.adjust("10 minutes")
        log.log(request("/d"), ok)
      }))
      expect(urls(`${file}.1`)).toEqual(["/a", "/b"])
      expect(urls(file)).toEqual(["/c", "/d"])
    }))

  it("the router keys decode: policy parsed, count checked", () => {
    const cfg = (policy: string, count: number) =>
      Config.parse(`routers: [{protocol: http, httpAccessLog: a.log, httpAccessLogRollPolicy: "${policy}",
        httpAccessLogRotateCount: ${count}}]`)
    const r = cfg("daily", 7)
    expect(Result.isSuccess(r) && r.success.routers[0]).toMatchObject({
      httpAccessLogRollPolicy: { _tag: "Daily" },
      httpAccessLogRotateCount: 7
    })
    expect(Result.isSuccess(r) && JSON.stringify(ConfigJson.toJson(r.success))).toContain(
      `"httpAccessLogRollPolicy":"daily"`
    )
    const bad = cfg("weekly", -2)
    expect(Result.isFailure(bad) && bad.failure.map((p) => p.path)).toEqual([
      "routers[0].httpAccessLogRollPolicy",
      "routers[0].httpAccessLogRotateCount"
    ])
  })
})
