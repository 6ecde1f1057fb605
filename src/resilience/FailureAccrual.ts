/**
 * Failure accrual is a per-endpoint circuit breaker driven by responses. A policy watches each
 * outcome (through the response classifier); when it trips, the endpoint is marked dead and reports
 * `Busy` for a backoff (equal-jittered 5 s … 300 s by default), so balancers stop picking it. When the
 * backoff ends exactly one request is let through as a probe: success revives the endpoint, failure
 * marks it dead again for the next, longer backoff. Like Finagle, it fails open: a request routed to
 * a dead endpoint anyway (a balancer in panic mode) is still sent.
 *
 * Semantics and defaults are Finagle's `FailureAccrualFactory`/`FailureAccrualPolicy` and linkerd
 * 1.x's `failureAccrual` kinds (`io.l5d.consecutiveFailures`, `io.l5d.successRate`,
 * `io.l5d.successRateWindowed`, `none`).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import * as Filter from "../Filter.js"
import { callOn, type Service, type Status, worstOf } from "../Service.js"
import * as Stack from "../Stack.js"
import * as Stats from "../Stats.js"
import * as Backoff from "./Backoff.js"
import * as InvalidOption from "./InvalidOption.js"
import * as ResponseClass from "./ResponseClass.js"
import * as WindowedAdder from "./WindowedAdder.js"

/**
 * Mark dead after `failures` consecutive failures.
 *
 * @since 0.1.0
 * @category policies
 */
export interface ConsecutiveFailures {
  readonly _tag: "ConsecutiveFailures"
  readonly failures: number
  readonly backoff: Backoff.Backoff
}

/**
 * Mark dead when the success rate, an exponentially weighted moving average over the last `requests`
 * requests, falls below `successRate` (only once `requests` requests have been seen).
 *
 * @since 0.1.0
 * @category policies
 */
export interface SuccessRate {
  readonly _tag: "SuccessRate"
  readonly successRate: number
  readonly requests: number
  readonly backoff: Backoff.Backoff
}

/**
 * Mark dead when the success rate, an exponentially weighted moving average over `window` of time,
 * falls below `successRate` — only once `window` has elapsed since start or revival and at least
 * `minRequests` requests were seen in the last `window`.
 *
 * @since 0.1.0
 * @category policies
 */
export interface SuccessRateWindowed {
  readonly _tag: "SuccessRateWindowed"
  readonly successRate: number
  readonly window: Duration.Duration
  readonly minRequests: number
  readonly backoff: Backoff.Backoff
}

/**
 * Never mark dead.
 *
 * @since 0.1.0
 * @category policies
 */
export interface None {
  readonly _tag: "None"
}

/**
 * A failure accrual policy: data, validated when a filter is made from it.
 *
 * @since 0.1.0
 * @category policies
 */
export type Policy = ConsecutiveFailures | SuccessRate | SuccessRateWindowed | None

/**
 * The default backoff while dead: equal jitter from 5 seconds to 300 seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBackoff: Backoff.Backoff = Backoff.equalJittered(Duration.seconds(5), Duration.seconds(300))

/**
 * `consecutiveFailures`: `failures` defaults to `5` and `backoff` to `defaultBackoff` (linkerd's
 * default policy).
 *
 * @since 0.1.0
 * @category policies
 */
export const consecutiveFailures = (
  options?: { readonly failures?: number | undefined; readonly backoff?: Backoff.Backoff | undefined }
): ConsecutiveFailures => ({
  _tag: "ConsecutiveFailures",
  failures: options?.failures ?? 5,
  backoff: options?.backoff ?? defaultBackoff
})

/**
 * `successRate(successRate, requests)`, with `backoff` defaulting to `defaultBackoff`.
 *
 * @since 0.1.0
 * @category policies
 */
export const successRate = (
  successRate: number,
  requests: number,
  options?: { readonly backoff?: Backoff.Backoff | undefined }
): SuccessRate => ({ _tag: "SuccessRate", successRate, requests, backoff: options?.backoff ?? defaultBackoff })

/**
 * `successRateWindowed(successRate, window)`; `minRequests` defaults to `5` and `backoff` to
 * `defaultBackoff`.
 *
 * @since 0.1.0
 * @category policies
 */
export const successRateWindowed = (
  successRate: number,
  window: Duration.Input,
  options?: { readonly minRequests?: number | undefined; readonly backoff?: Backoff.Backoff | undefined }
): SuccessRateWindowed => ({
  _tag: "SuccessRateWindowed",
  successRate,
  window: Duration.fromInputUnsafe(window),
  minRequests: options?.minRequests ?? 5,
  backoff: options?.backoff ?? defaultBackoff
})

/**
 * The policy that never marks an endpoint dead.
 *
 * @since 0.1.0
 * @category policies
 */
export const none: None = { _tag: "None" }

/**
 * The default policy: 5 consecutive failures, equal-jittered 5 s … 300 s (linkerd 1.x's default).
 *
 * @since 0.1.0
 * @category policies
 */
export const defaultPolicy: Policy = consecutiveFailures()

/**
 * Validates a policy, failing with `InvalidOption`: `failures` and `requests` integers `>= 1`,
 * `successRate` in [0, 1], `window` a positive duration, `minRequests` an integer `>= 0`.
 *
 * @since 0.1.0
 * @category policies
 */
export const validatePolicy = (
  policy: Policy,
  where = "FailureAccrual.make"
): Effect.Effect<Policy, InvalidOption.InvalidOption> =>
  Effect.gen(function*() {
    switch (policy._tag) {
      case "None":
        return policy
      case "ConsecutiveFailures": {
        yield* InvalidOption.number(where, "failures", policy.failures, 5, { min: 1, integer: true })
        return policy
      }
      case "SuccessRate": {
        yield* InvalidOption.number(where, "successRate", policy.successRate, 0.8, { min: 0, max: 1 })
        yield* InvalidOption.number(where, "requests", policy.requests, 5, { min: 1, integer: true })
        return policy
      }
      case "SuccessRateWindowed": {
        yield* InvalidOption.number(where, "successRate", policy.successRate, 0.8, { min: 0, max: 1 })
        yield* InvalidOption.duration(where, "window", policy.window, Duration.seconds(30), { allowZero: false })
        yield* InvalidOption.number(where, "minRequests", policy.minRequests, 5, { min: 0, integer: true })
        return policy
      }
    }
  })

/**
 * The mutable state of a policy for one endpoint.
 *
 * @since 0.1.0
 * @category policies
 */
export interface PolicyState {
  readonly recordSuccess: (now: number) => void
  /** Records a failure; `true` when the endpoint should be marked dead. */
  readonly markDeadOnFailure: (now: number) => boolean
  /** Forgets the history (on revival). */
  readonly revived: (now: number) => void
}

const ema = (window: number) => {
  let time = Number.NEGATIVE_INFINITY
  let value = 1
  return {
    update: (stamp: number, x: number) => {
      if (time === Number.NEGATIVE_INFINITY) value = x
      else {
        const w = window <= 0 ? 0 : Math.exp(-(stamp - time) / window)
        value = x * (1 - w) + value * w
      }
      time = stamp
      return value
    },
    reset: () => {
      time = Number.NEGATIVE_INFINITY
      value = 1
    }
  }
}

/**
 * Fresh state for a (validated) policy, starting at `now`.
 *
 * @since 0.1.0
 * @category policies
 */
export const policyState = (policy: Policy, now: number): PolicyState => {
  switch (policy._tag) {
    case "None":
      return { recordSuccess: () => {}, markDeadOnFailure: () => false, revived: () => {} }
    case "ConsecutiveFailures": {
      let failures = 0
      return {
        recordSuccess: () => {
          failures = 0
        },
        markDeadOnFailure: () => ++failures >= policy.failures,
        revived: () => {
          failures = 0
        }
      }
    }
    case "SuccessRate": {
      const rate = ema(policy.requests)
      let requests = 0
      return {
        recordSuccess: () => {
          rate.update(++requests, 1)
        },
        markDeadOnFailure: () => rate.update(++requests, 0) < policy.successRate && requests >= policy.requests,
        revived: () => {
          requests = 0
          rate.reset()
        }
      }
    }
    case "SuccessRateWindowed": {
      const windowMs = Duration.toMillis(policy.window)
      const rate = ema(windowMs)
      const recent = WindowedAdder.make(windowMs, 5)
      let start = now
      return {
        recordSuccess: (t) => {
          recent.add(t, 1)
          rate.update(t - start, 1)
        },
        markDeadOnFailure: (t) => {
          recent.add(t, 1)
          const r = rate.update(t - start, 0)
          return t - start >= windowMs && r < policy.successRate && recent.sum(t) >= policy.minRequests
        },
        revived: (t) => {
          start = t
          rate.reset()
          recent.reset()
        }
      }
    }
  }
}

/**
 * The state of an endpoint: `Alive`; `Dead` for a backoff (status `Busy`); `ProbeOpen` once the
 * backoff ends, waiting for the one probe; `ProbeClosed` while the probe is in flight (status `Busy`).
 *
 * @since 0.1.0
 * @category model
 */
export type State = "Alive" | "Dead" | "ProbeOpen" | "ProbeClosed"

/**
 * A failure accrual filter for one endpoint, with its live state.
 *
 * @since 0.1.0
 * @category model
 */
export interface FailureAccrual<Req, Rep, E, R> extends Filter.Filter<Req, Rep, E, R> {
  readonly state: () => State
  /**
   * The start half of `apply`, for a caller that fuses accrual with the service below it: call it
   * when the request starts (a request while the probe is open becomes the probe).
   */
  readonly enter: () => void
  /**
   * The end half of `apply`: records the outcome of a request started with `enter`; returns an
   * effect to run after it, or `undefined` when there is none.
   */
  readonly record: (request: Req, exit: Exit.Exit<Rep, E>) => Effect.Effect<void> | undefined
}

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options<Req, Rep, E> {
  /** Defaults to `defaultPolicy` (5 consecutive failures, equal-jittered 5 s … 300 s). */
  readonly policy?: Policy | undefined
  /** What counts as a failure. Defaults to `ResponseClass.defaultClassifier`. */
  readonly classifier?: ResponseClass.ResponseClassifier<Req, Rep, E> | undefined
  /** Where to record `removals`, `revivals`, `probes`, `removed_for_ms`. Defaults to discarding. */
  readonly stats?: Stats.StatsReceiver | undefined
}

/**
 * A failure accrual filter for one endpoint. Its probe timers live in the surrounding scope. Fails
 * with `InvalidOption` for an invalid policy.
 *
 * Each outcome is judged by the request's `ResponseClass.Local` classifier when its path installed
 * one, else by `classifier`, once its response is final (`ResponseClass.Settle`: a streaming h2
 * response is judged by the status in its trailers). Outcomes that are only interruptions (a
 * superseded backup, a caller that gave up) are ignored; a probe interrupted that way re-opens the probe. A timeout below accrual is
 * not an interruption but a `RequestTimeout` failure, so it counts. A success while `Dead` is
 * recorded by the policy but does not revive: only the probe (or a success while probing) does.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R>(
  options?: Options<Req, Rep, E>
): Effect.Effect<FailureAccrual<Req, Rep, E, R>, InvalidOption.InvalidOption, Scope.Scope> =>
  Effect.gen(function*() {
    const policy = yield* validatePolicy(options?.policy ?? defaultPolicy)
    return yield* makeUnsafe<Req, Rep, E, R>(
      policy,
      options?.classifier ?? ResponseClass.defaultClassifier,
      options?.stats ?? Stats.noop
    )
  })

/**
 * A failure accrual filter from a validated policy.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUnsafe = <Req, Rep, E, R>(
  policy: Policy,
  classifier: ResponseClass.ResponseClassifier<Req, Rep, E>,
  stats: Stats.StatsReceiver
): Effect.Effect<FailureAccrual<Req, Rep, E, R>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const clock = yield* Clock.Clock
    const settle = yield* ResponseClass.Settle
    const runLater = Effect.runForkWith(yield* Effect.context<never>())
    const cursor = yield* Backoff.cursor(
      policy._tag === "None" ? Backoff.constant(Duration.seconds(300)) : policy.backoff
    )
    const history = policyState(policy, clock.currentTimeMillisUnsafe())
    const timed = policy._tag === "SuccessRateWindowed"
    const removals = stats.counter("removals")
    const revivals = stats.counter("revivals")
    const probes = stats.counter("probes")
    const removedFor = stats.counter("removed_for_ms")
    let state: State = "Alive"
    let generation = 0

    const markDead = (removal: boolean): Effect.Effect<void> =>
      Effect.flatMap(cursor.next, (d) => {
        if (removal) removals.incr()
        state = "Dead"
        const ms = Duration.toMillis(d)
        removedFor.incr(ms)
        const mine = ++generation
        return Effect.asVoid(
          Effect.forkIn(
            Effect.andThen(
              Effect.sleep(d),
              Effect.sync(() => {
                if (generation === mine && state === "Dead") state = "ProbeOpen"
              })
            ),
            scope
          )
        )
      })

    const recordWith = (
      classify: ResponseClass.ResponseClassifier<Req, Rep, E>,
      request: Req,
      exit: Exit.Exit<Rep, E>
    ): Effect.Effect<void> | undefined => {
      if (ResponseClass.isInterruptedOnly(exit)) {
        if (state === "ProbeClosed") state = "ProbeOpen"
        return undefined
      }
      // only the windowed success rate reads the time (the other policies' states ignore it)
      const now = timed ? clock.currentTimeMillisUnsafe() : 0
      if (classify(request, exit)._tag === "Success") {
        history.recordSuccess(now)
        if (state === "ProbeClosed" || state === "ProbeOpen") {
          revivals.incr()
          history.revived(now)
          state = "Alive"
          generation++
          return cursor.reset
        }
        return undefined
      }
      const trip = history.markDeadOnFailure(now)
      switch (state) {
        case "Alive":
          return trip ? markDead(true) : undefined
        case "Dead":
          return undefined
        default:
          return markDead(false)
      }
    }

    const enter = () => {
      if (state === "ProbeOpen") {
        state = "ProbeClosed"
        probes.incr()
      }
    }

    const record = (request: Req, exit: Exit.Exit<Rep, E>) => recordWith(classifier, request, exit)

    const applyOn = (request: Req, next: Service<Req, Rep, E, R>, fiber: Fiber.Fiber<unknown, unknown>) => {
      enter()
      // the request's own classifier when its path installed one (`ResponseClass.Local`)
      const classify = fiber.getRef(ResponseClass.Local) ?? classifier
      // recordWith returns `undefined` when there is nothing to run after it (the common case)
      return Effect.onExitPrimitive(callOn(next, request, fiber), (exit) => {
        const later = exit._tag === "Success" ? settle(exit.value) : undefined
        if (later === undefined) return recordWith(classify, request, exit)
        // a response still streaming is judged when it settles (its trailers are in)
        const record = () => {
          const after = recordWith(classify, request, exit)
          if (after !== undefined) runLater(after)
        }
        later.then(record, record)
        return undefined
      })
    }
    return {
      apply: (request: Req, next: Service<Req, Rep, E, R>) =>
        Effect.withFiber((fiber) => applyOn(request, next, fiber)),
      applyOn,
      enter,
      record,
      status: (next: Status): Status => state === "Dead" || state === "ProbeClosed" ? worstOf(next, "Busy") : next,
      state: () => state
    }
  })

/**
 * The policy read by the `FailureAccrual` module. Defaults to `defaultPolicy`.
 *
 * @since 0.1.0
 * @category params
 */
export const Config = Context.Reference<Policy>("weir/resilience/FailureAccrual/Config", {
  defaultValue: () => defaultPolicy
})

/**
 * Where the `FailureAccrual` module reports each endpoint's filter when it builds it: a read-only view
 * of its state, for admin pages. Defaults to none.
 *
 * @since 0.1.0
 * @category params
 */
export const Inspect = Context.Reference<((state: () => State) => void) | undefined>(
  "weir/resilience/FailureAccrual/Inspect",
  { defaultValue: () => undefined }
)

/**
 * Failure accrual as a stack module (role `FailureAccrual`) for the per-endpoint stack, reading
 * `Config`, `ResponseClass.Classifier` and `Stats.Receiver` (scoped `failure_accrual`), and reporting
 * its state to `Inspect` when set. With the `none` policy it installs nothing.
 *
 * @since 0.1.0
 * @category modules
 */
export const module = <Req, Rep, E, R>(): Stack.Module<Req, Rep, E, R> =>
  Stack.module(
    "FailureAccrual",
    "Per-endpoint circuit breaker: above the attempt timeout and admission so timeouts and rejections count as failures.",
    (next) =>
      Effect.gen(function*() {
        const policy = yield* validatePolicy(yield* Config, "FailureAccrual.module").pipe(Effect.orDie)
        if (policy._tag === "None") return next
        const filter = yield* makeUnsafe<Req, Rep, E, R>(
          policy,
          yield* ResponseClass.Classifier,
          (yield* Stats.Receiver).scope("failure_accrual")
        )
        const inspect = yield* Inspect
        if (inspect !== undefined) inspect(filter.state)
        return Filter.toService(filter, next)
      })
  )
