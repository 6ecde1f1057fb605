/**
 * Latency distributions for simulated endpoints, sampled from a seeded generator so that a
 * simulation gives the same numbers on every run. Times are milliseconds; samples are never
 * negative (a normal distribution is truncated at 0); `never` is infinite.
 *
 * ```yaml
 * latency: { kind: constant, ms: 5 }
 * latency: { kind: normal, meanMs: 167, sdMs: 5 }
 * latency: { kind: uniform, minMs: 0, maxMs: 2000 }
 * latency: { kind: lognormal, meanMs: 50, sdMs: 30 }
 * latency: { kind: empirical, samplesMs: [164.1, 167.5, 176.7, 181.7, 192.3] }
 * latency: { kind: never }         # a server that accepts the request and never answers
 * ```
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Always the same latency.
 *
 * @since 0.1.0
 * @category model
 */
export interface Constant {
  readonly kind: "constant"
  readonly ms: number
}

/**
 * A normal distribution, truncated at 0.
 *
 * @since 0.1.0
 * @category model
 */
export interface Normal {
  readonly kind: "normal"
  readonly meanMs: number
  readonly sdMs: number
}

/**
 * Uniform over `[minMs, maxMs)`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Uniform {
  readonly kind: "uniform"
  readonly minMs: number
  readonly maxMs: number
}

/**
 * A log-normal distribution given by its own mean and standard deviation (not those of the
 * underlying normal): a long right tail, as real latencies have.
 *
 * @since 0.1.0
 * @category model
 */
export interface LogNormal {
  readonly kind: "lognormal"
  readonly meanMs: number
  readonly sdMs: number
}

/**
 * Draws uniformly from recorded samples (replaying measured latencies).
 *
 * @since 0.1.0
 * @category model
 */
export interface Empirical {
  readonly kind: "empirical"
  readonly samplesMs: ReadonlyArray<number>
}

/**
 * A latency distribution.
 *
 * @since 0.1.0
 * @category model
 */
/**
 * No answer at all: the latency is infinite (a server that accepts requests and hangs). Only a
 * timeout, or the caller giving up, ends such a request.
 *
 * @since 0.1.0
 * @category model
 */
export interface Never {
  readonly kind: "never"
}

/**
 * A latency distribution.
 *
 * @since 0.1.0
 * @category model
 */
export type Distribution = Constant | Normal | Uniform | LogNormal | Empirical | Never

// ---------------------------------------------------------------------------------------------
// random numbers
// ---------------------------------------------------------------------------------------------

/**
 * A seeded source of uniform numbers in `[0, 1)`.
 *
 * @since 0.1.0
 * @category random
 */
export interface Rng {
  readonly next: () => number
}

const mix32 = (x: number): number => {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}

/**
 * A small, fast generator (SplitMix32-seeded xoshiro128**) for a seed and a stream number: the same
 * `(seed, stream)` always gives the same sequence; different streams are independent.
 *
 * @since 0.1.0
 * @category random
 */
export const makeRng = (seed: number, stream = 0): Rng => {
  let s = mix32((Math.floor(seed) ^ 0x9e3779b9) + Math.imul(stream + 1, 0x632be5ab))
  const split = () => {
    s = (s + 0x9e3779b9) | 0
    return mix32(s)
  }
  let a = split(), b = split(), c = split(), d = split()
  if ((a | b | c | d) === 0) a = 1
  return {
    next: () => {
      const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0
      const t = b << 9
      c ^= a
      d ^= b
      b ^= c
      a ^= d
      c ^= t
      d = rotl(d, 11)
      return result / 4294967296
    }
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k))

/**
 * A standard normal variate (Box–Muller, one of the pair).
 *
 * @since 0.1.0
 * @category random
 */
export const standardNormal = (rng: Rng): number => {
  let u = rng.next()
  while (u === 0) u = rng.next()
  const v = rng.next()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/**
 * An exponential variate with the given mean.
 *
 * @since 0.1.0
 * @category random
 */
export const exponential = (rng: Rng, mean: number): number => -Math.log(1 - rng.next()) * mean

// ---------------------------------------------------------------------------------------------
// constructors
// ---------------------------------------------------------------------------------------------

/**
 * A constant latency.
 *
 * @since 0.1.0
 * @category constructors
 */
export const constant = (ms: number): Distribution => ({ kind: "constant", ms })

/**
 * A normal latency, truncated at 0.
 *
 * @since 0.1.0
 * @category constructors
 */
export const normal = (meanMs: number, sdMs: number): Distribution => ({ kind: "normal", meanMs, sdMs })

/**
 * A uniform latency over `[minMs, maxMs)`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const uniform = (minMs: number, maxMs: number): Distribution => ({ kind: "uniform", minMs, maxMs })

/**
 * A log-normal latency with the given mean and standard deviation.
 *
 * @since 0.1.0
 * @category constructors
 */
export const lognormal = (meanMs: number, sdMs: number): Distribution => ({ kind: "lognormal", meanMs, sdMs })

/**
 * A latency drawn from recorded samples.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empirical = (samplesMs: ReadonlyArray<number>): Distribution => ({ kind: "empirical", samplesMs })

/**
 * The infinite latency: no answer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const never: Distribution = { kind: "never" }

// ---------------------------------------------------------------------------------------------
// validation
// ---------------------------------------------------------------------------------------------

const finiteNonNegative = (n: number) => Number.isFinite(n) && n >= 0

/**
 * The problems that make a distribution impossible (negative or non-finite parameters, an empty
 * sample list, `minMs > maxMs`, a log-normal with mean 0), as `[key, message]` pairs; empty when valid.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (self: Distribution): Array<readonly [string, string]> => {
  const out: Array<readonly [string, string]> = []
  const nonNeg = (key: string, n: number) => {
    if (!finiteNonNegative(n)) out.push([key, `must be a finite number >= 0, got ${n}`])
  }
  switch (self.kind) {
    case "constant":
      nonNeg("ms", self.ms)
      break
    case "normal":
      nonNeg("meanMs", self.meanMs)
      nonNeg("sdMs", self.sdMs)
      break
    case "lognormal":
      if (!(Number.isFinite(self.meanMs) && self.meanMs > 0)) {
        out.push(["meanMs", `must be a finite number > 0, got ${self.meanMs}`])
      }
      nonNeg("sdMs", self.sdMs)
      break
    case "uniform":
      nonNeg("minMs", self.minMs)
      nonNeg("maxMs", self.maxMs)
      if (finiteNonNegative(self.minMs) && finiteNonNegative(self.maxMs) && self.minMs > self.maxMs) {
        out.push(["maxMs", `must be >= minMs (${self.minMs}), got ${self.maxMs}`])
      }
      break
    case "empirical":
      if (self.samplesMs.length === 0) out.push(["samplesMs", "must not be empty"])
      self.samplesMs.forEach((s, i) => {
        if (!finiteNonNegative(s)) out.push([`samplesMs[${i}]`, `must be a finite number >= 0, got ${s}`])
      })
      break
    case "never":
      break
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// sampling
// ---------------------------------------------------------------------------------------------

/**
 * A function drawing samples (milliseconds, `>= 0`) of a distribution from a generator.
 *
 * @since 0.1.0
 * @category sampling
 */
export const sampler = (self: Distribution): (rng: Rng) => number => {
  switch (self.kind) {
    case "constant": {
      const ms = self.ms
      return () => ms
    }
    case "normal": {
      const { meanMs, sdMs } = self
      return (rng) => Math.max(0, meanMs + sdMs * standardNormal(rng))
    }
    case "uniform": {
      const { maxMs, minMs } = self
      return (rng) => minMs + (maxMs - minMs) * rng.next()
    }
    case "lognormal": {
      const sigma2 = Math.log(1 + (self.sdMs * self.sdMs) / (self.meanMs * self.meanMs))
      const mu = Math.log(self.meanMs) - sigma2 / 2
      const sigma = Math.sqrt(sigma2)
      return (rng) => Math.exp(mu + sigma * standardNormal(rng))
    }
    case "empirical": {
      const samples = self.samplesMs
      return (rng) => samples[Math.min(samples.length - 1, Math.floor(rng.next() * samples.length))]!
    }
    case "never":
      return () => Infinity
  }
}

/**
 * The mean of a distribution in milliseconds (the truncation of a normal at 0 is ignored).
 *
 * @since 0.1.0
 * @category getters
 */
export const mean = (self: Distribution): number => {
  switch (self.kind) {
    case "constant":
      return self.ms
    case "normal":
    case "lognormal":
      return self.meanMs
    case "uniform":
      return (self.minMs + self.maxMs) / 2
    case "empirical":
      return self.samplesMs.reduce((a, b) => a + b, 0) / Math.max(1, self.samplesMs.length)
    case "never":
      return Infinity
  }
}

// ---------------------------------------------------------------------------------------------
// schema
// ---------------------------------------------------------------------------------------------

const NonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * The YAML/JSON form of a distribution, discriminated by `kind`, with impossible parameters rejected
 * (negative values, `minMs > maxMs`, an empty sample list, a log-normal mean of 0).
 *
 * @since 0.1.0
 * @category schemas
 */
export const schema: Schema.Codec<Distribution> = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("constant"), ms: NonNegative }),
  Schema.Struct({ kind: Schema.Literal("normal"), meanMs: NonNegative, sdMs: NonNegative }),
  Schema.Struct({ kind: Schema.Literal("uniform"), minMs: NonNegative, maxMs: NonNegative }).check(
    Schema.makeFilter((u) => u.minMs <= u.maxMs ? undefined : { path: ["maxMs"], issue: "maxMs must be >= minMs" })
  ),
  Schema.Struct({
    kind: Schema.Literal("lognormal"),
    meanMs: Schema.Finite.check(Schema.isGreaterThan(0)),
    sdMs: NonNegative
  }),
  Schema.Struct({ kind: Schema.Literal("empirical"), samplesMs: Schema.NonEmptyArray(NonNegative) }),
  Schema.Struct({ kind: Schema.Literal("never") })
])
