import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import type { RequestTimeout } from "../../src/Failure.js"
import * as Filter from "../../src/Filter.js"
import * as Deadline from "../../src/resilience/Deadline.js"
import * as Timeout from "../../src/resilience/Timeout.js"
import * as Service from "../../src/Service.js"
import * as Stack from "../../src/Stack.js"
import * as Mock from "../../src/testing/Mock.js"

describe("Timeout", () => {
  it.effect("fires exactly at the boundary, not a millisecond before, and interrupts the attempt", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make<string, string, RequestTimeout>()
      const filter = yield* Timeout.make<string, string, RequestTimeout, never>({ timeout: "1 second" })
      const svc = Filter.andThen(filter, mock.service)
      const fiber = yield* Effect.forkChild(Effect.flip(svc.call("a")))
      yield* mock.take
      yield* TestClock.adjust("999 millis")
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("RequestTimeout")
      expect(error.scope).toBe("attempt")
      expect(mock.interrupted()).toBe(1)
    }))

  it.effect("a caller that gives up interrupts the attempt it is waiting for", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make<string, string, RequestTimeout>()
      const svc = Filter.andThen(
        yield* Timeout.make<string, string, RequestTimeout, never>({ timeout: "1 second" }),
        mock.service
      )
      const fiber = yield* Effect.forkChild(svc.call("a"))
      const p = yield* mock.take
      yield* Fiber.interrupt(fiber)
      expect(p.isInterrupted()).toBe(true)
      expect(mock.inFlight()).toBe(0)
    }))

  it.effect("an answer just before the boundary wins", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make<string, string, RequestTimeout>()
      const svc = Filter.andThen(
        yield* Timeout.make<string, string, RequestTimeout, never>({ timeout: "1 second" }),
        mock.service
      )
      const fiber = yield* Effect.forkChild(svc.call("a"))
      const p = yield* mock.take
      yield* TestClock.adjust("999 millis")
      yield* p.succeed("ok")
      expect(yield* Fiber.join(fiber)).toBe("ok")
    }))

  it.effect("propagates its deadline, shortened by elapsed time through a total timeout", () =>
    Effect.gen(function*() {
      const seen: Array<Deadline.Deadline | undefined> = []
      let calls = 0
      const leaf = Service.make((_: string) =>
        Effect.gen(function*() {
          seen.push(yield* Deadline.current)
          if (calls++ === 0) {
            yield* Effect.sleep("300 millis")
            return yield* Effect.fail("retry-me")
          }
          return "ok"
        })
      )
      const total = yield* Timeout.make<string, string, string | RequestTimeout, never>({
        timeout: "1 second",
        scope: "total"
      })
      const attempt = yield* Timeout.make<string, string, string | RequestTimeout, never>({ timeout: "800 millis" })
      const retryOnce = Filter.make<string, string, string | RequestTimeout, never>((req, next) =>
        Effect.catch(next.call(req), () => next.call(req))
      )
      const svc = Filter.andThen(total, Filter.andThen(retryOnce, Filter.andThen(attempt, leaf)))
      const fiber = yield* Effect.forkChild(svc.call("a"))
      yield* TestClock.adjust("300 millis")
      expect(yield* Fiber.join(fiber)).toBe("ok")
      expect(seen[0]).toEqual(Deadline.make(0, 800))
      expect(seen[1]).toEqual(Deadline.make(300, 1000))
      expect(Deadline.remaining(seen[1]!, 300)).toBe(700)
    }))

  it.effect("a request whose deadline has passed is not sent", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make<string, string, RequestTimeout>({ respond: () => Effect.succeed("ok") })
      const svc = Filter.andThen(
        yield* Timeout.make<string, string, RequestTimeout, never>({ timeout: "1 second" }),
        mock.service
      )
      yield* TestClock.adjust("5 seconds")
      const error = yield* Effect.flip(svc.call("a").pipe(Deadline.withDeadline(Deadline.make(1000, 2000))))
      expect(error.scope).toBe("deadline")
      expect(mock.calls()).toBe(0)
    }))

  it.effect("an inherited deadline earlier than the timeout cuts the wait", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make<string, string, RequestTimeout>()
      const svc = Filter.andThen(
        yield* Timeout.make<string, string, RequestTimeout, never>({ timeout: "10 seconds" }),
        mock.service
      )
      const fiber = yield* Effect.forkChild(Effect.flip(svc.call("a").pipe(Deadline.withTimeout("2 seconds"))))
      yield* mock.take
      yield* TestClock.adjust("2 seconds")
      expect((yield* Fiber.join(fiber)).scope).toBe("deadline")
    }))

  it.effect("an infinite timeout passes through; propagation can be switched off", () =>
    Effect.gen(function*() {
      const leaf = Service.make((_: string) => Deadline.current)
      const none = yield* Timeout.make<string, Deadline.Deadline | undefined, never, never>({ timeout: "Infinity" })
      expect(yield* Filter.andThen(none, leaf).call("a")).toBeUndefined()
      const quiet = yield* Timeout.make<string, Deadline.Deadline | undefined, never, never>({
        timeout: "1 second",
        propagateDeadline: false
      })
      expect(yield* Filter.andThen(quiet, leaf).call("a").pipe(Deadline.withTimeout("5 seconds"))).toBeUndefined()
    }))

  it.effect("the stack modules read their timeouts from references", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make<string, string, RequestTimeout>()
      const stack = Stack.make(Timeout.totalModule<string, string, RequestTimeout, never>(), Timeout.attemptModule())
      const svc = yield* Stack.build(stack, mock.service).pipe(
        Effect.provideService(Timeout.AttemptTimeout, "100 millis"),
        Effect.provideService(Timeout.TotalTimeout, "1 second")
      )
      const fiber = yield* Effect.forkChild(Effect.flip(svc.call("a")))
      yield* mock.take
      yield* TestClock.adjust("100 millis")
      expect((yield* Fiber.join(fiber)).scope).toBe("attempt")
    }))

  it.effect("bad timeouts are rejected at construction", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Timeout.make({ timeout: -1 }))
      expect(e.message).toContain("Timeout.make")
      expect(e.message).toContain("timeout")
    }))
})
