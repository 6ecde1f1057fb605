import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import { BindingCache, Dtab, Interpreter, Name, Namer, NameTree, Path, Stats } from "../../src/index.js"
import { makeTestNamer, settle, showBound } from "./helpers.js"

const subscribe = (namer: Namer.Namer, path: string, into: Array<string>) =>
  namer.lookup(Path.read(path)).pipe(
    Stream.runForEach((t) => Effect.sync(() => into.push(NameTree.show(NameTree.map(t, Name.show))))),
    Effect.forkChild
  )

describe("Namer.shared", () => {
  it.effect("N concurrent subscribers share one watch, released after the last closes and the TTL passes", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const t = yield* makeTestNamer({ "/a": NameTree.leaf(Path.read("/x")) })
      const shared = yield* Namer.shared(t, { idleTimeToLive: "5 seconds", label: "t" }).pipe(
        Effect.provideService(Stats.Receiver, stats)
      )
      const seen: Array<Array<string>> = [[], [], []]
      const fibers = yield* Effect.forEach(seen, (into) => subscribe(shared, "/a", into))
      yield* settle
      expect(t.opened()).toBe(1)
      expect(seen).toEqual([["/x"], ["/x"], ["/x"]])
      yield* t.set("/a", NameTree.leaf(Path.read("/y")))
      yield* settle
      expect(seen.map((s) => s[s.length - 1])).toEqual(["/y", "/y", "/y"])
      expect(t.opened()).toBe(1)

      yield* Fiber.interrupt(fibers[0]!)
      yield* Fiber.interrupt(fibers[1]!)
      yield* TestClock.adjust("10 seconds")
      expect(t.closed()).toBe(0)
      yield* Fiber.interrupt(fibers[2]!)
      yield* TestClock.adjust("4 seconds")
      expect(t.closed()).toBe(0)
      expect(yield* shared.watching).toEqual(["/a"])

      const late: Array<string> = []
      const again = yield* subscribe(shared, "/a", late)
      yield* settle
      expect(late).toEqual(["/y"])
      expect(t.opened()).toBe(1)
      yield* Fiber.interrupt(again)
      yield* TestClock.adjust("5 seconds")
      yield* settle
      expect(t.closed()).toBe(1)
      expect(yield* shared.watching).toEqual([])
      expect(stats.counterValue("namer/t/watches/opened")).toBe(1)
      expect(stats.counterValue("namer/t/watches/closed")).toBe(1)
    }))

  it.effect("different paths get different watches", () =>
    Effect.gen(function*() {
      const t = yield* makeTestNamer()
      const shared = yield* Namer.shared(t)
      yield* subscribe(shared, "/a", [])
      yield* subscribe(shared, "/b", [])
      yield* subscribe(shared, "/a", [])
      yield* settle
      expect(t.opened()).toBe(2)
      expect([...(yield* shared.watching)].sort()).toEqual(["/a", "/b"])
    }))

  it.effect("a lookup that fails before answering is Failed, then recovers after the retry delay", () =>
    Effect.gen(function*() {
      const t = yield* makeTestNamer({ "/a": new Error("down") })
      const shared = yield* Namer.shared(t, { retryDelay: "1 second" })
      const states: Array<string> = []
      yield* shared.watch(Path.read("/a")).pipe(
        Stream.runForEach((s) => Effect.sync(() => states.push(s._tag))),
        Effect.forkChild
      )
      yield* settle
      expect(states).toEqual(["Pending", "Failed"])
      yield* t.set("/a", NameTree.neg)
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(states).toEqual(["Pending", "Failed", "Ok"])
    }))
})

describe("BindingCache", () => {
  it.effect("answers from the live binding, follows changes and closes idle bindings", () =>
    Effect.gen(function*() {
      const t = yield* makeTestNamer({ "/a": NameTree.leaf(Path.read("/$/inet/127.0.0.1/1")) })
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/t"), t]], idleTimeToLive: "1 second" })
      const cache = yield* BindingCache.make(interp, { idleTimeToLive: "1 minute" })
      const dtab = Dtab.read("/svc=>/#/t")
      const path = Path.read("/svc/a")
      expect(cache.peek(dtab, path)).toBeUndefined()
      expect(showBound(yield* cache.bind(dtab, path))).toBe("/$/inet/127.0.0.1/1")
      expect(cache.size()).toBe(1)
      expect(t.opened()).toBe(1)
      yield* t.set("/a", NameTree.leaf(Path.read("/$/inet/127.0.0.1/2")))
      yield* settle
      expect(showBound(yield* cache.bind(dtab, Path.read("/svc/a")))).toBe("/$/inet/127.0.0.1/2")
      expect(t.opened()).toBe(1)
      const local = Dtab.read("/svc/a=>/$/inet/127.0.0.1/3")
      expect(showBound(yield* cache.bindLocal(dtab, local, path))).toBe("/$/inet/127.0.0.1/3")
      expect(showBound(yield* cache.bind(Dtab.concat(dtab, local), path))).toBe("/$/inet/127.0.0.1/3")
      expect(cache.size()).toBe(2)
      yield* TestClock.adjust("1 minute")
      expect(cache.size()).toBe(2)
      expect(showBound(yield* cache.bind(dtab, path))).toBe("/$/inet/127.0.0.1/2")
      yield* TestClock.adjust("1 minute")
      expect(cache.size()).toBe(1)
      expect(cache.peek(dtab, path)?._tag).toBe("Ok")
      expect(cache.size()).toBe(1)
      yield* TestClock.adjust("1 minute")
      yield* TestClock.adjust("2 seconds")
      expect(cache.size()).toBe(0)
      expect(t.closed()).toBe(1)
    }))

  it.effect("a failing binding fails the request with the reason", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      const cache = yield* BindingCache.make(interp)
      const e = yield* Effect.flip(cache.bind(Dtab.empty, Path.read("/$/nope")))
      expect(e._tag).toBe("BindingError")
      expect(e.message).toBe("Unknown namer: nope for path: /$/nope")
    }))
})
