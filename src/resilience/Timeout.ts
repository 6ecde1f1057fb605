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
import { Fifo, type Node } from "../internal/Fifo.js"
import { callOn, type Service } from "../Service.js"
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
  const timers = finite && timeoutMs > 0 && timeoutMs <= maxTimerMillis ? timerList(timeoutMs) : undefined
  return Filter.onFiber((request: Req, next: Service<Req, Rep, E, R>, fiber) => {
    const inherited = fiber.getRef(Deadline.Current)
    // nothing to bound: the call goes on, on this fiber (`Service.callOn`)
    if (!finite && inherited === undefined) return callOn(next, request, fiber)
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
    // the filter's own limit on the live clock: one shared timer for all its requests in flight
    if (!deadlineFirst && timers !== undefined && fiber.getRef(Clock.Clock) === liveClock) {
      return withinShared(call, timers, () => fireOwn)
    }
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
}

/**
 * Runs `self` with a time limit of `ms` milliseconds on the `Clock`; on expiry interrupts it and runs
 * `onTimeout`. `self` runs in a child fiber started at once, so a call that completes synchronously
 * costs one fiber and no timer. A call still running gets a timer: with Effect's live clock a plain
 * `setTimeout` (what that clock's `sleep` does, without a timer fiber), with any other clock
 * (`TestClock`) a fiber sleeping on it.
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
    return Effect.withFiber((fiber) =>
      fiber.getRef(Clock.Clock) === liveClock && ms > 0 && ms <= maxTimerMillis
        ? withTimer(child, ms, onTimeout)
        : withTimerFiber(child, ms, onTimeout)
    )
  })

/** Effect's default clock (the instance a fiber has when no other `Clock` was provided). */
const liveClock: Clock.Clock = Effect.runSync(Effect.clockWith(Effect.succeed))

/** The longest single `setTimeout` (the live clock chains several for longer sleeps). */
const maxTimerMillis = 2 ** 31 - 1

/** The live clock's timer as `setTimeout` directly: it fires after `ms` as that clock's `sleep` would. */
const withTimer = <A, E, E2>(
  child: Fiber.Fiber<A, E>,
  ms: number,
  onTimeout: () => Effect.Effect<never, E2>
): Effect.Effect<A, E | E2> => {
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.interruptUnsafe()
  }, ms)
  return Effect.flatMap(
    Effect.onInterrupt(Fiber.await(child), () =>
      Effect.sync(() => {
        clearTimeout(timer)
        child.interruptUnsafe()
      })),
    (exit): Effect.Effect<A, E | E2> => {
      if (timedOut && exit._tag === "Failure" && Cause.hasInterruptsOnly(exit.cause)) return onTimeout()
      clearTimeout(timer)
      return exit
    }
  )
}

/** A request waiting in a `TimerList`. */
interface Waiting extends Node<Waiting> {
  readonly child: Fiber.Fiber<unknown, unknown>
  readonly due: number
  timedOut: boolean
}

/**
 * The timers of one fixed limit on the live clock: requests in flight in the order they started
 * (so in the order they are due), and one `setTimeout` for the earliest. It fires no earlier than
 * each request's own `setTimeout(ms)` would, and keeps the process alive only while a request waits.
 */
interface TimerList {
  readonly add: (child: Fiber.Fiber<unknown, unknown>) => Waiting
  readonly remove: (waiting: Waiting) => void
}

const timerList = (ms: number): TimerList => {
  const waiting = new Fifo<Waiting>()
  let timer: ReturnType<typeof setTimeout> | undefined
  // armed for the earliest request waiting (requests are due in the order they were added)
  const arm = (first: Waiting) => {
    timer = setTimeout(fire, Math.max(0, first.due - performance.now()))
  }
  const fire = () => {
    timer = undefined
    const now = performance.now()
    while (waiting.head !== undefined && waiting.head.due <= now) {
      const w = waiting.head
      waiting.unlink(w)
      w.timedOut = true
      w.child.interruptUnsafe()
    }
    // (an interruption above may have added a request, and armed the timer for the earliest already)
    if (waiting.head !== undefined && timer === undefined) arm(waiting.head)
  }
  return {
    add: (child) => {
      const w: Waiting = {
        child,
        due: performance.now() + ms,
        timedOut: false,
        linked: false,
        prev: undefined,
        next: undefined
      }
      waiting.push(w)
      if (timer === undefined) arm(waiting.head!)
      else if (waiting.head === w) timer.ref()
      return w
    },
    remove: (w) => {
      waiting.unlink(w)
      // nothing waits: the pending timer (it re-arms only for waiting requests) no longer holds the process
      if (waiting.head === undefined && timer !== undefined) timer.unref()
    }
  }
}

/** `within` for a filter's own limit on the live clock, with the filter's shared timers. */
const withinShared = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  timers: TimerList,
  onTimeout: () => Effect.Effect<never, E2>
): Effect.Effect<A, E | E2, R> =>
  Effect.flatMap(Effect.forkChild(self, { startImmediately: true }), (child) => {
    const done = child.pollUnsafe()
    if (done !== undefined) return done
    const waiting = timers.add(child as Fiber.Fiber<unknown, unknown>)
    return Effect.flatMap(
      Effect.onInterrupt(Fiber.await(child), () =>
        Effect.sync(() => {
          timers.remove(waiting)
          child.interruptUnsafe()
        })),
      (exit): Effect.Effect<A, E | E2> => {
        if (waiting.timedOut && exit._tag === "Failure" && Cause.hasInterruptsOnly(exit.cause)) return onTimeout()
        timers.remove(waiting)
        return exit
      }
    )
  })

/** A fiber sleeping on the fiber's `Clock` (e.g. `TestClock`), then interrupting `child`. */
const withTimerFiber = <A, E, E2>(
  child: Fiber.Fiber<A, E>,
  ms: number,
  onTimeout: () => Effect.Effect<never, E2>
): Effect.Effect<A, E | E2> => {
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
}

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
