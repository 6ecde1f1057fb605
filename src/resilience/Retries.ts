/**
 * Retries send a request again when the response classifier calls its outcome a retryable failure,
 * after a backoff `Schedule`, for as long as the `RetryBudget` allows. Every request deposits into the
 * budget and every retry withdraws, so retries add at most a bounded fraction to the traffic; a retry
 * refused by the budget ends with `RetryBudgetExhausted` (not retryable, so retry filters further up
 * do not multiply it). This is Finagle's `RetryFilter` driven by a `ResponseClassifier`, as
 * MethodBuilder and linkerd 1.x's per-service `retries` (`budget`, `backoff`) use it.
 *
 * Retries respect the request's deadline (`Deadline.Current`, set by the total timeout above):
 *
 * - a request whose deadline has already passed is not sent at all (`RequestTimeout`, scope
 *   `"deadline"`), and deposits nothing;
 * - a deadline-exceeded failure (`Failure.isDeadlineExceeded`) is never retried, whatever the
 *   classifier says;
 * - a retry whose backoff would end at or past the deadline is not started: the request ends with its
 *   last outcome (an attempt timeout, say) and nothing is withdrawn from the budget.
 *
 * Stats (under `retries/`): `total` retries sent, `per_request` (histogram of retries per request),
 * `budget_exhausted`, `deadline_exceeded` (requests or retries not sent for lack of time), and the
 * gauge `budget` (the current balance).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import { isDeadlineExceeded, RequestTimeout, RetryBudgetExhausted } from "../Failure.js"
import * as Filter from "../Filter.js"
import type { Service } from "../Service.js"
import * as Stack from "../Stack.js"
import * as Stats from "../Stats.js"
import * as Backoff from "./Backoff.js"
import * as Deadline from "./Deadline.js"
import * as InvalidOption from "./InvalidOption.js"
import * as ResponseClass from "./ResponseClass.js"
import * as RetryBudget from "./RetryBudget.js"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options<Req, Rep, E> {
  /** Decides what is retried. Defaults to `ResponseClass.defaultClassifier`. */
  readonly classifier?: ResponseClass.ResponseClassifier<Req, Rep, E> | undefined
  /**
   * The delay before each retry; when it ends, retrying stops. Defaults to `Backoff.immediate`
   * (linkerd's `constant` with `ms: 0`).
   */
  readonly backoff?: Schedule.Schedule<unknown, unknown> | undefined
  /** The budget; one per path or client. Defaults to a new `RetryBudget` with default settings. */
  readonly budget?: RetryBudget.RetryBudget | undefined
  /** An upper bound on retries per request, an integer `>= 0`. Defaults to unbounded (the budget decides). */
  readonly maxRetries?: number | undefined
  /** Where to record stats. Defaults to the discarding receiver. */
  readonly stats?: Stats.StatsReceiver | undefined
}

/**
 * The attempt number of the current call, `0` for the first; set by the retry filter for the
 * services below it (e.g. for logs and tracing).
 *
 * @since 0.1.0
 * @category params
 */
export const Attempt = Context.Reference<number>("weir/resilience/Retries/Attempt", { defaultValue: () => 0 })

/**
 * A retry filter. Fails with `InvalidOption` for a bad `maxRetries`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R>(
  options?: Options<Req, Rep, E>
): Effect.Effect<
  Filter.Filter<Req, Rep, E, R, E | RetryBudgetExhausted | RequestTimeout, R>,
  InvalidOption.InvalidOption
> =>
  Effect.gen(function*() {
    const maxRetries = yield* InvalidOption.number("Retries.make", "maxRetries", options?.maxRetries, Infinity, {
      min: 0,
      integer: true,
      allowInfinite: true
    })
    const budget = options?.budget ?? (yield* RetryBudget.make())
    return makeUnsafe<Req, Rep, E, R>({
      classifier: options?.classifier ?? ResponseClass.defaultClassifier,
      backoff: options?.backoff ?? Backoff.immediate,
      budget,
      maxRetries,
      stats: options?.stats ?? Stats.noop
    })
  })

/**
 * A retry filter from complete, already validated options.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUnsafe = <Req, Rep, E, R>(options: {
  readonly classifier: ResponseClass.ResponseClassifier<Req, Rep, E>
  readonly backoff: Schedule.Schedule<unknown, unknown>
  readonly budget: RetryBudget.RetryBudget
  readonly maxRetries: number
  readonly stats: Stats.StatsReceiver
  /**
   * Runs on each attempt's response before it is classified (e.g. to read a body a retry would
   * discard), returning the response to classify; `undefined` classifies the response as it is.
   * Defaults to none.
   */
  readonly prepare?: ((request: Req, response: Rep) => Effect.Effect<Rep> | undefined) | undefined
}): Filter.Filter<Req, Rep, E, R, E | RetryBudgetExhausted | RequestTimeout, R> => {
  const { backoff, budget, classifier, maxRetries, prepare, stats } = options
  const total = stats.counter("total")
  const perRequest = stats.histogram("per_request")
  const exhausted = stats.counter("budget_exhausted")
  const deadlineExceeded = stats.counter("deadline_exceeded")
  type Step = (now: number, input: unknown) => Effect.Effect<[unknown, Duration.Duration], unknown>
  type Out = Effect.Effect<Rep, E | RetryBudgetExhausted | RequestTimeout, R>

  const loop = (
    request: Req,
    next: Service<Req, Rep, E, R>,
    attempt: number,
    step: Step | undefined,
    clock: Clock.Clock,
    deadline: number
  ): Out =>
    // matchCauseEffect rather than flatMap(exit(…)): one step less per attempt, the same exits
    Effect.matchCauseEffect(
      attempt === 0 ? next.call(request) : Effect.provideService(next.call(request), Attempt, attempt),
      {
        onSuccess: (value) => {
          const prepared = prepare === undefined ? undefined : prepare(request, value)
          return prepared === undefined
            ? after(request, next, attempt, step, clock, deadline, Exit.succeed(value))
            : Effect.flatMap(prepared, (v) => after(request, next, attempt, step, clock, deadline, Exit.succeed(v)))
        },
        onFailure: (cause) => after(request, next, attempt, step, clock, deadline, Exit.failCause(cause))
      }
    )

  const stop = (attempt: number, exit: Exit.Exit<Rep, E>): Exit.Exit<Rep, E> => {
    perRequest.add(attempt)
    return exit
  }

  const after = (
    request: Req,
    next: Service<Req, Rep, E, R>,
    attempt: number,
    step: Step | undefined,
    clock: Clock.Clock,
    deadline: number,
    exit: Exit.Exit<Rep, E>
  ): Out => {
    const cls = classifier(request, exit)
    if (cls._tag === "Success" || !cls.retryable || attempt >= maxRetries) return stop(attempt, exit)
    const error = exit._tag === "Failure" ? Exit.findErrorOption(exit) : undefined
    if (error !== undefined && error._tag === "Some" && isDeadlineExceeded(error.value)) return stop(attempt, exit)
    const now = clock.currentTimeMillisUnsafe()
    if (now >= deadline) {
      deadlineExceeded.incr()
      return stop(attempt, exit)
    }
    return Effect.flatMap(
      step === undefined ? Schedule.toStep(backoff) : Effect.succeed(step),
      (s) =>
        Effect.flatMap(Effect.exit(s(now, exit)), (decision) => {
          if (decision._tag === "Failure") return stop(attempt, exit)
          const delay = decision.value[1]
          if (now + Duration.toMillis(delay) >= deadline) {
            deadlineExceeded.incr()
            return stop(attempt, exit)
          }
          if (!budget.tryWithdrawUnsafe(now)) {
            exhausted.incr()
            perRequest.add(attempt)
            if (error === undefined) return exit
            return error._tag === "Some"
              ? Effect.fail(new RetryBudgetExhausted({ cause: error.value, attempts: attempt + 1 }))
              : exit
          }
          total.incr()
          const again = loop(request, next, attempt + 1, s as Step, clock, deadline)
          return Duration.isZero(delay) ? again : Effect.andThen(Effect.sleep(delay), again)
        })
    )
  }

  return Filter.onFiber((request: Req, next: Service<Req, Rep, E, R>, fiber) => {
    const clock = fiber.getRef(Clock.Clock)
    const now = clock.currentTimeMillisUnsafe()
    const deadline = fiber.getRef(Deadline.Current)
    if (deadline !== undefined && Deadline.isExpired(deadline, now)) {
      deadlineExceeded.incr()
      return Effect.fail(
        new RequestTimeout({ scope: "deadline", timeout: Duration.millis(deadline.deadline - deadline.timestamp) })
      )
    }
    budget.depositUnsafe(now)
    return loop(request, next, 0, undefined, clock, deadline === undefined ? Infinity : deadline.deadline)
  })
}

/**
 * Parameters of the `Retries` module. Each defaults as in `Options`; the classifier defaults to the
 * `ResponseClass.Classifier` reference and the budget to `RetryBudget.fromContext`.
 *
 * @since 0.1.0
 * @category params
 */
export const Config = Context.Reference<{
  readonly classifier?: ResponseClass.ResponseClassifier<any, any, any> | undefined
  readonly backoff?: Schedule.Schedule<unknown, unknown> | undefined
  readonly maxRetries?: number | undefined
}>("weir/resilience/Retries/Config", { defaultValue: () => ({}) })

/**
 * Retries as a stack module (role `Retries`), reading `Config`, `ResponseClass.Classifier`,
 * `RetryBudget.Shared`/`RetryBudget.Config` and `Stats.Receiver` (scoped `retries`). It registers the
 * gauge `retries/budget` for the life of the stack's scope.
 *
 * @since 0.1.0
 * @category modules
 */
export const module = <Req, Rep, E, R>(): Stack.Module<Req, Rep, E | RetryBudgetExhausted | RequestTimeout, R> =>
  Stack.module(
    "Retries",
    "Classified retries with backoff, bounded by the retry budget; below the total timeout so all retries share its clock.",
    (next) =>
      Effect.gen(function*() {
        const config = yield* Config
        const classifier = config.classifier ?? (yield* ResponseClass.Classifier)
        const maxRetries = yield* InvalidOption.number("Retries.module", "maxRetries", config.maxRetries, Infinity, {
          min: 0,
          integer: true,
          allowInfinite: true
        }).pipe(Effect.orDie)
        const budget = yield* RetryBudget.fromContext
        const stats = (yield* Stats.Receiver).scope("retries")
        const clock = yield* Clock.Clock
        const unregister = stats.gauge(["budget"], () => budget.balanceUnsafe(clock.currentTimeMillisUnsafe()))
        yield* Effect.addFinalizer(() => Effect.sync(unregister))
        const filter = makeUnsafe<Req, Rep, E | RetryBudgetExhausted | RequestTimeout, R>({
          classifier,
          backoff: config.backoff ?? Backoff.immediate,
          budget,
          maxRetries,
          stats
        })
        return Filter.toService(filter, next)
      })
  )
