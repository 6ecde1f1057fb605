import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Address from "../src/Address.js"
import * as Endpoint from "../src/Endpoint.js"
import * as Service from "../src/Service.js"

describe("Endpoint", () => {
  it.effect("counts in flight, calls hooks, drains before its scope's earlier finalizers run", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const release = yield* Deferred.make<void>()
      const scope = yield* Scope.make()
      yield* Scope.addFinalizer(scope, Effect.sync(() => log.push("connections closed")))
      const service = Service.make((n: number) => Effect.as(Deferred.await(release), n))
      const ep = yield* Endpoint.make(Address.make("127.0.0.1", 1), service, {
        onStart: () => (log.push("start"), 7),
        onEnd: (stamp) => void log.push(`end ${stamp}`)
      }).pipe(Scope.provide(scope))
      expect(ep.key).toBe("127.0.0.1:1")
      const call = yield* Effect.forkChild(ep.call(1))
      yield* Effect.yieldNow
      expect(ep.pending).toBe(1)
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* Effect.yieldNow
      expect(ep.status).toBe("Closed")
      expect(ep.closing).toBe(true)
      const refused = yield* Effect.flip(ep.call(2))
      expect(refused._tag).toBe("Overloaded")
      expect(refused.retryable).toBe(true)
      expect(log).toEqual(["start"])
      yield* Deferred.succeed(release, undefined)
      expect(yield* Fiber.join(call)).toBe(1)
      yield* Fiber.join(closing)
      expect(log).toEqual(["start", "end 7", "connections closed"])
      expect(ep.pending).toBe(0)
    }))

  it.effect("an interrupted request still ends (pending back to 0)", () =>
    Effect.gen(function*() {
      let ended = 0
      const ep = yield* Endpoint.make(Address.make("h", 2), Service.make(() => Effect.never), {
        onStart: () => 0,
        onEnd: () => void ended++
      })
      const call = yield* Effect.forkChild(ep.call(undefined))
      yield* Effect.yieldNow
      expect(ep.pending).toBe(1)
      yield* Fiber.interrupt(call)
      expect(ep.pending).toBe(0)
      expect(ended).toBe(1)
    }))
})
