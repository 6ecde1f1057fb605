/**
 * A `RetryBudget` bounds how many retries a client may add on top of its own traffic: every request
 * deposits, every retry withdraws, and both expire after `ttl`. Over any `ttl` window the retries
 * allowed are at most `minRetriesPerSec·ttl + percentCanRetry·requests`, so when a backend starts
 * failing the extra load stays a known fraction instead of multiplying. This is Finagle's token-bucket
 * budget (Finagle guide "Retries", `RetryBudget`, and the 2016 "Retry budgets" announcement) with its
 * arithmetic and defaults, on Effect's `Clock`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as InvalidOption from "./InvalidOption.js"
import * as WindowedAdder from "./WindowedAdder.js"

/**
 * A budget of retries. The `Unsafe` methods take the current time in milliseconds (from
 * `Clock`) and are for hot paths that already read the clock.
 *
 * @since 0.1.0
 * @category model
 */
export interface RetryBudget {
  /** Records one request (a potential future retry's funding). */
  readonly deposit: Effect.Effect<void>
  /** Takes one retry from the budget; `false` (and nothing taken) when the balance is empty. */
  readonly tryWithdraw: Effect.Effect<boolean>
  /** The number of retries that could be withdrawn now. */
  readonly balance: Effect.Effect<number>
  readonly depositUnsafe: (nowMillis: number) => void
  readonly tryWithdrawUnsafe: (nowMillis: number) => boolean
  readonly balanceUnsafe: (nowMillis: number) => number
}

/**
 * Options of `make`, all optional.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /**
   * How long a deposit or withdrawal counts: between 1 second and 60 seconds. Defaults to 10 seconds
   * (linkerd `ttlSecs: 10`).
   */
  readonly ttl?: Duration.Input | undefined
  /** Retries always allowed per second of `ttl`, whatever the traffic; `>= 0`. Defaults to `10`. */
  readonly minRetriesPerSec?: number | undefined
  /** Fraction of requests that may be retried, in [0, 1]. Defaults to `0.2`. */
  readonly percentCanRetry?: number | undefined
}

/**
 * The validated settings of a budget.
 *
 * @since 0.1.0
 * @category model
 */
export interface Settings {
  readonly ttl: Duration.Duration
  readonly minRetriesPerSec: number
  readonly percentCanRetry: number
}

/**
 * The defaults: ttl 10 s, 10 retries per second, 20 % of requests.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: Settings = { ttl: Duration.seconds(10), minRetriesPerSec: 10, percentCanRetry: 0.2 }

/**
 * Validates options into settings, failing with `InvalidOption` naming the option: `ttl` outside
 * [1 s, 60 s], a negative `minRetriesPerSec`, `percentCanRetry` outside [0, 1].
 *
 * @since 0.1.0
 * @category constructors
 */
export const validate = (options?: Options): Effect.Effect<Settings, InvalidOption.InvalidOption> =>
  Effect.gen(function*() {
    const where = "RetryBudget.make"
    const ttl = yield* InvalidOption.duration(where, "ttl", options?.ttl, defaults.ttl, {
      min: Duration.seconds(1),
      max: Duration.seconds(60)
    })
    const minRetriesPerSec = yield* InvalidOption.number(
      where,
      "minRetriesPerSec",
      options?.minRetriesPerSec,
      defaults.minRetriesPerSec,
      { min: 0 }
    )
    const percentCanRetry = yield* InvalidOption.number(
      where,
      "percentCanRetry",
      options?.percentCanRetry,
      defaults.percentCanRetry,
      { min: 0, max: 1 }
    )
    return { ttl, minRetriesPerSec, percentCanRetry }
  })

const scale = 1000

const fromUnsafe = (
  depositUnsafe: (now: number) => void,
  tryWithdrawUnsafe: (now: number) => boolean,
  balanceUnsafe: (now: number) => number
): RetryBudget => ({
  depositUnsafe,
  tryWithdrawUnsafe,
  balanceUnsafe,
  deposit: Effect.clockWith((clock) => Effect.sync(() => depositUnsafe(clock.currentTimeMillisUnsafe()))),
  tryWithdraw: Effect.clockWith((clock) => Effect.sync(() => tryWithdrawUnsafe(clock.currentTimeMillisUnsafe()))),
  balance: Effect.clockWith((clock) => Effect.sync(() => balanceUnsafe(clock.currentTimeMillisUnsafe())))
})

/**
 * A budget from validated settings. Token arithmetic: a deposit adds 1000 tokens (none when
 * `percentCanRetry` is 0), a withdrawal takes `1000 / percentCanRetry` (1 when it is 0), and a
 * constant reserve of `minRetriesPerSec · ttl(s)` withdrawals is always added to the windowed sum.
 * `(0, 0)` gives `empty`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSettings = (settings: Settings): RetryBudget => {
  const { minRetriesPerSec, percentCanRetry } = settings
  if (minRetriesPerSec === 0 && percentCanRetry === 0) return empty
  const ttlMs = Duration.toMillis(settings.ttl)
  const depositAmount = percentCanRetry === 0 ? 0 : scale
  const withdrawalAmount = percentCanRetry === 0 ? 1 : Math.trunc(scale / percentCanRetry)
  const reserve = minRetriesPerSec * (ttlMs / 1000) * withdrawalAmount
  const window = WindowedAdder.make(ttlMs, 10)
  return fromUnsafe(
    (now) => {
      if (depositAmount !== 0) window.add(now, depositAmount)
    },
    (now) => {
      if (window.sum(now) + reserve >= withdrawalAmount) {
        window.add(now, -withdrawalAmount)
        return true
      }
      return false
    },
    (now) => Math.floor((window.sum(now) + reserve) / withdrawalAmount)
  )
}

/**
 * A fresh budget (one per client, shared by the modules of that client). Fails with `InvalidOption`
 * for bad options; see `validate`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<RetryBudget, InvalidOption.InvalidOption> =>
  Effect.map(validate(options), fromSettings)

/**
 * The budget that never allows a retry (balance 0).
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: RetryBudget = fromUnsafe(() => {}, () => false, () => 0)

/**
 * The budget that always allows a retry (balance reported as 100).
 *
 * @since 0.1.0
 * @category constructors
 */
export const infinite: RetryBudget = fromUnsafe(() => {}, () => true, () => 100)

/**
 * A view of `self` whose `deposit` does nothing: given to a second filter (requeues under retries)
 * so that each request deposits once while both withdraw from the same budget.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withdrawOnly = (self: RetryBudget): RetryBudget =>
  fromUnsafe(() => {}, self.tryWithdrawUnsafe, self.balanceUnsafe)

/**
 * The options new budgets are made from when a stack module builds one (one budget per built
 * client/path). Defaults to `{}` (the defaults above).
 *
 * @since 0.1.0
 * @category params
 */
export const Config = Context.Reference<Options>("weir/resilience/RetryBudget/Config", { defaultValue: () => ({}) })

/**
 * The budget shared by the modules of the client being built: set by `ClientStack` around a build so
 * that requeues and backup requests draw on one budget. When `undefined` (the default) a module makes
 * its own from `Config`.
 *
 * @since 0.1.0
 * @category params
 */
export const Shared = Context.Reference<RetryBudget | undefined>("weir/resilience/RetryBudget/Shared", {
  defaultValue: () => undefined
})

/**
 * The shared budget if one is set, else a new one from `Config` (dying with the `InvalidOption` message
 * if `Config` is invalid: a build-time error, never a request-time one).
 *
 * @since 0.1.0
 * @category params
 */
export const fromContext: Effect.Effect<RetryBudget> = Effect.gen(function*() {
  const shared = yield* Shared
  if (shared !== undefined) return shared
  return yield* Effect.orDie(make(yield* Config))
})
