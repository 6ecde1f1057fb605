/**
 * Backup requests (hedging): when a request has taken longer than the observed p-th percentile of
 * latency, send one copy of it again (through the balancer below, so to another node) and take the
 * first success; the other copy is interrupted. `maxExtraLoad` sets both the percentile
 * (`1 − maxExtraLoad`, so `0.01` hedges after p99) and a local budget that limits backups to that
 * fraction of requests; when a client retry budget is given, each backup must also withdraw from it,
 * so backups and retries together stay within the client's budget. Off by default. Finagle's
 * `BackupRequestFilter` (latencies in a 30 s sliding window, threshold refreshed every 3 s; no
 * backups before the first refresh or once the threshold reaches 2 s).
 *
 * Stats (under `backups/`): `backups_sent`, `backups_won`, `budget_exhausted`, and (from the module)
 * the gauge `send_backup_after_ms`.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Filter from "../Filter.js"
import type { Service } from "../Service.js"
import * as Stack from "../Stack.js"
import * as Stats from "../Stats.js"
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
  /** Extra load allowed, in (0, 1): hedge after percentile `1 − maxExtraLoad`. Required. */
  readonly maxExtraLoad: number
  /** Never hedge sooner than this; positive. Defaults to 1 millisecond. */
  readonly minSendBackupAfter?: Duration.Input | undefined
  /** Latencies at or above this disable backups; positive. Defaults to 2 seconds. */
  readonly maxSendBackupAfter?: Duration.Input | undefined
  /** How often the threshold is recomputed; positive. Defaults to 3 seconds. */
  readonly refreshInterval?: Duration.Input | undefined
  /** The sliding window of latencies, kept in 3 buckets; positive. Defaults to 30 seconds. */
  readonly window?: Duration.Input | undefined
  /** The client's retry budget, withdrawn from for each backup. Defaults to none (local budget only). */
  readonly budget?: RetryBudget.RetryBudget | undefined
  /** Which outcomes are successes (their latencies feed the threshold). Defaults to the default classifier. */
  readonly classifier?: ResponseClass.ResponseClassifier<Req, Rep, E> | undefined
  /** Where to record stats. Defaults to discarding. */
  readonly stats?: Stats.StatsReceiver | undefined
}

/**
 * A backup-request filter, with its current threshold.
 *
 * @since 0.1.0
 * @category model
 */
export interface Backup<Req, Rep, E, R> extends Filter.Filter<Req, Rep, E, R> {
  /** Milliseconds after which a backup is sent now; `Infinity` while none would be. */
  readonly sendBackupAfter: () => number
}

/**
 * A backup-request filter. Fails with `InvalidOption` for `maxExtraLoad` outside (0, 1) or
 * non-positive durations.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R>(
  options: Options<Req, Rep, E>
): Effect.Effect<Backup<Req, Rep, E, R>, InvalidOption.InvalidOption> =>
  Effect.gen(function*() {
    const where = "Backup.make"
    const maxExtraLoad = yield* InvalidOption.number(where, "maxExtraLoad", options.maxExtraLoad, 0.01, {
      min: 0,
      max: 1,
      minExclusive: true,
      maxExclusive: true
    })
    const positive = { allowZero: false }
    const min = yield* InvalidOption.duration(
      where,
      "minSendBackupAfter",
      options.minSendBackupAfter,
      Duration.millis(1),
      positive
    )
    const max = yield* InvalidOption.duration(
      where,
      "maxSendBackupAfter",
      options.maxSendBackupAfter,
      Duration.seconds(2),
      positive
    )
    const refresh = yield* InvalidOption.duration(
      where,
      "refreshInterval",
      options.refreshInterval,
      Duration.seconds(3),
      positive
    )
    const window = yield* InvalidOption.duration(where, "window", options.window, Duration.seconds(30), positive)
    const now = yield* Clock.currentTimeMillis
    return makeUnsafe<Req, Rep, E, R>({
      maxExtraLoad,
      minMs: Duration.toMillis(min),
      maxMs: Duration.toMillis(max),
      refreshMs: Duration.toMillis(refresh),
      windowMs: Duration.toMillis(window),
      budget: options.budget,
      classifier: options.classifier ?? ResponseClass.defaultClassifier,
      stats: options.stats ?? Stats.noop,
      now
    })
  })

const sortNumbers = (a: number, b: number) => a - b

/**
 * A backup-request filter from validated settings (times in milliseconds; `now` is the construction
 * time, from which the first refresh is counted).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUnsafe = <Req, Rep, E, R>(settings: {
  readonly maxExtraLoad: number
  readonly minMs: number
  readonly maxMs: number
  readonly refreshMs: number
  readonly windowMs: number
  readonly budget: RetryBudget.RetryBudget | undefined
  readonly classifier: ResponseClass.ResponseClassifier<Req, Rep, E>
  readonly stats: Stats.StatsReceiver
  readonly now: number
}): Backup<Req, Rep, E, R> => {
  const { budget, classifier, maxExtraLoad, maxMs, minMs, refreshMs, stats, windowMs } = settings
  const local = RetryBudget.fromSettings({
    ttl: Duration.seconds(10),
    minRetriesPerSec: 0,
    percentCanRetry: maxExtraLoad
  })
  const sent = stats.counter("backups_sent")
  const won = stats.counter("backups_won")
  const exhausted = stats.counter("budget_exhausted")
  const bucketMs = windowMs / 3
  const buckets: Array<{ index: number; samples: Array<number> }> = [
    { index: -1, samples: [] },
    { index: -1, samples: [] },
    { index: -1, samples: [] }
  ]
  let threshold = Infinity
  let nextRefresh = settings.now + refreshMs
  const percentile = 1 - maxExtraLoad

  const record = (now: number, latency: number) => {
    const index = Math.floor(now / bucketMs)
    const b = buckets[index % 3]!
    if (b.index !== index) {
      b.index = index
      b.samples.length = 0
    }
    b.samples.push(latency)
  }
  const refresh = (now: number) => {
    if (now < nextRefresh) return
    nextRefresh = now + refreshMs
    const index = Math.floor(now / bucketMs)
    const all: Array<number> = []
    for (const b of buckets) if (b.index > index - 3) { for (const s of b.samples) all.push(s) }
    if (all.length === 0) {
      threshold = Infinity
      return
    }
    all.sort(sortNumbers)
    const p = Stats.percentile(all, percentile)
    threshold = p >= maxMs ? Infinity : Math.max(minMs, p)
  }
  const recordIfSuccess = (request: Req, exit: Exit.Exit<Rep, E>, now: number, start: number) => {
    if (classifier(request, exit)._tag === "Success") record(now, now - start)
  }

  const apply = (request: Req, next: Service<Req, Rep, E, R>): Effect.Effect<Rep, E, R> =>
    Effect.withFiber((fiber) => {
      const clock = fiber.getRef(Clock.Clock)
      const start = clock.currentTimeMillisUnsafe()
      local.depositUnsafe(start)
      refresh(start)
      if (threshold === Infinity) {
        return Effect.onExit(next.call(request), (exit) =>
          Effect.sync(() => recordIfSuccess(request, exit, clock.currentTimeMillisUnsafe(), start)))
      }
      const wait = threshold
      return Effect.gen(function*() {
        const original = yield* Effect.forkChild(next.call(request), { startImmediately: true })
        let backup: Fiber.Fiber<Rep, E> | undefined
        return yield* Effect.gen(function*() {
          const early = yield* Effect.timeoutOption(Fiber.await(original), Duration.millis(wait))
          if (early._tag === "Some") {
            recordIfSuccess(request, early.value, clock.currentTimeMillisUnsafe(), start)
            return yield* early.value
          }
          const now = clock.currentTimeMillisUnsafe()
          if (!(local.tryWithdrawUnsafe(now) && (budget === undefined || budget.tryWithdrawUnsafe(now)))) {
            exhausted.incr()
            const exit = yield* Fiber.await(original)
            recordIfSuccess(request, exit, clock.currentTimeMillisUnsafe(), start)
            return yield* exit
          }
          sent.incr()
          const second = yield* Effect.forkChild(next.call(request), { startImmediately: true })
          backup = second
          const [which, exit] = yield* Effect.raceFirst(
            Effect.map(Fiber.await(original), (e) =>
              [0, e] as const),
            Effect.map(Fiber.await(second), (e) => [1, e] as const)
          )
          const end = clock.currentTimeMillisUnsafe()
          if (Exit.isSuccess(exit)) {
            if (which === 1) won.incr()
            recordIfSuccess(request, exit, end, start)
            return yield* exit
          }
          const other = yield* Fiber.await(which === 0 ? second : original)
          recordIfSuccess(request, other, clock.currentTimeMillisUnsafe(), start)
          return yield* other
        }).pipe(
          Effect.ensuring(
            Effect.suspend(() =>
              backup === undefined
                ? Fiber.interrupt(original)
                : Effect.andThen(Fiber.interrupt(original), Fiber.interrupt(backup))
            )
          )
        )
      })
    })

  return { apply, sendBackupAfter: () => threshold }
}

/**
 * Settings read by the `BackupRequests` module; `undefined` (the default) disables backups.
 *
 * @since 0.1.0
 * @category params
 */
export const Config = Context.Reference<Omit<Options<any, any, any>, "stats" | "budget"> | undefined>(
  "weir/resilience/Backup/Config",
  { defaultValue: () => undefined }
)

/**
 * Backup requests as a stack module (role `BackupRequests`), reading `Config`, `RetryBudget.Shared`,
 * `ResponseClass.Classifier` and `Stats.Receiver` (scoped `backups`). Installs nothing when disabled.
 *
 * @since 0.1.0
 * @category modules
 */
export const module = <Req, Rep, E, R>(): Stack.Module<Req, Rep, E, R> =>
  Stack.module(
    "BackupRequests",
    "Hedging above the balancer (a backup goes to another node), below retries so retries are not amplified.",
    (next) =>
      Effect.gen(function*() {
        const config = yield* Config
        if (config === undefined) return next
        const filter = yield* make<Req, Rep, E, R>({
          classifier: yield* ResponseClass.Classifier,
          ...config,
          budget: yield* RetryBudget.Shared,
          stats: (yield* Stats.Receiver).scope("backups")
        }).pipe(Effect.orDie)
        const stats = (yield* Stats.Receiver).scope("backups")
        const unregister = stats.gauge(["send_backup_after_ms"], filter.sendBackupAfter)
        yield* Effect.addFinalizer(() => Effect.sync(unregister))
        return Filter.toService(filter, next)
      })
  )
