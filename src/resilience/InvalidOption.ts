/**
 * The error every resilience constructor reports for a bad option: which module, which option, what
 * was expected and what was given. Construction (`make`) fails with it in the error channel, so a bad
 * value is rejected before any request is sent, never at request time.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

/**
 * An option given to a resilience constructor is out of range or malformed.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOption extends Data.TaggedError("InvalidOption")<{
  /** The constructor that rejected the option, e.g. `RetryBudget.make`. */
  readonly module: string
  /** The option's name, e.g. `percentCanRetry`. */
  readonly option: string
  /** What a valid value looks like, e.g. `a number in [0, 1]`. */
  readonly expected: string
  /** The value that was given. */
  readonly actual: unknown
}> {
  override get message(): string {
    return `${this.module}: option "${this.option}" must be ${this.expected}, got ${show(this.actual)}`
  }
}

const show = (u: unknown): string => {
  if (Duration.isDuration(u)) return Duration.format(u)
  if (typeof u === "string") return JSON.stringify(u)
  return String(u)
}

/**
 * Decodes a duration option, failing for malformed input, negative or (unless `allowInfinite`)
 * infinite values. `undefined` gives `fallback`.
 *
 * @since 0.1.0
 * @category validation
 */
export const duration = (
  module: string,
  option: string,
  value: Duration.Input | undefined,
  fallback: Duration.Duration,
  constraints?: {
    readonly allowInfinite?: boolean | undefined
    readonly allowZero?: boolean | undefined
    readonly min?: Duration.Duration | undefined
    readonly max?: Duration.Duration | undefined
  }
): Effect.Effect<Duration.Duration, InvalidOption> => {
  if (value === undefined) return Effect.succeed(fallback)
  const decoded = Duration.fromInput(value)
  const allowZero = constraints?.allowZero ?? true
  const min = constraints?.min
  const max = constraints?.max
  const expected = min !== undefined && max !== undefined
    ? `a duration between ${Duration.format(min)} and ${Duration.format(max)}`
    : allowZero
    ? "a non-negative duration"
    : "a positive duration"
  const fail = Effect.fail(new InvalidOption({ module, option, expected, actual: value }))
  if (decoded._tag === "None") return fail
  const d = decoded.value
  const ms = Duration.toMillis(d)
  if (Number.isNaN(ms) || ms < 0 || (!allowZero && ms === 0)) return fail
  if (!Duration.isFinite(d) && constraints?.allowInfinite !== true) return fail
  if (min !== undefined && Duration.isLessThan(d, min)) return fail
  if (max !== undefined && Duration.isGreaterThan(d, max)) return fail
  return Effect.succeed(d)
}

/**
 * Validates a numeric option: not NaN, finite unless `allowInfinite`, within the (inclusive unless
 * marked exclusive) bounds, and an integer when asked. `undefined` gives `fallback`.
 *
 * @since 0.1.0
 * @category validation
 */
export const number = (
  module: string,
  option: string,
  value: number | undefined,
  fallback: number,
  constraints: {
    readonly min?: number | undefined
    readonly max?: number | undefined
    readonly minExclusive?: boolean | undefined
    readonly maxExclusive?: boolean | undefined
    readonly integer?: boolean | undefined
    readonly allowInfinite?: boolean | undefined
  }
): Effect.Effect<number, InvalidOption> => {
  if (value === undefined) return Effect.succeed(fallback)
  const { allowInfinite, integer, max, maxExclusive, min, minExclusive } = constraints
  const ok = typeof value === "number" && !Number.isNaN(value) &&
    (Number.isFinite(value) ? integer !== true || Number.isInteger(value) : allowInfinite === true) &&
    (min === undefined || (minExclusive === true ? value > min : value >= min)) &&
    (max === undefined || (maxExclusive === true ? value < max : value <= max))
  if (ok) return Effect.succeed(value)
  const kind = `${integer === true ? "an integer" : "a finite number"}${allowInfinite === true ? " (or Infinity)" : ""}`
  const lo = min === undefined ? "" : `${minExclusive === true ? ">" : ">="} ${min}`
  const hi = max === undefined ? "" : `${maxExclusive === true ? "<" : "<="} ${max}`
  const range = [lo, hi].filter((s) => s !== "").join(" and ")
  return Effect.fail(
    new InvalidOption({ module, option, expected: range === "" ? kind : `${kind} ${range}`, actual: value })
  )
}
