/**
 * Timeouts bound how long a caller waits: per attempt (each try, requeue or backup gets a fresh one)
 * or in total (one clock for a request and all its retries). Each also sets the request's deadline:
 * the earliest of its own and the inherited one travels in the request context
 * (`Deadline.Current`, and on the wire `l5d-ctx-deadline`), a request whose deadline has already
 * passed is not sent (`RequestTimeout` with scope `"deadline"`), and an inherited deadline that comes
 * before the local timeout cuts the wait short. The timeout fires exactly at its boundary on Effect's
 * `Clock` and interrupts the attempt. Finagle's `TimeoutFilter` (per request) and MethodBuilder's
 * total timeout; linkerd's `requestAttemptTimeoutMs` and `totalTimeoutMs`.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { RequestTimeout } from "../Failure.js"
import * as Filter from "../Filter.js"
import type { Service } from "../Service.js"
import * as Stack from "../Stack.js"
import * as Stats from "../Stats.js"
import * as Deadline from "./Deadline.js"
import * as InvalidOption from "./InvalidOption.js"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** The timeout; non-negative, may be infinite (then only inherited deadlines apply). */
  readonly timeout: Duration.Input
  /** Which timeout this is, reported in `RequestTimeout.scope`. Defaults to `"attempt"`. */
  readonly scope?: "attempt" | "total" | undefined
  /** Whether to put the deadline in the request context for the next hop. Defaults to `true`. */
  readonly propagateDeadline?: boolean | undefined
}

/**
 * A timeout filter. Fails with `InvalidOption` for a negative or malformed timeout.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R>(
  options: Options
): Effect.Effect<Filter.Filter<Req, Rep, E, R, E | RequestTimeout, R>, InvalidOption.InvalidOption> =>
  Effect.map(
    InvalidOption.duration("Timeout.make", "timeout", options.timeout, Duration.infinity, { allowInfinite: true }),
    (timeout) => makeUnsafe(timeout, options.scope ?? "attempt", options.propagateDeadline ?? true, Stats.noop)
  )

/**
 * A timeout filter from an already validated timeout, recording `timeouts` (and
 * `deadline_exceeded`) under `stats`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUnsafe = <Req, Rep, E, R>(
  timeout: Duration.Duration,
  scope: "attempt" | "total",
  propagateDeadline: boolean,
  stats: Stats.StatsReceiver
): Filter.Filter<Req, Rep, E, R, E | RequestTimeout, R> => {
  const timeoutMs = Duration.toMillis(timeout)
  const finite = Number.isFinite(timeoutMs)
  const timeouts = stats.counter("timeouts")
  const exceeded = stats.counter("deadline_exceeded")
  const ownError = new RequestTimeout({ scope, timeout })
  const fireOwn = Effect.suspend(() => {
    timeouts.incr()
    return Effect.fail(ownError)
  })
  return Filter.make((request: Req, next: Service<Req, Rep, E, R>) =>
    Effect.withFiber((fiber) => {
      const inherited = fiber.getRef(Deadline.Current)
      if (!finite && inherited === undefined) return next.call(request)
      const now = fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()
      let call = next.call(request)
      let limitMs = timeoutMs
      let deadlineFirst = false
      let deadline: Deadline.Deadline | undefined = finite ? Deadline.make(now, now + timeoutMs) : undefined
      if (inherited !== undefined) {
        const left = inherited.deadline - now
        if (left <= 0) {
          exceeded.incr()
          return Effect.fail(
            new RequestTimeout({
              scope: "deadline",
              timeout: Duration.millis(Math.max(0, left + now - inherited.timestamp))
            })
          )
        }
        if (left < limitMs) {
          limitMs = left
          deadlineFirst = true
        }
        deadline = Deadline.combineOptional(deadline, inherited)
      }
      if (propagateDeadline && deadline !== undefined) call = Effect.provideService(call, Deadline.Current, deadline)
      else if (!propagateDeadline && inherited !== undefined) call = Deadline.clear(call)
      return within(
        call,
        limitMs,
        deadlineFirst
          ? () => {
            exceeded.incr()
            return Effect.fail(
              new RequestTimeout({
                scope: "deadline",
                timeout: Duration.millis(inherited!.deadline - inherited!.timestamp)
              })
            )
          }
          : () => fireOwn
      )
    })
  )
}

/**
 * Runs `self` with a time limit of `ms` milliseconds on the `Clock`; on expiry interrupts it and runs
 * `onTimeout`. `self` runs in a child fiber started at once, so a call that completes synchronously
 * costs one fiber and no timer; only a call still running gets a timer fiber.
 *
 * @since 0.1.0
 * @category combinators
 */
export const within = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  ms: number,
  onTimeout: () => Effect.Effect<never, E2>
): Effect.Effect<A, E | E2, R> =>
  Effect.flatMap(Effect.forkChild(self, { startImmediately: true }), (child) => {
    const done = child.pollUnsafe()
    if (done !== undefined) return done
    let timedOut = false
    return Effect.flatMap(
      Effect.forkChild(
        Effect.andThen(
          Effect.sleep(Duration.millis(ms)),
          Effect.sync(() => {
            timedOut = true
            child.interruptUnsafe()
          })
        ),
        { startImmediately: true }
      ),
      (timer) =>
        Effect.flatMap(
          Effect.onInterrupt(Fiber.await(child), () =>
            Effect.sync(() => {
              timer.interruptUnsafe()
              child.interruptUnsafe()
            })),
          (exit): Effect.Effect<A, E | E2> => {
            if (timedOut && exit._tag === "Failure" && Cause.hasInterruptsOnly(exit.cause)) return onTimeout()
            timer.interruptUnsafe()
            return exit
          }
        )
    )
  })

/**
 * The per-attempt timeout read by `attemptModule`. Defaults to infinity (no timeout; inherited
 * deadlines still apply), as linkerd's `requestAttemptTimeoutMs`.
 *
 * @since 0.1.0
 * @category params
 */
export const AttemptTimeout = Context.Reference<Duration.Input>("weir/resilience/Timeout/AttemptTimeout", {
  defaultValue: () => Duration.infinity
})

/**
 * The total timeout read by `totalModule`. Defaults to infinity, as linkerd's `totalTimeoutMs`.
 *
 * @since 0.1.0
 * @category params
 */
export const TotalTimeout = Context.Reference<Duration.Input>("weir/resilience/Timeout/TotalTimeout", {
  defaultValue: () => Duration.infinity
})

/**
 * Whether timeout modules propagate their deadline downstream. Defaults to `true`.
 *
 * @since 0.1.0
 * @category params
 */
export const PropagateDeadlines = Context.Reference<boolean>("weir/resilience/Timeout/PropagateDeadlines", {
  defaultValue: () => true
})

const moduleOf = <Req, Rep, E, R>(
  role: string,
  description: string,
  param: typeof AttemptTimeout,
  scope: "attempt" | "total"
): Stack.Module<Req, Rep, E | RequestTimeout, R> =>
  Stack.module(role, description, (next) =>
    Effect.gen(function*() {
      const timeout = yield* InvalidOption.duration(
        `Timeout.${scope}Module`,
        "timeout",
        yield* param,
        Duration.infinity,
        {
          allowInfinite: true
        }
      ).pipe(Effect.orDie)
      const propagate = yield* PropagateDeadlines
      const stats = (yield* Stats.Receiver).scope(scope === "attempt" ? "request_timeout" : "total_timeout")
      return Filter.toService(makeUnsafe<Req, Rep, E | RequestTimeout, R>(timeout, scope, propagate, stats), next)
    }))

/**
 * The per-attempt timeout as a stack module (role `RequestTimeout`), reading `AttemptTimeout`.
 *
 * @since 0.1.0
 * @category modules
 */
export const attemptModule = <Req, Rep, E, R>(): Stack.Module<Req, Rep, E | RequestTimeout, R> =>
  moduleOf(
    "RequestTimeout",
    "Per-attempt timeout and deadline propagation: each try, requeue or backup gets a fresh timeout; an expired deadline is not sent.",
    AttemptTimeout,
    "attempt"
  )

/**
 * The total timeout as a stack module (role `TotalTimeout`), reading `TotalTimeout`.
 *
 * @since 0.1.0
 * @category modules
 */
export const totalModule = <Req, Rep, E, R>(): Stack.Module<Req, Rep, E | RequestTimeout, R> =>
  moduleOf(
    "TotalTimeout",
    "Total timeout: one clock for a request and all its retries; sets the deadline every attempt inherits.",
    TotalTimeout,
    "total"
  )
