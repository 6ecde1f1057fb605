/**
 * Requeues are the automatic, always-on retry of failures that never reached the server — connection
 * refused, a full admission queue, a node marked dead (`Failure.isRetryable`): such a request is
 * safe to send again, and sitting above the balancer it lands on another endpoint. They draw on
 * their own budget (one per client): each request may use at most 20 % of the balance seen when it
 * starts, and none at all while the service below is not `Open` (the whole cluster is struggling).
 * A refused requeue ends with `RetryBudgetExhausted`. The budget is deposited only when the final
 * outcome is a success. Finagle's `RequeueFilter`; linkerd 1.x's per-client `requeueBudget`.
 *
 * Stats (under `retries/`): `requeues`, `requeues_per_request` (histogram), `budget_exhausted`,
 * `request_limit`, `not_open`, and the gauge `requeue_budget`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import * as Failure from "../Failure.js"
import * as Filter from "../Filter.js"
import type { Service } from "../Service.js"
import * as Stack from "../Stack.js"
import * as Stats from "../Stats.js"
import * as Backoff from "./Backoff.js"
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
  /** The client's requeue budget. Defaults to a new `RetryBudget` with default settings. */
  readonly budget?: RetryBudget.RetryBudget | undefined
  /** Delay before each requeue; when it ends, requeues stop. Defaults to `Backoff.immediate`. */
  readonly backoff?: Schedule.Schedule<unknown, unknown> | undefined
  /** The share of the balance one request may use, in [0, 1]. Defaults to `0.2`. */
  readonly maxRequeuesPerRequest?: number | undefined
  /** Decides which final outcomes deposit (successes). Defaults to `ResponseClass.defaultClassifier`. */
  readonly classifier?: ResponseClass.ResponseClassifier<Req, Rep, E> | undefined
  /** Where to record stats. Defaults to the discarding receiver. */
  readonly stats?: Stats.StatsReceiver | undefined
}

/**
 * A requeue filter. Fails with `InvalidOption` for `maxRequeuesPerRequest` outside [0, 1].
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R>(
  options?: Options<Req, Rep, E>
): Effect.Effect<Filter.Filter<Req, Rep, E, R, E | Failure.RetryBudgetExhausted, R>, InvalidOption.InvalidOption> =>
  Effect.gen(function*() {
    const share = yield* InvalidOption.number(
      "Requeues.make",
      "maxRequeuesPerRequest",
      options?.maxRequeuesPerRequest,
      0.2,
      { min: 0, max: 1 }
    )
    const budget = options?.budget ?? (yield* RetryBudget.make())
    return makeUnsafe<Req, Rep, E, R>({
      budget,
      backoff: options?.backoff ?? Backoff.immediate,
      maxRequeuesPerRequest: share,
      classifier: options?.classifier ?? ResponseClass.defaultClassifier,
      stats: options?.stats ?? Stats.noop
    })
  })

const isRequeueable = <A, E>(exit: Exit.Exit<A, E>): E | undefined => {
  if (exit._tag === "Success") return undefined
  const error = Exit.findErrorOption(exit)
  return error._tag === "Some" && Failure.isRetryable(error.value) ? error.value : undefined
}

/**
 * A requeue filter from complete, validated options.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUnsafe = <Req, Rep, E, R>(options: {
  readonly budget: RetryBudget.RetryBudget
  readonly backoff: Schedule.Schedule<unknown, unknown>
  readonly maxRequeuesPerRequest: number
  readonly classifier: ResponseClass.ResponseClassifier<Req, Rep, E>
  readonly stats: Stats.StatsReceiver
}): Filter.Filter<Req, Rep, E, R, E | Failure.RetryBudgetExhausted, R> => {
  const { backoff, budget, classifier, maxRequeuesPerRequest, stats } = options
  const requeues = stats.counter("requeues")
  const perRequest = stats.histogram("requeues_per_request")
  const exhausted = stats.counter("budget_exhausted")
  const requestLimit = stats.counter("request_limit")
  const notOpen = stats.counter("not_open")

  const finish = (request: Req, exit: Exit.Exit<Rep, E>, count: number, now: number) => {
    perRequest.add(count)
    if (classifier(request, exit)._tag === "Success") budget.depositUnsafe(now)
    return exit
  }

  const loop = (
    request: Req,
    next: Service<Req, Rep, E, R>,
    count: number,
    limit: number,
    step: ((now: number, input: unknown) => Effect.Effect<[unknown, Duration.Duration], unknown>) | undefined,
    clock: Clock.Clock
  ): Effect.Effect<Rep, E | Failure.RetryBudgetExhausted, R> =>
    // the fiber's clock, read once per request by the caller (a fiber's services do not change under it);
    // matchCauseEffect rather than flatMap(exit(…)): one step less per attempt, the same exits
    Effect.matchCauseEffect(next.call(request), {
      onSuccess: (value) => after(request, next, count, limit, step, clock, Exit.succeed(value)),
      onFailure: (cause) => after(request, next, count, limit, step, clock, Exit.failCause(cause))
    })

  const after = (
    request: Req,
    next: Service<Req, Rep, E, R>,
    count: number,
    limit: number,
    step: ((now: number, input: unknown) => Effect.Effect<[unknown, Duration.Duration], unknown>) | undefined,
    clock: Clock.Clock,
    exit: Exit.Exit<Rep, E>
  ): Effect.Effect<Rep, E | Failure.RetryBudgetExhausted, R> => {
    const now = clock.currentTimeMillisUnsafe()
    const error = isRequeueable(exit)
    if (error === undefined) return finish(request, exit, count, now)
    if (next.status !== "Open") {
      notOpen.incr()
      return finish(request, exit, count, now)
    }
    if (count >= limit) {
      if (budget.balanceUnsafe(now) === 0) exhausted.incr()
      else requestLimit.incr()
      perRequest.add(count)
      return Effect.fail(new Failure.RetryBudgetExhausted({ cause: error, attempts: count + 1 }))
    }
    if (!budget.tryWithdrawUnsafe(now)) {
      exhausted.incr()
      perRequest.add(count)
      return Effect.fail(new Failure.RetryBudgetExhausted({ cause: error, attempts: count + 1 }))
    }
    requeues.incr()
    return Effect.flatMap(
      step === undefined ? Schedule.toStep(backoff) : Effect.succeed(step),
      (s) =>
        Effect.flatMap(Effect.exit(s(now, exit)), (decision) => {
          if (decision._tag === "Failure") {
            exhausted.incr()
            perRequest.add(count)
            return Effect.fail(new Failure.RetryBudgetExhausted({ cause: error, attempts: count + 1 }))
          }
          const again = loop(request, next, count + 1, limit, s as typeof step, clock)
          const delay = decision.value[1]
          return Duration.isZero(delay) ? again : Effect.andThen(Effect.sleep(delay), again)
        })
    )
  }

  return Filter.make((request: Req, next: Service<Req, Rep, E, R>) =>
    Effect.clockWith((clock) => {
      const limit = Math.ceil(maxRequeuesPerRequest * budget.balanceUnsafe(clock.currentTimeMillisUnsafe()))
      return loop(request, next, 0, limit, undefined, clock)
    })
  )
}

/**
 * Parameters of the `Requeues` module. Each defaults as in `Options`; the budget comes from
 * `RetryBudget.Shared`/`RetryBudget.Config`.
 *
 * @since 0.1.0
 * @category params
 */
export const Config = Context.Reference<{
  readonly backoff?: Schedule.Schedule<unknown, unknown> | undefined
  readonly maxRequeuesPerRequest?: number | undefined
}>("weir/resilience/Requeues/Config", { defaultValue: () => ({}) })

/**
 * Requeues as a stack module (role `Requeues`), reading `Config`, `ResponseClass.Classifier`,
 * `RetryBudget.Shared`/`RetryBudget.Config` and `Stats.Receiver` (scoped `retries`).
 *
 * @since 0.1.0
 * @category modules
 */
export const module = <Req, Rep, E, R>(): Stack.Module<Req, Rep, E | Failure.RetryBudgetExhausted, R> =>
  Stack.module(
    "Requeues",
    "Requeues of failures that never reached a server; above the balancer so each lands on another endpoint, drawing on the client's budget.",
    (next) =>
      Effect.gen(function*() {
        const config = yield* Config
        const share = yield* InvalidOption.number(
          "Requeues.module",
          "maxRequeuesPerRequest",
          config.maxRequeuesPerRequest,
          0.2,
          { min: 0, max: 1 }
        ).pipe(Effect.orDie)
        const budget = yield* RetryBudget.fromContext
        const stats = (yield* Stats.Receiver).scope("retries")
        const clock = yield* Clock.Clock
        const unregister = stats.gauge(["requeue_budget"], () => budget.balanceUnsafe(clock.currentTimeMillisUnsafe()))
        yield* Effect.addFinalizer(() => Effect.sync(unregister))
        return Filter.toService(
          makeUnsafe<Req, Rep, E | Failure.RetryBudgetExhausted, R>({
            budget,
            backoff: config.backoff ?? Backoff.immediate,
            maxRequeuesPerRequest: share,
            classifier: yield* ResponseClass.Classifier,
            stats
          }),
          next
        )
      })
  )
