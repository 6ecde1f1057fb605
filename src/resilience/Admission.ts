/**
 * Admission control through a bounded queue: at most `maxConcurrency` requests run at once and at
 * most `maxPending` wait for a slot, first come first served; past that a request fails at once with
 * `Overloaded` (reason `queueFull`, retryable: it was never sent, so requeues may try another node).
 * A waiting request keeps its deadline — it leaves the queue with `RequestTimeout` (scope
 * `"deadline"`) when the deadline passes — and leaves the queue as soon as it is interrupted. While
 * the queue is full the service reports `Busy`. Finagle's `RequestSemaphoreFilter` /
 * `PendingRequestFilter` (an `AsyncSemaphore` with `maxWaiters`).
 *
 * Stats (under `admission/`): `rejected`, `deadline_exceeded`, and the gauges `in_flight` and
 * `pending`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { Overloaded, RequestTimeout } from "../Failure.js"
import * as Filter from "../Filter.js"
import { Fifo, type Node } from "../internal/Fifo.js"
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
  /** Requests allowed in flight at once: an integer `>= 1`, or `Infinity`. Defaults to `Infinity`. */
  readonly maxConcurrency?: number | undefined
  /** Requests allowed to wait for a slot: an integer `>= 0`, or `Infinity`. Defaults to `0`. */
  readonly maxPending?: number | undefined
  /** Where to record stats. Defaults to the discarding receiver. */
  readonly stats?: Stats.StatsReceiver | undefined
}

/**
 * An admission filter with its live counters.
 *
 * @since 0.1.0
 * @category model
 */
export interface Admission<Req, Rep, E, R> extends Filter.Filter<Req, Rep, E, R, E | Overloaded | RequestTimeout, R> {
  /** Requests running now. */
  readonly inFlight: () => number
  /** Requests waiting now. */
  readonly pending: () => number
}

/**
 * Validated admission limits.
 *
 * @since 0.1.0
 * @category model
 */
export interface Limits {
  readonly maxConcurrency: number
  readonly maxPending: number
}

/**
 * Validates admission options: `maxConcurrency` an integer `>= 1` (or `Infinity`), `maxPending` an
 * integer `>= 0` (or `Infinity`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const validate = (
  options?: Options,
  where = "Admission.make"
): Effect.Effect<Limits, InvalidOption.InvalidOption> =>
  Effect.gen(function*() {
    const maxConcurrency = yield* InvalidOption.number(where, "maxConcurrency", options?.maxConcurrency, Infinity, {
      min: 1,
      integer: true,
      allowInfinite: true
    })
    const maxPending = yield* InvalidOption.number(where, "maxPending", options?.maxPending, 0, {
      min: 0,
      integer: true,
      allowInfinite: true
    })
    return { maxConcurrency, maxPending }
  })

/**
 * An admission filter. Fails with `InvalidOption` for bad limits.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R>(
  options?: Options
): Effect.Effect<Admission<Req, Rep, E, R>, InvalidOption.InvalidOption> =>
  Effect.map(validate(options), (limits) => makeUnsafe<Req, Rep, E, R>(limits, options?.stats ?? Stats.noop))

interface Waiter extends Node<Waiter> {
  granted: boolean
  resume: ((effect: Effect.Effect<void>) => void) | undefined
}

/**
 * An admission filter from validated limits.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUnsafe = <Req, Rep, E, R>(limits: Limits, stats: Stats.StatsReceiver): Admission<Req, Rep, E, R> => {
  const { maxConcurrency, maxPending } = limits
  const rejected = stats.counter("rejected")
  const deadlineExceeded = stats.counter("deadline_exceeded")
  const queueFull = new Overloaded({ reason: "queueFull" })
  let inFlight = 0
  const waiters = new Fifo<Waiter>()

  const release = () => {
    const w = waiters.head
    if (w === undefined) {
      inFlight--
      return
    }
    waiters.unlink(w)
    w.granted = true
    w.resume!(Effect.void)
  }
  const releaseEffect = Effect.sync(release)

  const wait = Effect.callback<void>((resume) => {
    const w: Waiter = { granted: false, resume, prev: undefined, next: undefined, linked: false }
    waiters.push(w)
    return Effect.sync(() => {
      if (w.granted) release()
      else waiters.unlink(w)
    })
  })

  const apply = (request: Req, next: Service<Req, Rep, E, R>): Effect.Effect<Rep, E | Overloaded | RequestTimeout, R> =>
    Effect.uninterruptibleMask((restore): Effect.Effect<Rep, E | Overloaded | RequestTimeout, R> => {
      if (inFlight < maxConcurrency) {
        inFlight++
        return Effect.onExit(restore(next.call(request)), () => releaseEffect)
      }
      if (waiters.size >= maxPending) {
        rejected.incr()
        return Effect.fail(queueFull)
      }
      return Effect.withFiber((fiber) => {
        const deadline = fiber.getRef(Deadline.Current)
        let waiting: Effect.Effect<void, RequestTimeout> = wait
        if (deadline !== undefined) {
          const left = deadline.deadline - fiber.getRef(Clock.Clock).currentTimeMillisUnsafe()
          const error = new RequestTimeout({
            scope: "deadline",
            timeout: Duration.millis(deadline.deadline - deadline.timestamp)
          })
          if (left <= 0) {
            deadlineExceeded.incr()
            return Effect.fail(error)
          }
          waiting = Effect.timeoutOrElse(wait, {
            duration: Duration.millis(left),
            orElse: () => {
              deadlineExceeded.incr()
              return Effect.fail(error)
            }
          })
        }
        return Effect.flatMap(restore(waiting), () => Effect.onExit(restore(next.call(request)), () => releaseEffect))
      })
    })

  return {
    apply,
    status: (next) => (inFlight >= maxConcurrency && waiters.size >= maxPending && next === "Open" ? "Busy" : next),
    inFlight: () => inFlight,
    pending: () => waiters.size
  }
}

/**
 * Limits read by the `Admission` module. Defaults to `{}`: unlimited concurrency, in which case the
 * module installs nothing.
 *
 * @since 0.1.0
 * @category params
 */
export const Config = Context.Reference<{
  readonly maxConcurrency?: number | undefined
  readonly maxPending?: number | undefined
}>("weir/resilience/Admission/Config", { defaultValue: () => ({}) })

/**
 * Admission as a stack module (role `Admission`), reading `Config` and `Stats.Receiver` (scoped
 * `admission`, with gauges `in_flight` and `pending` for the life of the stack).
 *
 * @since 0.1.0
 * @category modules
 */
export const module = <Req, Rep, E, R>(): Stack.Module<Req, Rep, E | Overloaded | RequestTimeout, R> =>
  Stack.module(
    "Admission",
    "Bounded queue (maxConcurrency in flight, maxPending waiting): below the attempt timeout so queueing time counts, below failure accrual so rejections count.",
    (next) =>
      Effect.gen(function*() {
        const limits = yield* validate(yield* Config, "Admission.module").pipe(Effect.orDie)
        if (limits.maxConcurrency === Infinity) return next
        const stats = (yield* Stats.Receiver).scope("admission")
        const filter = makeUnsafe<Req, Rep, E | Overloaded | RequestTimeout, R>(limits, stats)
        const g1 = stats.gauge(["in_flight"], filter.inFlight)
        const g2 = stats.gauge(["pending"], filter.pending)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            g1()
            g2()
          })
        )
        return Filter.toService(filter, next)
      })
  )
