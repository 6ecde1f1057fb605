import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import * as Watches from "../../src/namers/Watches.js"
import * as Stats from "../../src/Stats.js"

type Command = { readonly ok: number } | { readonly fail: string }

describe("Watches", () => {
  it.effect("pending, ok, stale while error (counted, gauged), fresh again; failed without an answer", () => {
    const stats = Stats.makeInMemory()
    return Effect.gen(function*() {
      const commands = new Map<string, Queue.Queue<Command>>([
        ["a", yield* Queue.unbounded<Command>()],
        ["b", yield* Queue.unbounded<Command>()]
      ])
      const table = yield* Watches.make<number>({
        label: "t",
        equals: (a, b) => a === b,
        run: (key, handle) =>
          Effect.gen(function*() {
            const q = commands.get(key)!
            for (;;) {
              const c = yield* Queue.take(q)
              yield* "ok" in c ? handle.ok(c.ok) : handle.fail(c.fail)
            }
          })
      })
      const seen: Array<string> = []
      const fiber = yield* table.states("a").pipe(
        Stream.runForEach((s) =>
          Effect.sync(() => seen.push(s._tag === "Ok" ? `ok ${s.value}${s.stale ? ` (${s.stale})` : ""}` : s._tag))
        ),
        Effect.forkChild
      )
      yield* Effect.yieldNow
      const send = (c: Command) => Effect.andThen(Queue.offer(commands.get("a")!, c), Effect.yieldNow)
      yield* send({ ok: 1 })
      yield* send({ ok: 1 })
      yield* send({ fail: "down" })
      expect(stats.gaugeValues().get("namer/t/stale_watches")).toBe(1)
      yield* send({ fail: "down" })
      yield* send({ ok: 1 })
      yield* send({ ok: 2 })
      expect(seen).toEqual(["Pending", "ok 1", "ok 1 (down)", "ok 1", "ok 2"])
      expect(stats.counterValue("namer/t/updates")).toBe(2)
      expect(stats.counterValue("namer/t/errors")).toBe(2)
      expect(stats.counterValue("namer/t/stale")).toBe(1)
      expect(stats.gaugeValues().get("namer/t/stale_watches")).toBe(0)
      const [[key, state, info]] = yield* table.entries
      expect([key, state._tag, info.state, info.updates, info.failures]).toEqual(["a", "Ok", "ok", 2, 2])

      const other: Array<string> = []
      yield* table.states("b").pipe(
        Stream.runForEach((s) => Effect.sync(() => other.push(s._tag === "Failed" ? `failed ${s.reason}` : s._tag))),
        Effect.forkChild
      )
      yield* Effect.yieldNow
      yield* Effect.andThen(Queue.offer(commands.get("b")!, { fail: "never up" }), Effect.yieldNow)
      expect(other).toEqual(["Pending", "failed never up"])

      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("10 seconds")
      expect((yield* table.entries).map(([k]) => k)).toEqual(["b"])
    }).pipe(Effect.provideService(Stats.Receiver, stats))
  })

  it.effect("backoff doubles from the floor up to the cap, jittered into [0.5, 1)", () =>
    Effect.gen(function*() {
      for (const [attempt, lo, hi] of [[0, 50, 100], [3, 400, 800], [20, 5000, 10_000]] as const) {
        const d = yield* Watches.backoff("100 millis", "10 seconds", attempt)
        const ms = Duration.toMillis(d)
        expect(ms).toBeGreaterThanOrEqual(lo)
        expect(ms).toBeLessThanOrEqual(hi)
      }
    }))
})
