/**
 * Request stats of a path or a client (Finagle's `StatsFilter`): `requests`, `success`, `failures`,
 * `failures/<error tag>` (`interrupted` for a call that was only interrupted), `request_latency_ms`
 * and the gauge `pending`, and, when the responses have a status, `status/<code>` and
 * `status/<N>XX`. Success is the response classifier's verdict: the request's own
 * (`ResponseClass.Local`) when its path installed one, else the one in force at build time, given
 * once the response is final (`ResponseClass.Settle`: a streaming h2 response's trailers). Latency
 * is read from the `Clock` captured at build time, so simulated stats are exact.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Filter from "./Filter.js"
import * as ResponseClass from "./resilience/ResponseClass.js"
import * as Stack from "./Stack.js"
import * as Stats from "./Stats.js"

/**
 * Options of the stats filter.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options<Rep> {
  /** The status of a response, counted under `status/`. Defaults to none (no status counters). */
  readonly status?: ((response: Rep) => number) | undefined
  /** When a response is final (`ResponseClass.Settle`); success and failure are counted then. Defaults to at once. */
  readonly settle?: ((response: unknown) => PromiseLike<unknown> | undefined) | undefined
}

/**
 * A stats filter recording under `stats`, with its `pending` gauge's unregister function.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUnsafe = <Req, Rep, E, R>(
  stats: Stats.StatsReceiver,
  classifier: ResponseClass.ResponseClassifier<Req, Rep, E>,
  clock: Clock.Clock,
  options?: Options<Rep>
): readonly [Filter.Filter<Req, Rep, E, R>, () => void] => {
  const requests = stats.counter("requests")
  const success = stats.counter("success")
  const failures = stats.counter("failures")
  const latency = stats.histogram("request_latency_ms")
  const failuresOf = Stats.counters(stats, "failures")
  const statusOf = options?.status
  const settle = options?.settle
  const countStatus = statusOf === undefined ? undefined : Stats.statusCounters(stats)
  let pending = 0
  const unregister = stats.gauge(["pending"], () => pending)
  /** Counts the verdict on a finished call: `success`, or `failures` and `failures/<tag>`. */
  const judge = (
    classify: ResponseClass.ResponseClassifier<Req, Rep, E>,
    request: Req,
    exit: Exit.Exit<Rep, E>
  ): void => {
    if (classify(request, exit)._tag === "Success") return success.incr()
    failures.incr()
    if (exit._tag === "Failure") {
      const error = Exit.findErrorOption(exit)
      failuresOf(
        error._tag === "Some"
          ? String((error.value as { _tag?: unknown } | undefined)?._tag ?? "unknown")
          : "interrupted"
      ).incr()
    }
  }
  // counted when the call's effect is made, as the stacks above make it at once before running it (one
  // step per request instead of two); the request's classifier is read from the fiber that ran it
  const filter = Filter.make<Req, Rep, E, R>((request, next) => {
    const start = clock.currentTimeMillisUnsafe()
    requests.incr()
    pending++
    // onExitPrimitive: the recording is synchronous, so no finalizer effect is run after it
    return Effect.onExitPrimitive(next.call(request), (exit) => {
      pending--
      latency.add(clock.currentTimeMillisUnsafe() - start)
      if (countStatus !== undefined && exit._tag === "Success") countStatus(statusOf!(exit.value))
      const classify = Fiber.getCurrent()?.getRef(ResponseClass.Local) ?? classifier
      const later = settle !== undefined && exit._tag === "Success" ? settle(exit.value) : undefined
      if (later === undefined) judge(classify, request, exit)
      else {
        const judgeLater = () => judge(classify, request, exit)
        later.then(judgeLater, judgeLater)
      }
      return undefined
    })
  })
  return [filter, unregister]
}

/**
 * The scope the `Stats` module records under, inside the `Stats.Receiver`. Defaults to none (a
 * client's `requests` are at its root); `ClientStack.make` sets `logical` for its path stack, so a
 * library client's logical requests and the requests it sent are told apart.
 *
 * @since 0.1.0
 * @category params
 */
export const Scope = Context.Reference<ReadonlyArray<string>>("weir/StatsFilter/Scope", { defaultValue: () => [] })

/**
 * The stats filter as a stack module (role `Stats`), recording into the `Stats.Receiver` in force at
 * build time, under `Scope`, judging success by
 * `ResponseClass.Classifier` (or the request's `ResponseClass.Local`). With the discarding receiver
 * it installs nothing.
 *
 * @since 0.1.0
 * @category modules
 */
export const module = <Req, Rep, E, R>(options?: Options<Rep>): Stack.Module<Req, Rep, E, R> =>
  Stack.module(
    "Stats",
    "Request stats: on top so a request is counted once and its latency covers every retry, requeue and timeout below.",
    (next) =>
      Effect.gen(function*() {
        const receiver = yield* Stats.Receiver
        if (receiver === Stats.noop) return next
        const scope = yield* Scope
        const stats = scope.length === 0 ? receiver : receiver.scope(...scope)
        const [filter, unregister] = makeUnsafe<Req, Rep, E, R>(
          stats,
          yield* ResponseClass.Classifier,
          yield* Clock.Clock,
          { ...options, settle: yield* ResponseClass.Settle }
        )
        yield* Effect.addFinalizer(() => Effect.sync(unregister))
        return Filter.toService(filter, next)
      })
  )
