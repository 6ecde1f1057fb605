import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import { type Addr, Address, InetNamer } from "../../src/index.js"
import { settle } from "./helpers.js"

const show = (a: Addr.Addr): string =>
  a._tag === "Bound" ? a.addresses.map(Address.key).join(",") : a._tag === "Failed" ? `Failed(${a.cause})` : a._tag

describe("InetNamer", () => {
  it("expands short IPv4 literals without DNS", () => {
    expect(InetNamer.ipLiteral("127.1")).toBe("127.0.0.1")
    expect(InetNamer.ipLiteral("10.1.2")).toBe("10.1.0.2")
    expect(InetNamer.ipLiteral("2130706433")).toBe("127.0.0.1")
    expect(InetNamer.ipLiteral("::1")).toBe("::1")
    expect(InetNamer.ipLiteral("300.1")).toBeUndefined()
    expect(InetNamer.ipLiteral("example.com")).toBeUndefined()
    expect(InetNamer.parsePort("65535")).toBe(65535)
    expect(InetNamer.parsePort("65536")).toBeUndefined()
    expect(InetNamer.parsePort("http")).toBeUndefined()
  })

  it.effect("re-resolves host names every 5 seconds and keeps the last answer when DNS fails", () =>
    Effect.gen(function*() {
      let answers: ReadonlyArray<string> | Error = ["10.0.0.1"]
      const seen: Array<string> = []
      yield* InetNamer.addr("db.local", 5432).pipe(
        Stream.runForEach((a) => Effect.sync(() => seen.push(show(a)))),
        Effect.provideService(
          InetNamer.Resolver,
          () => answers instanceof Error ? Effect.fail(answers) : Effect.succeed(answers)
        ),
        Effect.forkChild
      )
      yield* settle
      expect(seen).toEqual(["10.0.0.1:5432"])
      answers = ["10.0.0.1", "10.0.0.2"]
      yield* TestClock.adjust("5 seconds")
      yield* settle
      expect(seen).toEqual(["10.0.0.1:5432", "10.0.0.1:5432,10.0.0.2:5432"])
      answers = new Error("SERVFAIL")
      yield* TestClock.adjust("5 seconds")
      yield* settle
      expect(seen.length).toBe(2)
    }))

  it.effect("a host that never resolves is Failed", () =>
    Effect.gen(function*() {
      const first = yield* InetNamer.addr("nowhere.invalid", 80).pipe(
        Stream.runHead,
        Effect.provideService(InetNamer.Resolver, (h: string) => Effect.fail(new Error(`ENOTFOUND ${h}`)))
      )
      expect(first._tag === "Some" ? show(first.value) : "none").toBe(
        "Failed(nowhere.invalid: ENOTFOUND nowhere.invalid)"
      )
    }))
})
