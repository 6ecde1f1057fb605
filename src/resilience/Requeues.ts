/**
 * Requeues are the automatic, always-on retry of failures that never reached the server — connection
 * refused, a full admission queue, a node marked dead (`Failure.isRetryable`): such a request is
 * safe to send again, and sitting above the balancer it lands on another endpoint. They draw on
 * their own budget (one per client) and respect time:
 *
 * - **Per-request cap.** A request may requeue at most `min(maxRequeues, ceil(maxRequeuesPerRequest ·
 *   balance))` times, the balance read when it starts: Finagle's `RequeueFilter` cap (20 % of the
 *   balance, so no request eats the whole budget) under an absolute ceiling of 4, so that one request
 *   to a dead backend costs at most 5 attempts however full the budget is (Finagle's cap alone allows
 *   21 with an idle default budget).
 * - **Backoff.** The first requeue goes at once (it usually lands on another endpoint); later ones wait
 *   a decorrelated-jitter delay of 5 ms growing towards 100 ms (`defaultBackoff`). Finagle and linkerd
 *   requeue with no delay at all; weir waits because a failure that repeats is rarely cured by
 *   resending at once.
 * - **Deadline.** No attempt starts once the request's deadline (`Deadline.Current`) has passed, and
 *   no requeue whose backoff would end at or past it: the request fails with `RequestTimeout` (scope
 *   `"deadline"`, not retryable). A deadline-exceeded failure from below is never requeued.
 * - **Status.** None while the service below is not `Open` (the whole cluster is struggling).
 *
 * A requeue refused by the cap or the budget ends with `RetryBudgetExhausted` (not retryable, so retry
 * filters above do not multiply it). The budget is deposited only when the final outcome is a
 * success, and withdrawn only for a requeue that is actually sent. Finagle's `RequeueFilter`;
 * linkerd 1.x's per-client `requeueBudget`.
 *
 * Stats (under `retries/`): `requeues`, `requeues_per_request` (histogram), `budget_exhausted`,
 * `request_limit`, `not_open`, `deadline_exceeded`, and the gauge `requeue_budget`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Failure from "../Failure.js"
import * as Filter from "../Filter.js"
import { callOn, type Service } from "../Service.js"
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
  /** The client's requeue budget. Defaults to a new `RetryBudget` with default settings. */
  readonly budget?: RetryBudget.RetryBudget | undefined
  /** Delay before each requeue; when it ends, requeues stop. Defaults to `defaultBackoff`. */
  readonly backoff?: Schedule.Schedule<unknown, unknown> | undefined
  /** The share of the balance one request may use, in [0, 1]. Defaults to `0.2`. */
  readonly maxRequeuesPerRequest?: number | undefined
  /** An upper bound on requeues per request, an integer `>= 0` (or `Infinity`). Defaults to `4`. */
  readonly maxRequeues?: number | undefined
  /** Decides which final outcomes deposit (successes). Defaults to `ResponseClass.defaultClassifier`. */
  readonly classifier?: ResponseClass.ResponseClassifier<Req, Rep, E> | undefined
  /** Where to record stats. Defaults to the discarding receiver. */
  readonly stats?: Stats.StatsReceiver | undefined
}

/**
 * The default requeue backoff: the first requeue at once, then decorrelated jitter from 5 ms towards
 * 100 ms (0, 5, [5, 15), … ms).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBackoff: Backoff.Backoff = Backoff.immediateFirst(
  Backoff.decorrelatedJittered("5 millis", "100 millis")
)

/**
 * The defaults: 20 % of the balance per request (Finagle's), at most 4 requeues, `defaultBackoff`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults = {
  maxRequeuesPerRequest: 0.2,
  maxRequeues: 4,
  backoff: defaultBackoff
} as const

const validate = (
  where: string,
  options: { readonly maxRequeuesPerRequest?: number | undefined; readonly maxRequeues?: number | undefined }
): Effect.Effect<{ readonly share: number; readonly max: number }, InvalidOption.InvalidOption> =>
  Effect.gen(function*() {
    const share = yield* InvalidOption.number(
      where,
      "maxRequeuesPerRequest",
      options.maxRequeuesPerRequest,
      defaults.maxRequeuesPerRequest,
      { min: 0, max: 1 }
    )
    const max = yield* InvalidOption.number(where, "maxRequeues", options.maxRequeues, defaults.maxRequeues, {
      min: 0,
      integer: true,
      allowInfinite: true
    })
    return { share, max }
  })

/**
 * A requeue filter. Fails with `InvalidOption` for `maxRequeuesPerRequest` outside [0, 1] or a
 * `maxRequeues` that is not an integer `>= 0`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R>(
  options?: Options<Req, Rep, E>
): Effect.Effect<
  Filter.Filter<Req, Rep, E, R, E | Failure.RetryBudgetExhausted | Failure.RequestTimeout, R>,
  InvalidOption.InvalidOption
> =>
  Effect.gen(function*() {
    const { max, share } = yield* validate("Requeues.make", options ?? {})
    const budget = options?.budget ?? (yield* RetryBudget.make())
    return makeUnsafe<Req, Rep, E, R>({
      budget,
      backoff: options?.backoff,
      maxRequeuesPerRequest: share,
      maxRequeues: max,
      classifier: options?.classifier ?? ResponseClass.defaultClassifier,
      stats: options?.stats ?? Stats.noop
    })
  })

const isRequeueable = <A, E>(exit: Exit.Exit<A, E>): E | undefined => {
  if (exit._tag === "Success") return undefined
  const error = Exit.findErrorOption(exit)
  return error._tag === "Some" && Failure.isRetryable(error.value) && !Failure.isDeadlineExceeded(error.value)
    ? error.value
    : undefined
}

const timedOut = (deadline: Deadline.Deadline): Failure.RequestTimeout =>
  new Failure.RequestTimeout({ scope: "deadline", timeout: Duration.millis(deadline.deadline - deadline.timestamp) })

/**
 * A requeue filter from validated options; `backoff`, `maxRequeuesPerRequest` and `maxRequeues`
 * default as in `defaults`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUnsafe = <Req, Rep, E, R>(options: {
  readonly budget: RetryBudget.RetryBudget
  readonly backoff?: Schedule.Schedule<unknown, unknown> | undefined
  readonly maxRequeuesPerRequest?: number | undefined
  readonly maxRequeues?: number | undefined
  readonly classifier: ResponseClass.ResponseClassifier<Req, Rep, E>
  readonly stats: Stats.StatsReceiver
}): Filter.Filter<Req, Rep, E, R, E | Failure.RetryBudgetExhausted | Failure.RequestTimeout, R> => {
  const { budget, classifier, stats } = options
  const backoff = options.backoff ?? defaults.backoff
  const share = options.maxRequeuesPerRequest ?? defaults.maxRequeuesPerRequest
  const maxRequeues = options.maxRequeues ?? defaults.maxRequeues
  const requeues = stats.counter("requeues")
  const perRequest = stats.histogram("requeues_per_request")
  const exhausted = stats.counter("budget_exhausted")
  const requestLimit = stats.counter("request_limit")
  const notOpen = stats.counter("not_open")
  const deadlineExceeded = stats.counter("deadline_exceeded")
  type Step = (now: number, input: unknown) => Effect.Effect<[unknown, Duration.Duration], unknown>
  type Out = Effect.Effect<Rep, E | Failure.RetryBudgetExhausted | Failure.RequestTimeout, R>

  const finish = (request: Req, exit: Exit.Exit<Rep, E>, count: number, now: number) => {
    perRequest.add(count)
    if (classifier(request, exit)._tag === "Success") budget.depositUnsafe(now)
    return exit
  }

  const refuse = (count: number, error: E): Out => {
    perRequest.add(count)
    return Effect.fail(new Failure.RetryBudgetExhausted({ cause: error, attempts: count + 1 }))
  }

  const late = (count: number, deadline: Deadline.Deadline): Out => {
    deadlineExceeded.incr()
    perRequest.add(count)
    return Effect.fail(timedOut(deadline))
  }

  const loop = (
    request: Req,
    next: Service<Req, Rep, E, R>,
    count: number,
    limit: number,
    step: Step | undefined,
    clock: Clock.Clock,
    deadline: Deadline.Deadline | undefined,
    fiber?: Fiber.Fiber<unknown, unknown>
  ): Out =>
    // the fiber's clock, read once per request by the caller (a fiber's services do not change under it);
    // matchCauseEffect rather than flatMap(exit(…)): one step less per attempt, the same exits; the
    // first attempt is called on the caller's fiber (`Service.callOn`: the balancer and the endpoint
    // stack below read it without a step of their own)
    Effect.matchCauseEffect(fiber !== undefined ? callOn(next, request, fiber) : next.call(request), {
      onSuccess: (value) => after(request, next, count, limit, step, clock, deadline, Exit.succeed(value)),
      onFailure: (cause) => after(request, next, count, limit, step, clock, deadline, Exit.failCause(cause))
    })

  const after = (
    request: Req,
    next: Service<Req, Rep, E, R>,
    count: number,
    limit: number,
    step: Step | undefined,
    clock: Clock.Clock,
    deadline: Deadline.Deadline | undefined,
    exit: Exit.Exit<Rep, E>
  ): Out => {
    const now = clock.currentTimeMillisUnsafe()
    const error = isRequeueable(exit)
    if (error === undefined) return finish(request, exit, count, now)
    if (next.status !== "Open") {
      notOpen.incr()
      return finish(request, exit, count, now)
    }
    if (deadline !== undefined && Deadline.isExpired(deadline, now)) return late(count, deadline)
    if (limit < 0) limit = Math.min(maxRequeues, Math.ceil(share * budget.balanceUnsafe(now)))
    if (count >= limit) {
      if (budget.balanceUnsafe(now) === 0) exhausted.incr()
      else requestLimit.incr()
      return refuse(count, error)
    }
    return Effect.flatMap(
      step === undefined ? Schedule.toStep(backoff) : Effect.succeed(step),
      (s) =>
        Effect.flatMap(Effect.exit(s(now, exit)), (decision) => {
          if (decision._tag === "Failure") {
            exhausted.incr()
            return refuse(count, error)
          }
          const delay = decision.value[1]
          if (deadline !== undefined && Deadline.isExpired(deadline, now + Duration.toMillis(delay))) {
            return late(count, deadline)
          }
          if (!budget.tryWithdrawUnsafe(now)) {
            exhausted.incr()
            return refuse(count, error)
          }
          requeues.incr()
          const again = loop(request, next, count + 1, limit, s as Step, clock, deadline)
          return Duration.isZero(delay) ? again : Effect.andThen(Effect.sleep(delay), again)
        })
    )
  }

  return Filter.onFiber((request: Req, next: Service<Req, Rep, E, R>, fiber) => {
    const clock = fiber.getRef(Clock.Clock)
    const deadline = fiber.getRef(Deadline.Current)
    if (deadline !== undefined && Deadline.isExpired(deadline, clock.currentTimeMillisUnsafe())) {
      deadlineExceeded.incr()
      return Effect.fail(timedOut(deadline))
    }
    // the per-request cap is read from the budget when a first requeue is considered (-1 until
    // then): a request that needs none costs no budget read
    return loop(request, next, 0, -1, undefined, clock, deadline, fiber)
  })
}

/**
 * Parameters of the `Requeues` module. Each defaults as in `defaults` (also when the value set here
 * leaves it out); the budget comes from `RetryBudget.Shared`/`RetryBudget.Config`.
 *
 * @since 0.1.0
 * @category params
 */
export const Config = Context.Reference<{
  readonly backoff?: Schedule.Schedule<unknown, unknown> | undefined
  readonly maxRequeuesPerRequest?: number | undefined
  readonly maxRequeues?: number | undefined
}>("weir/resilience/Requeues/Config", { defaultValue: () => defaults })

/**
 * Requeues as a stack module (role `Requeues`), reading `Config`, `ResponseClass.Classifier`,
 * `RetryBudget.Shared`/`RetryBudget.Config` and `Stats.Receiver` (scoped `retries`).
 *
 * @since 0.1.0
 * @category modules
 */
export const module = <Req, Rep, E, R>(): Stack.Module<
  Req,
  Rep,
  E | Failure.RetryBudgetExhausted | Failure.RequestTimeout,
  R
> =>
  Stack.module(
    "Requeues",
    "Requeues of failures that never reached a server; above the balancer so each lands on another endpoint, drawing on the client's budget.",
    (next) =>
      Effect.gen(function*() {
        const config = yield* Config
        const { max, share } = yield* validate("Requeues.module", config).pipe(Effect.orDie)
        const budget = yield* RetryBudget.fromContext
        const stats = (yield* Stats.Receiver).scope("retries")
        const clock = yield* Clock.Clock
        const unregister = stats.gauge(["requeue_budget"], () => budget.balanceUnsafe(clock.currentTimeMillisUnsafe()))
        yield* Effect.addFinalizer(() => Effect.sync(unregister))
        return Filter.toService(
          makeUnsafe<Req, Rep, E | Failure.RetryBudgetExhausted | Failure.RequestTimeout, R>({
            budget,
            backoff: config.backoff,
            maxRequeuesPerRequest: share,
            maxRequeues: max,
            classifier: yield* ResponseClass.Classifier,
            stats
          }),
          next
        )
      })
  )
