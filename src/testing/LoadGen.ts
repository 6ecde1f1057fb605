/**
 * Load generators on Effect's `Clock`: a constant rate (one request every `1000 / rps` ms) or a
 * Poisson process (exponential gaps with mean `1000 / rps` ms, from a seeded generator). Under
 * `TestClock` the arrivals happen in simulated time, so a minute of load at 1000 rps costs no real
 * minute.
 *
 * ```yaml
 * load: { kind: constant, rps: 1000 }
 * load: { kind: poisson, rps: 1000 }
 * ```
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Distribution from "./Distribution.js"

/**
 * A load profile.
 *
 * @since 0.1.0
 * @category model
 */
export type Load =
  | { readonly kind: "constant"; readonly rps: number }
  | { readonly kind: "poisson"; readonly rps: number }

/**
 * `rps` requests per second at a fixed interval.
 *
 * @since 0.1.0
 * @category constructors
 */
export const constant = (rps: number): Load => ({ kind: "constant", rps })

/**
 * `rps` requests per second on average, as a Poisson process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const poisson = (rps: number): Load => ({ kind: "poisson", rps })

/**
 * The YAML/JSON form of a load profile; `rps` must be a finite number `> 0`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const schema: Schema.Codec<Load> = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("constant"), rps: Schema.Finite.check(Schema.isGreaterThan(0)) }),
  Schema.Struct({ kind: Schema.Literal("poisson"), rps: Schema.Finite.check(Schema.isGreaterThan(0)) })
])

/**
 * The arrival times (ms from the start, ascending, all `< durationMs`) of a load profile, lazily.
 * The constant profile's first request arrives at 0.
 *
 * @since 0.1.0
 * @category arrivals
 */
export const arrivals = function*(load: Load, durationMs: number, rng: Distribution.Rng): Generator<number> {
  const gap = 1000 / load.rps
  if (load.kind === "constant") {
    for (let i = 0;; i++) {
      const t = i * gap
      if (t >= durationMs) return
      yield t
    }
  }
  let t = Distribution.exponential(rng, gap)
  while (t < durationMs) {
    yield t
    t += Distribution.exponential(rng, gap)
  }
}

/**
 * Sends `send(i)` (forked) at each arrival of `load` during `durationMs` of clock time, then waits
 * for every request to finish; returns the number of requests sent. `send` must not fail.
 *
 * @since 0.1.0
 * @category running
 */
export const run = <R>(
  load: Load,
  durationMs: number,
  rng: Distribution.Rng,
  send: (index: number) => Effect.Effect<void, never, R>
): Effect.Effect<number, never, R> =>
  Effect.gen(function*() {
    const clock = yield* Clock.clockWith(Effect.succeed)
    const origin = clock.currentTimeMillisUnsafe()
    const done = yield* Deferred.make<void>()
    let outstanding = 0
    let finished = false
    let sent = 0
    const complete = Effect.suspend(() => {
      outstanding--
      return finished && outstanding === 0 ? Deferred.succeed(done, void 0) : Effect.void
    })
    for (const at of arrivals(load, durationMs, rng)) {
      const wait = origin + at - clock.currentTimeMillisUnsafe()
      if (wait > 0) yield* clock.sleep(Duration.millis(wait))
      outstanding++
      yield* Effect.forkChild(Effect.ensuring(send(sent++), complete), { startImmediately: true })
    }
    finished = true
    if (outstanding > 0) yield* Deferred.await(done)
    return sent
  })
