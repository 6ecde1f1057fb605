/**
 * A resilient client around an in-process service (timeouts are retried here, as for idempotent requests), with weir's default client stack: total and
 * per-attempt timeouts, classified retries bounded by a retry budget, requeues, failure accrual and
 * admission control — configured by providing `Context.Reference` params around `ClientStack.single`.
 *
 * Run: `npx tsx examples/library/resilient-client.ts`
 */
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import {
  Admission,
  Backoff,
  ClientStack,
  Deadline,
  Failure,
  FailureAccrual,
  ResponseClass,
  Retries,
  RetryBudget,
  Service,
  Stats,
  Timeout
} from "../../src/index.js"

/** A backend that refuses every third connection and is slow on every fifth request. */
const backend = (): Service.Service<string, string, Failure.Failure> => {
  let n = 0
  return Service.make((request: string) =>
    Effect.suspend(() => {
      n++
      if (n % 3 === 0) {
        return Effect.fail(
          new Failure.ConnectionFailed({ address: "127.0.0.1:8080", reason: "refused", written: false })
        )
      }
      const answer = Effect.succeed(`hello, ${request}`)
      return n % 5 === 0 ? Effect.delay(answer, "200 millis") : answer
    })
  )
}

/** Sends ten requests through the stack and returns the answers (or failure tags) and the stats. */
export const program = Effect.gen(function*() {
  const stats = Stats.makeInMemory()
  const client = yield* ClientStack.single<string, string, never, never>(backend()).pipe(
    Effect.provideService(Stats.Receiver, stats),
    Effect.provideService(Timeout.TotalTimeout, "1 second"),
    Effect.provideService(Timeout.AttemptTimeout, "100 millis"),
    Effect.provideService(Retries.Config, {
      classifier: ResponseClass.retryOnTimeouts,
      backoff: Backoff.decorrelatedJittered("5 millis", "50 millis")
    }),
    Effect.provideService(RetryBudget.Config, { percentCanRetry: 0.2, minRetriesPerSec: 10 }),
    Effect.provideService(Admission.Config, { maxConcurrency: 4, maxPending: 8 }),
    Effect.provideService(FailureAccrual.Config, FailureAccrual.consecutiveFailures({ failures: 5 }))
  )
  const results: Array<string> = []
  for (let i = 0; i < 10; i++) {
    const outcome = yield* Effect.result(client.call(`request ${i}`).pipe(Deadline.withTimeout("2 seconds")))
    results.push(outcome._tag === "Success" ? outcome.success : outcome.failure._tag)
  }
  return { results, counters: Object.fromEntries(stats.counters) }
})

if (import.meta.url === `file://${process.argv[1]}`) {
  const scope = Scope.makeUnsafe()
  Effect.runPromise(Scope.provide(scope)(program)).then(({ counters, results }) => {
    for (const r of results) console.log(r)
    console.log(counters)
  })
}
