/**
 * The example scenarios that are not published replicas (those are in Published.test.ts) run, with
 * their seeded numbers asserted.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { runExample } from "./support.js"

describe("example scenarios", () => {
  it.effect("rolling-restart: failure accrual contains each restart, retries mop up the rest", () =>
    Effect.gen(function*() {
      const v = yield* runExample("rolling-restart.yaml")
      const names = ["p2c", "p2c+retries", "ewma", "ewma+retries"]
      expect([...v.keys()]).toEqual(names)
      expect(names.map((n) => v.get(n)!.requests)).toEqual([19739, 19739, 19739, 19739])
      expect(names.map((n) => v.get(n)!.successes)).toEqual([19704, 19739, 19706, 19739])
      expect(names.map((n) => v.get(n)!.retries)).toEqual([0, 40, 0, 38])
      for (const n of names) {
        const failures = v.get(n)!.endpoints.map((e) => e.failures)
        expect(failures.slice(3)).toEqual([0, 0, 0])
        expect(Math.max(...failures)).toBeLessThan(20)
      }
      expect(v.get("ewma+retries")!.latencyMs.p999).toBeLessThan(v.get("p2c+retries")!.latencyMs.p999)
    }))
})
