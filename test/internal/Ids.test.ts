import { describe, expect, it } from "@effect/vitest"
import * as Ids from "../../src/internal/Ids.js"

describe("Ids", () => {
  it("randomHex: lower-case hex of the length asked, never all zeros, no repeats over a few pool fills", () => {
    const seen = new Set<string>()
    for (let i = 0; i < 10_000; i++) {
      const id = Ids.randomHex(i % 2 === 0 ? 16 : 32)
      expect(id).toMatch(i % 2 === 0 ? /^[0-9a-f]{16}$/ : /^[0-9a-f]{32}$/)
      expect(/^0+$/.test(id)).toBe(false)
      seen.add(id)
    }
    expect(seen.size).toBe(10_000)
  })
})
