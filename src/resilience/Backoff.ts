/**
 * Backoffs as Effect `Schedule`s whose output is the delay: the shapes Finagle and linkerd 1.x use for
 * retries (`constant`, `jittered` = decorrelated jitter) and failure accrual (`equalJittered`, 5 s to
 * 300 s by default), plus full-jitter exponential. Every random draw comes from Effect's `Random`, so
 * `Random.withSeed(seed)` makes a sequence reproducible. All are infinite; bound them with
 * `Schedule.upTo({ times })` or `take`. Shapes follow Finagle's `Backoff` (finagle-core `Backoff.scala`).
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as InvalidOption from "./InvalidOption.js"

/**
 * A backoff: a schedule whose output is the delay before the next attempt.
 *
 * @since 0.1.0
 * @category model
 */
export type Backoff = Schedule.Schedule<Duration.Duration, unknown>

const fromDelays = (init: () => (random: () => number) => number): Backoff =>
  Schedule.fromStep(Effect.sync(() => {
    const next = init()
    return (_now: number, _input: unknown) =>
      Effect.map(Random.next, (u) => {
        const d = Duration.millis(next(() => u))
        return [d, d] as [Duration.Duration, Duration.Duration]
      })
  }))

const ms = (d: Duration.Input): number => Duration.toMillis(Duration.fromInputUnsafe(d))

/**
 * The same delay every time (linkerd `backoff: {kind: constant, ms}`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const constant = (delay: Duration.Input): Backoff => {
  const d = ms(delay)
  return fromDelays(() => () => d)
}

/**
 * Decorrelated jitter (linkerd `backoff: {kind: jittered, minMs, maxMs}`, Finagle's
 * `decorrelatedJittered`): the first delay is `min`; each next one is drawn uniformly from
 * `[previous, min(3·previous, max))`, so delays grow towards `max` and never exceed it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const decorrelatedJittered = (min: Duration.Input, max: Duration.Input): Backoff => {
  const lo = ms(min)
  const hi = ms(max)
  return fromDelays(() => {
    let previous: number | undefined
    return (random) => {
      if (previous === undefined) previous = Math.min(lo, hi)
      else if (previous < hi) {
        const upper = Math.min(3 * Math.max(previous, 1), hi)
        previous += Math.floor(random() * (upper - previous))
      }
      return previous
    }
  })
}

/**
 * Equal jitter (Finagle's `equalJittered`, failure accrual's default with 5 s and 300 s): the first
 * delay is `start`; the k-th next is `start·2^(k−1) + U[0, start·2^(k−1))`, capped at `max`, and once
 * the cap is reached every later delay is `max`. For (5 s, 300 s): 5, [5,10), [10,20), [20,40),
 * [40,80), [80,160), [160,300], then 300 forever.
 *
 * @since 0.1.0
 * @category constructors
 */
export const equalJittered = (start: Duration.Input, max: Duration.Input): Backoff => {
  const base = ms(start)
  const hi = ms(max)
  return fromDelays(() => {
    let attempt = 0
    let capped = false
    return (random) => {
      if (capped) return hi
      const k = attempt++
      if (k === 0) {
        if (base >= hi) capped = true
        return Math.min(base, hi)
      }
      const half = base * Math.pow(2, k - 1)
      const d = half + Math.floor(random() * half)
      if (half >= hi || d >= hi) {
        capped = true
        return hi
      }
      return d
    }
  })
}

/**
 * Full-jitter exponential (Finagle's `exponentialJittered`): the first delay is `start`; attempt `k`
 * draws uniformly from `[0, min(start·2^k, max))`, and once that bound reaches `max` every later
 * delay is `max`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const exponentialJittered = (start: Duration.Input, max: Duration.Input): Backoff => {
  const base = ms(start)
  const hi = ms(max)
  return fromDelays(() => {
    let attempt = 0
    let capped = false
    return (random) => {
      if (capped) return hi
      const k = attempt++
      if (k === 0) return Math.min(base, hi)
      const bound = base * Math.pow(2, k)
      if (bound >= hi) {
        capped = true
        return hi
      }
      return Math.floor(random() * bound)
    }
  })
}

/**
 * Plain exponential without jitter: `start·multiplier^k`, capped at `max` (default unbounded).
 *
 * @since 0.1.0
 * @category constructors
 */
export const exponential = (start: Duration.Input, multiplier = 2, max: Duration.Input = "Infinity"): Backoff => {
  const base = ms(start)
  const hi = ms(max)
  return fromDelays(() => {
    let attempt = 0
    return () => Math.min(base * Math.pow(multiplier, attempt++), hi)
  })
}

/**
 * The zero backoff: retry at once (Finagle's default for requeues).
 *
 * @since 0.1.0
 * @category constructors
 */
export const immediate: Backoff = constant(0)

/**
 * `self` with a zero delay in front: the first retry goes at once, the later ones wait `self`'s
 * delays from its first on. For requeues, where the first resend usually lands on another endpoint and
 * only repeated failures suggest that waiting would help.
 *
 * @since 0.1.0
 * @category combinators
 */
export const immediateFirst = (self: Backoff): Backoff =>
  Schedule.fromStep(Effect.map(Schedule.toStep(self), (step) => {
    let first = true
    return (now: number, input: unknown) => {
      if (!first) return step(now, input)
      first = false
      return Effect.succeed([Duration.zero, Duration.zero] as [Duration.Duration, Duration.Duration])
    }
  }))

/**
 * Validates the bounds of a `min`/`max` backoff (both non-negative, `min <= max`), failing with
 * `InvalidOption` naming `where`.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateRange = (
  where: string,
  min: Duration.Input,
  max: Duration.Input
): Effect.Effect<readonly [Duration.Duration, Duration.Duration], InvalidOption.InvalidOption> =>
  Effect.gen(function*() {
    const lo = yield* InvalidOption.duration(where, "min", min, Duration.zero)
    const hi = yield* InvalidOption.duration(where, "max", max, Duration.zero)
    if (Duration.isGreaterThan(lo, hi)) {
      return yield* new InvalidOption.InvalidOption({
        module: where,
        option: "max",
        expected: `a duration >= min (${Duration.format(lo)})`,
        actual: hi
      })
    }
    return [lo, hi] as const
  })

/**
 * A stateful cursor over a backoff, for code that draws delays one at a time (failure accrual):
 * `next` gives the next delay, or `whenDone` once the schedule has ended; `reset` starts over.
 *
 * @since 0.1.0
 * @category model
 */
export interface Cursor {
  readonly next: Effect.Effect<Duration.Duration>
  readonly reset: Effect.Effect<void>
}

/**
 * A cursor over `backoff`. `whenDone` defaults to 300 seconds (Finagle's accrual keeps marking dead
 * for 300 s once its backoff runs out).
 *
 * @since 0.1.0
 * @category constructors
 */
export const cursor = (
  backoff: Schedule.Schedule<unknown, unknown>,
  whenDone: Duration.Duration = Duration.seconds(300)
): Effect.Effect<Cursor> =>
  Effect.sync(() => {
    let step: ((now: number, input: unknown) => Effect.Effect<[unknown, Duration.Duration], unknown>) | undefined
    let done = false
    const next: Effect.Effect<Duration.Duration> = Effect.suspend(() => {
      if (done) return Effect.succeed(whenDone)
      const ensure = step === undefined
        ? Effect.map(Schedule.toStep(backoff), (s) => {
          step = s as typeof step
          return s
        })
        : Effect.succeed(step)
      return ensure.pipe(
        Effect.flatMap((s) => s!(0, undefined)),
        Effect.map(([, d]) => d),
        Effect.catchCause((cause) => {
          done = true
          return Cause.hasFails(cause) ? Effect.succeed(whenDone) : Effect.failCause(cause as Cause.Cause<never>)
        })
      )
    })
    return {
      next,
      reset: Effect.sync(() => {
        step = undefined
        done = false
      })
    }
  })

/**
 * The first `n` delays of a backoff in milliseconds (fewer if it ends): for tests and docs.
 *
 * @since 0.1.0
 * @category utils
 */
export const take = (backoff: Schedule.Schedule<unknown, unknown>, n: number): Effect.Effect<Array<number>> =>
  Effect.gen(function*() {
    const step = yield* Schedule.toStep(backoff)
    const out: Array<number> = []
    for (let i = 0; i < n; i++) {
      const r = yield* Effect.result(step(0, undefined))
      if (r._tag === "Failure") break
      out.push(Duration.toMillis(r.success[1]))
    }
    return out
  }) as Effect.Effect<Array<number>>
