import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import * as ObserverCache from "../../src/namerd/ObserverCache.js"

const empty = new Uint8Array(0)
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))

/** A cache over constant values (`value-<key>`), a clock the test moves, and a count of opened observers. */
const setup = (capacity: ObserverCache.Capacity) => {
  let t = 0
  const opened: Array<string> = []
  const cache = ObserverCache.make<string, string>({
    keyOf: (k) => k,
    values: (k) =>
      Stream.concat(
        Stream.sync(() => {
          opened.push(k)
          return Result.succeed(`value-${k}`)
        }),
        Stream.never
      ),
    show: (r) => Result.isSuccess(r) ? r.success : `!${r.failure}`,
    capacity,
    now: () => t
  })
  const poll = (k: string, stamp: Uint8Array = empty) => Effect.promise(() => cache.poll(k, stamp, () => {}))
  return { cache, poll, opened, advance: (ms: number) => (t += ms) }
}

describe("ObserverCache", () => {
  it.live("answers a new stamp at once, keeps one observer per key, and closes idle ones after their TTL", () =>
    Effect.gen(function*() {
      const { advance, cache, opened, poll } = setup({
        activeCapacity: 10,
        inactiveCapacity: 10,
        inactiveTtlMillis: 1000
      })
      const first = yield* poll("a")
      expect(first.value).toEqual(Result.succeed("value-a"))
      const again = yield* poll("a")
      expect(same(again.stamp, first.stamp)).toBe(true)
      expect(opened).toEqual(["a"])

      advance(500)
      cache.sweep()
      expect(same((yield* poll("a", new Uint8Array([9]))).stamp, first.stamp)).toBe(true)
      advance(1001)
      cache.sweep()
      const reopened = yield* poll("a", first.stamp)
      expect(opened).toEqual(["a", "a"])
      expect(same(reopened.stamp, first.stamp)).toBe(false)
      cache.close()
    }))

  it.live("keeps at most inactiveCapacity idle observers, closing the least recently polled", () =>
    Effect.gen(function*() {
      const { advance, cache, opened, poll } = setup({
        activeCapacity: 10,
        inactiveCapacity: 2,
        inactiveTtlMillis: 60_000
      })
      for (const k of ["a", "b", "c"]) {
        yield* poll(k)
        advance(1)
      }
      yield* poll("a")
      cache.sweep()
      yield* poll("a")
      yield* poll("c")
      expect(opened).toEqual(["a", "b", "c"])
      yield* poll("b")
      expect(opened).toEqual(["a", "b", "c", "b"])
      cache.close()
    }))
})
