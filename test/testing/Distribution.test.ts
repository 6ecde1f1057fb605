import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Distribution from "../../src/testing/Distribution.js"

const draw = (d: Distribution.Distribution, n: number, seed = 7) => {
  const rng = Distribution.makeRng(seed, 3)
  const sample = Distribution.sampler(d)
  return Array.from({ length: n }, () => sample(rng))
}
const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
const sd = (xs: ReadonlyArray<number>) => {
  const m = mean(xs)
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1))
}

describe("Distribution", () => {
  it("the same seed and stream give the same numbers; other streams and seeds differ", () => {
    const a = Distribution.makeRng(1, 0)
    const b = Distribution.makeRng(1, 0)
    const xs = Array.from({ length: 5 }, () => a.next())
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs)
    const c = Distribution.makeRng(1, 1)
    const d = Distribution.makeRng(2, 0)
    expect(c.next()).not.toBe(xs[0])
    expect(d.next()).not.toBe(xs[0])
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true)
  })

  it("uniform numbers are uniform (mean 0.5, every decile about 10 %)", () => {
    const rng = Distribution.makeRng(42)
    const deciles = new Array<number>(10).fill(0)
    let sum = 0
    for (let i = 0; i < 100_000; i++) {
      const x = rng.next()
      sum += x
      deciles[Math.floor(x * 10)]!++
    }
    expect(sum / 100_000).toBeCloseTo(0.5, 2)
    for (const d of deciles) expect(Math.abs(d - 10_000)).toBeLessThan(400)
  })

  it("samples each kind with its parameters", () => {
    expect(draw(Distribution.constant(5), 3)).toEqual([5, 5, 5])
    const normal = draw(Distribution.normal(167, 5), 20_000)
    expect(mean(normal)).toBeCloseTo(167, 0)
    expect(Math.abs(sd(normal) - 5)).toBeLessThan(0.1)
    const uniform = draw(Distribution.uniform(10, 20), 20_000)
    expect(Math.min(...uniform)).toBeGreaterThanOrEqual(10)
    expect(Math.max(...uniform)).toBeLessThan(20)
    expect(mean(uniform)).toBeCloseTo(15, 0)
    const lognormal = draw(Distribution.lognormal(50, 30), 50_000)
    expect(Math.abs(mean(lognormal) - 50)).toBeLessThan(1)
    expect(Math.abs(sd(lognormal) - 30)).toBeLessThan(2)
    expect(Math.min(...lognormal)).toBeGreaterThan(0)
    const empirical = draw(Distribution.empirical([1, 2, 3]), 3_000)
    expect(new Set(empirical)).toEqual(new Set([1, 2, 3]))
    expect(Math.abs(empirical.filter((x) => x === 2).length - 1000)).toBeLessThan(100)
  })

  it("a normal distribution is truncated at 0", () => {
    const xs = draw(Distribution.normal(1, 10), 10_000)
    expect(Math.min(...xs)).toBe(0)
  })

  it("sampling is deterministic", () => {
    expect(draw(Distribution.normal(167, 5), 4, 9)).toEqual(draw(Distribution.normal(167, 5), 4, 9))
  })

  it("validate names every impossible parameter", () => {
    expect(Distribution.validate(Distribution.normal(10, 1))).toEqual([])
    expect(Distribution.validate(Distribution.normal(10, -1)).map(([k]) => k)).toEqual(["sdMs"])
    expect(Distribution.validate(Distribution.uniform(5, 1)).map(([k]) => k)).toEqual(["maxMs"])
    expect(Distribution.validate(Distribution.lognormal(0, 1)).map(([k]) => k)).toEqual(["meanMs"])
    expect(Distribution.validate(Distribution.empirical([])).map(([k]) => k)).toEqual(["samplesMs"])
    expect(Distribution.validate(Distribution.empirical([1, -2])).map(([k]) => k)).toEqual(["samplesMs[1]"])
    expect(Distribution.validate(Distribution.constant(Number.NaN)).map(([k]) => k)).toEqual(["ms"])
  })

  it("the schema accepts each kind and rejects impossible ones", () => {
    const decode = Schema.decodeUnknownResult(Distribution.schema)
    expect(Result.isSuccess(decode({ kind: "normal", meanMs: 167, sdMs: 5 }))).toBe(true)
    expect(Result.isSuccess(decode({ kind: "empirical", samplesMs: [1, 2] }))).toBe(true)
    expect(Result.isFailure(decode({ kind: "normal", meanMs: 167, sdMs: -5 }))).toBe(true)
    expect(Result.isFailure(decode({ kind: "uniform", minMs: 5, maxMs: 1 }))).toBe(true)
    expect(Result.isFailure(decode({ kind: "empirical", samplesMs: [] }))).toBe(true)
    expect(Result.isFailure(decode({ kind: "lognormal", meanMs: 0, sdMs: 1 }))).toBe(true)
    expect(Result.isFailure(decode({ kind: "pareto", alpha: 1 }))).toBe(true)
  })

  it("mean", () => {
    expect(Distribution.mean(Distribution.uniform(0, 10))).toBe(5)
    expect(Distribution.mean(Distribution.empirical([1, 2, 6]))).toBe(3)
  })
})
