import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { TestClock } from "effect/testing"
import * as Deadline from "../../src/resilience/Deadline.js"

describe("Deadline", () => {
  it("combine keeps the latest timestamp and the earliest deadline", () => {
    expect(Deadline.combine(Deadline.make(0, 500), Deadline.make(100, 1000))).toEqual(Deadline.make(100, 500))
    expect(Deadline.combineOptional(undefined, Deadline.make(1, 2))).toEqual(Deadline.make(1, 2))
    expect(Deadline.isExpired(Deadline.make(0, 10), 10)).toBe(true)
    expect(Deadline.isExpired(Deadline.make(0, 10), 9)).toBe(false)
  })

  it("encodes linkerd's l5d-ctx-deadline value and decodes it back", () => {
    const d = Deadline.make(1_700_000_000_123, 1_700_000_001_623.5)
    const wire = Deadline.encode(d)
    expect(wire).toBe("1700000000123000000 1700000001623500000")
    expect(Deadline.decode(wire)).toEqual(Option.some(d))
    for (const ms of [0, 1, 999.25, 123456789]) {
      const x = Deadline.make(ms, ms + 1000)
      expect(Deadline.decode(Deadline.encode(x))).toEqual(Option.some(x))
    }
    expect(Deadline.encode(Deadline.make(0, Infinity))).toBe("0 9223372036854775807")
    expect(Deadline.decode("0 9223372036854775807")).toEqual(Option.some(Deadline.make(0, Infinity)))
  })

  it("rejects malformed header values", () => {
    for (const bad of ["", "1", "1 2 3", "a b", "1.5 2", "99999999999999999999 1", "1 -"]) {
      expect(Option.isNone(Deadline.decode(bad))).toBe(true)
    }
    expect(Deadline.decodeAll(["junk", "0 5000000", "1000000 9000000"])).toEqual(Deadline.make(1, 5))
    expect(Deadline.decodeAll(["junk"])).toBeUndefined()
  })

  it.effect("withDeadline nests earliest-wins; withTimeout reads the clock", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("1 second")
      const inner = yield* Deadline.current.pipe(
        Deadline.withDeadline(Deadline.make(1000, 3000)),
        Deadline.withDeadline(Deadline.make(500, 2000))
      )
      expect(inner).toEqual(Deadline.make(1000, 2000))
      expect(yield* Deadline.current).toBeUndefined()
      const t = yield* Deadline.current.pipe(Deadline.withTimeout("250 millis"))
      expect(t).toEqual(Deadline.make(1000, 1250))
      expect(yield* Deadline.clear(Deadline.current).pipe(Deadline.withTimeout("1 second"))).toBeUndefined()
    }))
})
