/**
 * A request-scoped deadline: the time by which the caller stops caring about the answer. Timeouts set
 * it, and it travels with the request — in the fiber's context inside the process, in the
 * `l5d-ctx-deadline` header between processes — so that each hop knows how much time is left and a
 * request whose deadline has passed is not sent at all. When several deadlines apply, the earliest
 * wins. This is Finagle's `Deadline` broadcast context and linkerd 1.x's header format.
 *
 * Times are milliseconds on Effect's `Clock` (`Clock.currentTimeMillis`), so deadlines are exact under
 * `TestClock`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Option from "effect/Option"

/**
 * A deadline: set at `timestamp`, expiring at `deadline` (both epoch milliseconds).
 *
 * @since 0.1.0
 * @category model
 */
export interface Deadline {
  readonly timestamp: number
  readonly deadline: number
}

/**
 * A deadline from its two times.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (timestamp: number, deadline: number): Deadline => ({ timestamp, deadline })

/**
 * The deadline `timeout` after `now` (an infinite timeout gives an infinite deadline).
 *
 * @since 0.1.0
 * @category constructors
 */
export const ofTimeout = (now: number, timeout: Duration.Duration): Deadline =>
  make(now, now + Duration.toMillis(timeout))

/**
 * The strictest combination of two deadlines: the latest timestamp and the earliest deadline.
 *
 * @since 0.1.0
 * @category combinators
 */
export const combine = (a: Deadline, b: Deadline): Deadline =>
  make(Math.max(a.timestamp, b.timestamp), Math.min(a.deadline, b.deadline))

/**
 * Like `combine`, where `undefined` means "no deadline".
 *
 * @since 0.1.0
 * @category combinators
 */
export const combineOptional = (a: Deadline | undefined, b: Deadline | undefined): Deadline | undefined =>
  a === undefined ? b : b === undefined ? a : combine(a, b)

/**
 * Time left at `now`, in milliseconds (negative once passed).
 *
 * @since 0.1.0
 * @category getters
 */
export const remaining = (self: Deadline, now: number): number => self.deadline - now

/**
 * Whether the deadline has passed at `now`. A deadline is expired from the instant it is reached
 * (`now >= deadline`), matching a timeout that fires exactly at its boundary.
 *
 * @since 0.1.0
 * @category getters
 */
export const isExpired = (self: Deadline, now: number): boolean => now >= self.deadline

/**
 * The current request's deadline; `undefined` (the default) when none applies.
 *
 * @since 0.1.0
 * @category params
 */
export const Current = Context.Reference<Deadline | undefined>("weir/resilience/Deadline/Current", {
  defaultValue: () => undefined
})

/**
 * The current request's deadline, if any.
 *
 * @since 0.1.0
 * @category accessors
 */
export const current: Effect.Effect<Deadline | undefined> = Effect.withFiber((fiber) =>
  Effect.succeed(fiber.getRef(Current))
)

/**
 * Runs `self` under `deadline` combined with the current one (earliest wins).
 *
 * @since 0.1.0
 * @category combinators
 */
export const withDeadline: {
  (deadline: Deadline): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, deadline: Deadline): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E, R>(self: Effect.Effect<A, E, R>, deadline: Deadline): Effect.Effect<A, E, R> =>
    withDeadlineImpl(self, deadline)
)

const withDeadlineImpl = <A, E, R>(self: Effect.Effect<A, E, R>, deadline: Deadline): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => Effect.provideService(self, Current, combineOptional(fiber.getRef(Current), deadline)))

/**
 * Runs `self` with a deadline `timeout` from now, combined with the current one.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withTimeout =
  (timeout: Duration.Input) => <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.clockWith((clock) =>
      withDeadlineImpl(self, ofTimeout(clock.currentTimeMillisUnsafe(), Duration.fromInputUnsafe(timeout)))
    )

/**
 * Runs `self` with no deadline (a server boundary that must not inherit one).
 *
 * @since 0.1.0
 * @category combinators
 */
export const clear = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provideService(self, Current, undefined)

/**
 * The name of linkerd's deadline header.
 *
 * @since 0.1.0
 * @category wire
 */
export const headerName = "l5d-ctx-deadline"

const nanosPerMilli = 1_000_000n
const maxInt64 = 9_223_372_036_854_775_807n
const minInt64 = -9_223_372_036_854_775_808n

const toNanos = (millis: number): bigint => {
  if (millis === Infinity) return maxInt64
  if (millis === -Infinity) return minInt64
  const whole = Math.trunc(millis)
  const n = BigInt(whole) * nanosPerMilli + BigInt(Math.round((millis - whole) * 1e6))
  return n > maxInt64 ? maxInt64 : n < minInt64 ? minInt64 : n
}

const fromNanos = (nanos: bigint): number => {
  if (nanos === maxInt64) return Infinity
  if (nanos === minInt64) return -Infinity
  return Number(nanos / nanosPerMilli) + Number(nanos % nanosPerMilli) / 1e6
}

/**
 * Encodes a deadline as linkerd's `l5d-ctx-deadline` value: `"<timestampNanos> <deadlineNanos>"`,
 * both signed 64-bit nanoseconds since the epoch (an infinite deadline is the largest int64).
 *
 * @since 0.1.0
 * @category wire
 */
export const encode = (self: Deadline): string => `${toNanos(self.timestamp)} ${toNanos(self.deadline)}`

const int64 = /^-?\d{1,19}$/

/**
 * Decodes an `l5d-ctx-deadline` value; `None` for anything malformed (wrong number of fields,
 * non-integers, values outside int64), which callers drop as linkerd does.
 *
 * @since 0.1.0
 * @category wire
 */
export const decode = (value: string): Option.Option<Deadline> => {
  const parts = value.trim().split(/\s+/)
  if (parts.length !== 2 || !int64.test(parts[0]!) || !int64.test(parts[1]!)) return Option.none()
  const ts = BigInt(parts[0]!)
  const dl = BigInt(parts[1]!)
  if (ts > maxInt64 || ts < minInt64 || dl > maxInt64 || dl < minInt64) return Option.none()
  return Option.some(make(fromNanos(ts), fromNanos(dl)))
}

/**
 * Decodes every value of a (possibly repeated) header and combines the valid ones into the strictest
 * deadline; `undefined` when none is valid.
 *
 * @since 0.1.0
 * @category wire
 */
export const decodeAll = (values: Iterable<string>): Deadline | undefined => {
  let acc: Deadline | undefined
  for (const v of values) {
    const d = decode(v)
    if (d._tag === "Some") acc = combineOptional(acc, d.value)
  }
  return acc
}
