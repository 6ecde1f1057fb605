/**
 * Per-request overhead of a full client stack around a trivial service: weir's (admission + attempt
 * timeout + retries with budget + failure accrual, built by `ClientStack.single`) against cockatiel's
 * equivalent composition (bulkhead + timeout + retry + circuit breaker), in the same process and run.
 *
 * Run: `npm run bench:stack` (`tsx bench/stack/main.ts`). Optional args: `--requests N` (default 200000)
 * `--rounds R` (default 3).
 */
import {
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  ConstantBackoff,
  handleAll,
  retry,
  timeout,
  TimeoutStrategy,
  wrap
} from "cockatiel"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as ClientStack from "../../src/ClientStack.js"
import type { Failure } from "../../src/Failure.js"
import * as Admission from "../../src/resilience/Admission.js"
import * as FailureAccrual from "../../src/resilience/FailureAccrual.js"
import * as Timeout from "../../src/resilience/Timeout.js"
import * as Service from "../../src/Service.js"

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const requests = arg("requests", 200_000)
const rounds = arg("rounds", 3)
const concurrency = 100

const scope = Scope.makeUnsafe()

const buildWeir = Scope.provide(scope)(
  Effect.gen(function*() {
    const leaf = Service.make((n: number): Effect.Effect<number, Failure> => Effect.succeed(n))
    const client = yield* ClientStack.single<number, number, never, never>(leaf).pipe(
      Effect.provideService(Admission.Config, { maxConcurrency: 10, maxPending: 1000 }),
      Effect.provideService(Timeout.AttemptTimeout, "1 second"),
      Effect.provideService(FailureAccrual.Config, FailureAccrual.consecutiveFailures({ failures: 5 }))
    )
    const sequential = Effect.gen(function*() {
      let sum = 0
      for (let i = 0; i < requests; i++) sum += yield* client.call(i)
      return sum
    })
    const concurrent = Effect.forEach(
      Array.from({ length: concurrency }, (_, w) => w),
      (w) =>
        Effect.gen(function*() {
          let sum = 0
          for (let i = w; i < requests; i += concurrency) sum += yield* client.call(i)
          return sum
        }),
      { concurrency }
    )
    return {
      sequential: () => Effect.runPromise(sequential),
      concurrent: () => Effect.runPromise(concurrent)
    }
  })
)

const buildCockatiel = () => {
  const policy = wrap(
    bulkhead(10, 1000),
    timeout(1000, TimeoutStrategy.Cooperative),
    retry(handleAll, { maxAttempts: 3, backoff: new ConstantBackoff(0) }),
    circuitBreaker(handleAll, { halfOpenAfter: 5000, breaker: new ConsecutiveBreaker(5) })
  )
  const leaf = (n: number) => Promise.resolve(n)
  return {
    sequential: async () => {
      let sum = 0
      for (let i = 0; i < requests; i++) sum += await policy.execute(() => leaf(i))
      return sum
    },
    concurrent: async () => {
      const workers = Array.from({ length: concurrency }, async (_, w) => {
        let sum = 0
        for (let i = w; i < requests; i += concurrency) sum += await policy.execute(() => leaf(i))
        return sum
      })
      return Promise.all(workers)
    }
  }
}

const time = async (run: () => Promise<unknown>): Promise<number> => {
  const start = performance.now()
  await run()
  return requests / ((performance.now() - start) / 1000)
}

const main = async () => {
  const weir = await Effect.runPromise(buildWeir)
  const cockatiel = buildCockatiel()
  for (let i = 0; i < 2; i++) {
    await weir.sequential()
    await cockatiel.sequential()
  }
  const results: Record<string, Array<number>> = {
    "weir sequential": [],
    "cockatiel sequential": [],
    "weir concurrent": [],
    "cockatiel concurrent": []
  }
  for (let r = 0; r < rounds; r++) {
    results["weir sequential"]!.push(await time(weir.sequential))
    results["cockatiel sequential"]!.push(await time(cockatiel.sequential))
    results["weir concurrent"]!.push(await time(weir.concurrent))
    results["cockatiel concurrent"]!.push(await time(cockatiel.concurrent))
  }
  const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  const fmt = (n: number) => Math.round(n).toLocaleString("en-US")
  console.log(`client stack overhead: ${requests} requests × ${rounds} rounds (median ops/s), Node ${process.version}`)
  for (const mode of ["sequential", "concurrent"] as const) {
    const w = median(results[`weir ${mode}`]!)
    const c = median(results[`cockatiel ${mode}`]!)
    console.log(
      `${mode.padEnd(11)} weir ${fmt(w).padStart(10)} ops/s   cockatiel ${
        fmt(c).padStart(10)
      } ops/s   ratio weir/cockatiel ${(w / c).toFixed(2)}`
    )
  }
  await Effect.runPromise(Scope.close(scope, Exit.void))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
