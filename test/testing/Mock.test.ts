import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Mock from "../../src/testing/Mock.js"

describe("Mock", () => {
  it.effect("each request waits until the test answers it", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make<string, number, string>()
      const a = yield* Effect.forkChild(mock.service.call("a"))
      const b = yield* Effect.forkChild(Effect.flip(mock.service.call("b")))
      const pa = yield* mock.take
      const pb = yield* mock.take
      expect([pa.request, pa.seq, pb.request, pb.seq]).toEqual(["a", 1, "b", 2])
      expect(mock.inFlight()).toBe(2)
      yield* pb.fail("nope")
      yield* pa.succeed(1)
      yield* pa.succeed(2)
      expect(yield* Fiber.join(a)).toBe(1)
      expect(yield* Fiber.join(b)).toBe("nope")
      expect(mock.completed()).toBe(2)
      expect(pa.isDone()).toBe(true)
    }))

  it.effect("records interruptions, status and auto answers", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make<string, number, never>({
        respond: (req) => req === "auto" ? Effect.succeed(42) : undefined
      })
      expect(yield* mock.service.call("auto")).toBe(42)
      const f = yield* Effect.forkChild(mock.service.call("held"))
      const p = yield* mock.take
      yield* Fiber.interrupt(f)
      expect(p.isInterrupted()).toBe(true)
      expect(mock.interrupted()).toBe(1)
      expect(mock.received).toEqual(["auto", "held"])
      mock.setStatus("Busy")
      expect(mock.service.status).toBe("Busy")
    }))
})
