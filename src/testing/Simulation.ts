/**
 * Runs a `Scenario` deterministically in simulated time: for each variant, a fresh `TestClock` and
 * a seeded `Random`, simulated endpoints (`SimEndpoint`), the client stack the variant's `client`
 * keys describe, and a load generator (`LoadGen`); the clock is advanced until every request has
 * finished, so a minute of traffic at 1000 rps takes no real minute. The same scenario and seed give
 * the same report on every run.
 *
 * The client is built by the functions the proxy builds its own with: `ProxyStack.path` (what
 * `http/PathStack` calls per logical name) over `ProxyStack.client` (what `http/DstClient` calls per
 * destination), configured from the variant's `client` keys as the proxy configures them, with a
 * simulated endpoint in place of each upstream connection. Top to bottom (`ClientStack`'s order):
 *
 * ```
 * caller timeout (timeoutMs)           the simulated caller gives up; its latency is capped there
 *  └ path: Stats · ResponseClassifier (responseClassifier)
 *    └ TotalTimeout (totalTimeoutMs)   one clock for a request and its retries
 *      └ Retries (responseClassifier, retries.budget, retries.backoff, retries.maxRetries)
 *        └ client: Stats · BackupRequests (off) · Requeues (requeueBudget)
 *          └ balancer (loadBalancer)
 *            └ per endpoint: FailureAccrual (failureAccrual) → RequestTimeout (requestAttemptTimeoutMs)
 *                → Admission (off) → the simulated endpoint
 * ```
 *
 * What it does not run is HTTP: no union of several destinations under one name, no status-code
 * stats, no `l5d-ctx-deadline` header, no body buffering, no connection pool (a simulated endpoint
 * takes every request at once), and no server-side admission. The stacks record into the
 * `Stats.Receiver` in force (discarding by default), the path's under `service/`, the client's under
 * `client/` (`client/failure_accrual/removals`, …), with the proxy's names, in simulated time.
 *
 * ```ts
 * import { Report, Scenario, Simulation } from "weir/testing"
 *
 * const scenario = Scenario.parse(readFileSync("scenario.yaml", "utf8"), "scenario.yaml")
 * if (Result.isSuccess(scenario)) {
 *   const outcome = yield* Simulation.run(scenario.success)
 *   console.log(Report.toTable(outcome.report))
 * }
 * ```
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Random from "effect/Random"
import * as Result from "effect/Result"
import * as Scheduler from "effect/Scheduler"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as Address from "../Address.js"
import * as Client from "../config/Client.js"
import * as ProxyStack from "../ProxyStack.js"
import * as FailureAccrual from "../resilience/FailureAccrual.js"
import * as ResponseClass from "../resilience/ResponseClass.js"
import * as RetryBudget from "../resilience/RetryBudget.js"
import type { Service } from "../Service.js"
import * as Stats from "../Stats.js"
import * as Distribution from "./Distribution.js"
import * as LoadGen from "./LoadGen.js"
import * as Report from "./Report.js"
import * as Scenario from "./Scenario.js"
import * as SimEndpoint from "./SimEndpoint.js"

/**
 * The result of one variant: its report and the caller latency of every request, sorted (for plots).
 *
 * @since 0.1.0
 * @category model
 */
export interface VariantOutcome {
  readonly report: Report.Variant
  readonly latencies: Float64Array
}

/**
 * The result of a scenario: the report and the sorted latencies of each variant, in order.
 *
 * @since 0.1.0
 * @category model
 */
export interface Outcome {
  readonly report: Report.Report
  readonly latencies: ReadonlyArray<{ readonly name: string; readonly latencies: Float64Array }>
}

/**
 * A variant that cannot run: its client section does not build, or requests were still in flight an
 * hour of simulated time after the load stopped (a scenario without `timeoutMs` against endpoints
 * that never answer).
 *
 * @since 0.1.0
 * @category errors
 */
export class SimulationError extends Data.TaggedError("SimulationError")<{
  readonly variant: string
  readonly detail: string
}> {
  override get message(): string {
    return `variant "${this.variant}": ${this.detail}`
  }
}

/**
 * Simulated time allowed after the load stops for the last requests to finish. One hour.
 *
 * @since 0.1.0
 * @category constants
 */
export const drainLimit: Duration.Duration = Duration.hours(1)

/**
 * Runs one variant (`name`, with its resolved `client`) of a scenario on the current clock and
 * `Random`. Use `runVariant`, which supplies a fresh `TestClock` and the seed, unless you drive time
 * yourself; this one must run under a `TestClock`.
 *
 * @since 0.1.0
 * @category running
 */
export const runVariantOnClock = (
  scenario: Scenario.Scenario,
  name: string,
  client: Client.Section
): Effect.Effect<VariantOutcome, SimulationError> =>
  Effect.scoped(Effect.gen(function*() {
    const fail = (detail: string) => Effect.fail(new SimulationError({ variant: name, detail }))
    const interpreted = Client.interpret(client)
    if (Result.isFailure(interpreted)) return yield* fail(Client.formatProblems(interpreted.failure))
    const config = interpreted.success
    const classify = ResponseClass.byStatus(config.responsePolicy)
    const clock = yield* Clock.Clock
    const seed = scenario.seed

    const sims: Array<SimEndpoint.SimEndpoint> = []
    for (const group of scenario.endpoints) {
      for (let i = 0; i < group.count; i++) {
        const index = sims.length
        sims.push(SimEndpoint.makeWithClock({
          index,
          latency: group.latency,
          failureRate: group.failureRate,
          failureLatency: group.failureLatency,
          events: group.events.map((e) => ({
            atMs: Duration.toMillis(e.atMs),
            latency: e.latency,
            failureRate: e.failureRate,
            failureLatency: e.failureLatency
          })),
          rng: Distribution.makeRng(seed, 1 + index)
        }, clock))
      }
    }

    let attempts = 0
    let firstAttempts = 0
    const reached: Array<boolean> = []
    const counted = (sim: SimEndpoint.SimEndpoint): Service<SimEndpoint.Request, SimEndpoint.Response, unknown> => ({
      call: (request) =>
        Effect.suspend(() => {
          attempts++
          if (reached[request.id] !== true) {
            reached[request.id] = true
            firstAttempts++
          }
          return sim.call(request)
        }),
      status: "Open"
    })

    const buildError = (e: { readonly message: string }) => new SimulationError({ variant: name, detail: e.message })
    const policy = yield* FailureAccrual.validatePolicy(config.failureAccrual).pipe(Effect.mapError(buildError))
    yield* RetryBudget.validate(config.requeueBudget).pipe(Effect.mapError(buildError))
    yield* RetryBudget.validate(config.retries.budget).pipe(Effect.mapError(buildError))

    const stats = yield* Stats.Receiver
    const addresses = sims.map((s) => Address.make(`endpoint-${s.index}`, 80, { meta: { index: s.index } }))
    type Req = SimEndpoint.Request
    type Rep = SimEndpoint.Response
    const destination = yield* ProxyStack.client<Req, Rep, unknown, never>({
      label: "simulation",
      addresses: Stream.make(addresses),
      connect: (address) => Effect.succeed(counted(sims[address.meta["index"] as number]!)),
      params: {
        balancer: config.balancer,
        failureAccrual: policy,
        requeueBudget: config.requeueBudget,
        attemptTimeout: config.requestAttemptTimeout
      },
      classifier: classify,
      stats: stats === Stats.noop ? stats : stats.scope("client")
    })
    const { service } = yield* ProxyStack.path<Req, Rep, unknown, never>({
      service: destination,
      params: { totalTimeout: config.totalTimeout, retries: config.retries, classifier: classify },
      stats: stats === Stats.noop ? stats : stats.scope("service")
    })

    const callerTimeout = scenario.timeoutMs === undefined ? undefined : Duration.toMillis(scenario.timeoutMs)
    const method = scenario.method
    let latencies = new Float64Array(1024)
    let count = 0
    let successes = 0
    const record = (ms: number, ok: boolean) => {
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2)
        grown.set(latencies)
        latencies = grown
      }
      latencies[count++] = ms
      if (ok) successes++
    }
    const call = service.call
    const send = (id: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        const start = clock.currentTimeMillisUnsafe()
        const attempt = call({ id, method })
        const bounded = callerTimeout === undefined
          ? attempt
          : Effect.timeoutOrElse(attempt, {
            duration: Duration.millis(callerTimeout),
            orElse: () => Effect.fail("caller timeout" as const)
          })
        return Effect.matchCause(bounded, {
          onFailure: () => record(clock.currentTimeMillisUnsafe() - start, false),
          onSuccess: (response) =>
            record(clock.currentTimeMillisUnsafe() - start, response.status < SimEndpoint.failureStatus)
        })
      })

    const durationMs = Duration.toMillis(scenario.durationMs)
    const loadRng = Distribution.makeRng(seed, 0)
    const generator = yield* Effect.forkChild(LoadGen.run(scenario.load, durationMs, loadRng, send))
    const limit = durationMs + Duration.toMillis(drainLimit)
    const drive = Effect.gen(function*() {
      yield* TestClock.adjust(scenario.durationMs)
      while (generator.pollUnsafe() === undefined) {
        if (clock.currentTimeMillisUnsafe() >= limit) {
          return yield* fail(
            `requests still in flight ${Duration.format(drainLimit)} after the load stopped (set timeoutMs)`
          )
        }
        yield* TestClock.adjust(Duration.seconds(1))
      }
    })
    yield* Effect.ensuring(drive, Fiber.interrupt(generator))
    const requests = count
    const sorted = latencies.subarray(0, count).sort()
    return {
      report: Report.variant({
        name,
        requests,
        successes,
        retries: attempts - firstAttempts,
        latencies: sorted,
        endpoints: sims.map((s) => {
          const c = s.counts()
          return { index: s.index, requests: c.requests, failures: c.failures }
        })
      }),
      latencies: sorted
    }
  }))

/**
 * Runs one variant in a fresh `TestClock` (starting at 0) with `Random` seeded by the scenario's seed.
 *
 * @since 0.1.0
 * @category running
 */
export const runVariant = (
  scenario: Scenario.Scenario,
  name: string,
  client: Client.Section
): Effect.Effect<VariantOutcome, SimulationError> =>
  runVariantOnClock(scenario, name, client).pipe(
    Random.withSeed(scenario.seed),
    Effect.provide(TestClock.layer({ warningDelay: Duration.minutes(10) }), { local: true }),
    Effect.provideService(Scheduler.Scheduler, new Scheduler.MixedScheduler("sync"))
  )

/**
 * Runs every variant of a scenario (or only those named in `only`), one after the other, each in its own
 * simulated time. Naming a variant the scenario does not have is a `SimulationError`.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  scenario: Scenario.Scenario,
  options?: { readonly only?: ReadonlyArray<string> | undefined }
): Effect.Effect<Outcome, SimulationError> =>
  Effect.gen(function*() {
    const variants: Array<Report.Variant> = []
    const latencies: Array<{ readonly name: string; readonly latencies: Float64Array }> = []
    const all = Scenario.variants(scenario)
    const only = options?.only
    if (only !== undefined && only.length > 0) {
      const unknown = only.filter((name) => !all.some((v) => v.name === name))
      if (unknown.length > 0) {
        return yield* new SimulationError({
          variant: unknown[0]!,
          detail: `unknown variant ${unknown.map((n) => `"${n}"`).join(", ")} (variants: ${
            all.map((v) => v.name).join(", ")
          })`
        })
      }
    }
    for (const v of all) {
      if (only !== undefined && only.length > 0 && !only.includes(v.name)) continue
      const outcome = yield* runVariant(scenario, v.name, v.client)
      variants.push(outcome.report)
      latencies.push({ name: v.name, latencies: outcome.latencies })
    }
    return { report: { variants }, latencies }
  })

/**
 * Decodes a scenario from a plain object (the YAML form, written as a literal in a test) and runs it.
 *
 * ```ts
 * it.effect("peak EWMA avoids a slow server", () =>
 *   Effect.gen(function*() {
 *     const { report } = yield* Simulation.simulate({
 *       durationMs: 10_000,
 *       load: { kind: "constant", rps: 200 },
 *       timeoutMs: 500,
 *       endpoints: [{ count: 4, latency: { kind: "normal", meanMs: 20, sdMs: 2 } }, {
 *         latency: { kind: "constant", ms: 1000 }
 *       }],
 *       client: { loadBalancer: { kind: "ewma" }, failureAccrual: { kind: "none" } }
 *     })
 *     expect(report.variants[0]!.successRate).toBeGreaterThan(0.99)
 *   }))
 * ```
 *
 * @since 0.1.0
 * @category running
 */
export const simulate = (input: unknown): Effect.Effect<Outcome, Scenario.InvalidScenario | SimulationError> =>
  Effect.flatMap(Effect.fromResult(Scenario.decode(input)), run)
