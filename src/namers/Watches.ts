/**
 * The watch table the discovery namers (ZooKeeper serversets, Curator, leader election, Consul,
 * Marathon) share: one live answer per watched key, opened on the first subscriber and released an
 * idle time-to-live after the last one leaves, with stale-while-error built in and the per-namer
 * metrics and `/namer_state` data every namer exposes the same way.
 *
 * A watch's loop (given by the namer) reports through a `Handle`: `ok(value)` for a fresh answer,
 * `fail(reason)` when the backend failed. A failure after a good answer keeps that answer, marked
 * stale with the failure (the answer still routes); a failure before any answer is `Failed`. The
 * next `ok` clears the staleness.
 *
 * Metrics, under `namer/<label>/`: counters `lookups` (names looked up), `updates` (answers that
 * changed), `errors` (backend failures), `stale` (answers that went stale), and the gauge
 * `stale_watches` (watches currently answering from a stale answer).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as RcMap from "effect/RcMap"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Stats from "../Stats.js"

/**
 * One watch's answer: `Pending` until the first one, `Ok` (possibly `stale`: the last good answer
 * kept through a failure), or `Failed` (never answered).
 *
 * @since 0.1.0
 * @category models
 */
export type State<A> =
  | { readonly _tag: "Pending" }
  | { readonly _tag: "Ok"; readonly value: A; readonly stale: string | undefined }
  | { readonly _tag: "Failed"; readonly reason: string }

/**
 * How a watch loop reports.
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle<A> {
  /** A fresh answer (a no-op for subscribers when equal to the current, fresh one). */
  readonly ok: (value: A) => Effect.Effect<void>
  /** The backend failed: the last answer is kept, stale; without one the watch is `Failed`. */
  readonly fail: (reason: string) => Effect.Effect<void>
  /** The current state. */
  readonly current: () => State<A>
}

/**
 * A watch as the admin state shows it.
 *
 * @since 0.1.0
 * @category models
 */
export interface WatchInfo {
  /** `pending`, `ok`, `stale` (a failure after a good answer) or `failed` (never answered). */
  readonly state: "pending" | "ok" | "stale" | "failed"
  /** The failure while it lasts. */
  readonly error: string | undefined
  /** Answers that changed, and failures, so far. */
  readonly updates: number
  readonly failures: number
  /** When the answer last changed (ISO 8601, the Effect clock). */
  readonly lastUpdatedAt: string | undefined
}

/**
 * The table.
 *
 * @since 0.1.0
 * @category models
 */
export interface Watches<A> {
  /** The live states of `key`'s watch (opened on demand). */
  readonly states: (key: string) => Stream.Stream<State<A>>
  /** Counts one lookup (the `lookups` counter). */
  readonly looked: () => void
  /** The open watches: key, current state and counters. */
  readonly entries: Effect.Effect<ReadonlyArray<readonly [string, State<A>, WatchInfo]>>
}

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<A> {
  /** Label for logs and metrics (`namer/<label>/…`). */
  readonly label: string
  /** Equality of answers: an equal fresh answer is not published again. */
  readonly equals: (a: A, b: A) => boolean
  /** The watch loop of one key: runs until interrupted (when the watch is released). */
  readonly run: (key: string, handle: Handle<A>) => Effect.Effect<void>
  /** How long a watch stays open after its last subscriber. Defaults to 10 seconds. */
  readonly idleTimeToLive?: Duration.Input | undefined
}

interface Entry<A> {
  readonly ref: SubscriptionRef.SubscriptionRef<State<A>>
  readonly info: { updates: number; failures: number; lastUpdatedAt: number | undefined }
}

/**
 * Builds the table in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <A>(options: Options<A>): Effect.Effect<Watches<A>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { equals, label } = options
    const stats = (yield* Effect.service(Stats.Receiver)).scope("namer", label)
    const lookups = stats.counter("lookups")
    const updates = stats.counter("updates")
    const errors = stats.counter("errors")
    const staled = stats.counter("stale")
    const open = new Map<string, Entry<A>>()
    const unregister = stats.gauge(["stale_watches"], () => {
      let n = 0
      for (const e of open.values()) {
        const s = SubscriptionRef.getUnsafe(e.ref)
        if (s._tag === "Ok" && s.stale !== undefined) n++
      }
      return n
    })
    yield* Effect.addFinalizer(() => Effect.sync(unregister))

    const handle = (key: string, entry: Entry<A>): Handle<A> => ({
      current: () => SubscriptionRef.getUnsafe(entry.ref),
      ok: (value) =>
        Effect.suspend(() => {
          const s = SubscriptionRef.getUnsafe(entry.ref)
          if (s._tag === "Ok" && equals(s.value, value)) {
            return s.stale === undefined ? Effect.void : SubscriptionRef.set(entry.ref, { ...s, stale: undefined })
          }
          updates.incr()
          entry.info.updates++
          return Effect.flatMap(Clock.currentTimeMillis, (now) => {
            entry.info.lastUpdatedAt = now
            return SubscriptionRef.set(entry.ref, { _tag: "Ok", value, stale: undefined })
          })
        }),
      fail: (reason) =>
        Effect.suspend(() => {
          errors.incr()
          entry.info.failures++
          const s = SubscriptionRef.getUnsafe(entry.ref)
          if (s._tag === "Ok") {
            if (s.stale === reason) return Effect.void
            if (s.stale === undefined) staled.incr()
            return Effect.andThen(
              Effect.logWarning(`${label}: ${key}: ${reason}; keeping the last answer`),
              SubscriptionRef.set(entry.ref, { ...s, stale: reason })
            )
          }
          if (s._tag === "Failed" && s.reason === reason) return Effect.void
          return Effect.andThen(
            Effect.logWarning(`${label}: ${key}: ${reason}`),
            SubscriptionRef.set(entry.ref, { _tag: "Failed", reason })
          )
        })
    })

    const map = yield* RcMap.make({
      lookup: (key: string) =>
        Effect.gen(function*() {
          const entry: Entry<A> = {
            ref: yield* SubscriptionRef.make<State<A>>({ _tag: "Pending" }),
            info: { updates: 0, failures: 0, lastUpdatedAt: undefined }
          }
          open.set(key, entry)
          yield* Effect.addFinalizer(() => Effect.sync(() => open.delete(key)))
          yield* Effect.forkScoped(options.run(key, handle(key, entry)))
          return entry
        }),
      idleTimeToLive: options.idleTimeToLive ?? "10 seconds"
    })

    const infoOf = (entry: Entry<A>): WatchInfo => {
      const s = SubscriptionRef.getUnsafe(entry.ref)
      return {
        state: s._tag === "Pending"
          ? "pending"
          : s._tag === "Failed"
          ? "failed"
          : s.stale === undefined
          ? "ok"
          : "stale",
        error: s._tag === "Failed" ? s.reason : s._tag === "Ok" ? s.stale : undefined,
        updates: entry.info.updates,
        failures: entry.info.failures,
        lastUpdatedAt: entry.info.lastUpdatedAt === undefined
          ? undefined
          : new Date(entry.info.lastUpdatedAt).toISOString()
      }
    }

    return {
      states: (key) => Stream.unwrap(Effect.map(RcMap.get(map, key), (e) => SubscriptionRef.changes(e.ref))),
      looked: () => lookups.incr(),
      entries: Effect.sync(() =>
        Array.from(open, ([key, e]) => [key, SubscriptionRef.getUnsafe(e.ref), infoOf(e)] as const)
          .sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
      )
    }
  })

/**
 * A jittered exponential backoff: the `attempt`th delay (0-based) from `min` doubling up to `max`,
 * scaled by a random factor in [0.5, 1) (Effect's `Random`, seeded in tests).
 *
 * @since 0.1.0
 * @category backoff
 */
export const backoff = (min: Duration.Input, max: Duration.Input, attempt: number): Effect.Effect<Duration.Duration> =>
  Effect.map(Random.nextBetween(0.5, 1), (jitter) => {
    const lo = Duration.toMillis(Duration.fromInputUnsafe(min))
    const hi = Duration.toMillis(Duration.fromInputUnsafe(max))
    return Duration.millis(Math.round(Math.min(hi, lo * 2 ** Math.min(attempt, 30)) * jitter))
  })
