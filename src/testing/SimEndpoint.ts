/**
 * A simulated endpoint: a `Service` whose latency is a sleep on Effect's `Clock` (so `TestClock`
 * drives it and nothing really waits), drawn from a `Distribution`, and which answers a failure (HTTP
 * status 500) with probability `failureRate`, else 200. Timed events change its latency or failure
 * rate at a point in simulated time (a server that turns slow at 15 s and recovers at 45 s). It
 * counts what it served, so a report can show how a balancer spread the load.
 *
 * ```ts
 * const slow = yield* SimEndpoint.make({
 *   index: 0,
 *   latency: Distribution.normal(167, 5),
 *   events: [{ atMs: 15_000, latency: Distribution.constant(2_000) }, { atMs: 45_000, latency: Distribution.normal(167, 5) }],
 *   rng: Distribution.makeRng(1, 0)
 * })
 * ```
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { Service } from "../Service.js"
import * as Distribution from "./Distribution.js"

/**
 * A simulated request: an id (unique per simulation run) and an HTTP method, so HTTP response
 * classifiers apply.
 *
 * @since 0.1.0
 * @category model
 */
export interface Request {
  readonly id: number
  readonly method: string
}

/**
 * A simulated response: an HTTP-like status and the index of the endpoint that answered.
 *
 * @since 0.1.0
 * @category model
 */
export interface Response {
  readonly status: number
  readonly endpoint: number
}

/**
 * A change of behaviour at `atMs` of simulated time; absent fields keep their value.
 *
 * @since 0.1.0
 * @category model
 */
export interface Event {
  readonly atMs: number
  readonly latency?: Distribution.Distribution | undefined
  readonly failureRate?: number | undefined
  readonly failureLatency?: Distribution.Distribution | undefined
}

/**
 * How to build an endpoint.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** The endpoint's number, reported in responses and counts. */
  readonly index: number
  readonly latency: Distribution.Distribution
  /** Probability in [0, 1] that a response is a failure (500). Defaults to `0`. */
  readonly failureRate?: number | undefined
  /** Latency of failed responses. Defaults to `latency`. */
  readonly failureLatency?: Distribution.Distribution | undefined
  readonly events?: ReadonlyArray<Event> | undefined
  /** The generator for this endpoint's latencies and failures. */
  readonly rng: Distribution.Rng
}

/**
 * What an endpoint saw.
 *
 * @since 0.1.0
 * @category model
 */
export interface Counts {
  /** Requests that arrived. */
  readonly requests: number
  /** Requests answered with a failure status. */
  readonly failures: number
  /** Requests answered with a success status. */
  readonly successes: number
  /** Requests abandoned by the caller (interrupted) before the answer. */
  readonly interrupted: number
  /** Requests in flight now. */
  readonly pending: number
  /** The most requests ever in flight at once. */
  readonly maxPending: number
}

/**
 * A simulated endpoint.
 *
 * @since 0.1.0
 * @category model
 */
export interface SimEndpoint extends Service<Request, Response> {
  readonly index: number
  readonly counts: () => Counts
}

/**
 * The status of a successful simulated response.
 *
 * @since 0.1.0
 * @category constants
 */
export const okStatus = 200

/**
 * The status of a failed simulated response.
 *
 * @since 0.1.0
 * @category constants
 */
export const failureStatus = 500

/**
 * Builds an endpoint on the current `Clock`. Events are applied lazily: each request sees the last
 * event whose `atMs` has passed.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<SimEndpoint> =>
  Effect.map(Clock.clockWith(Effect.succeed), (clock) => makeWithClock(options, clock))

/**
 * Builds an endpoint on the given clock.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeWithClock = (options: Options, clock: Clock.Clock): SimEndpoint => {
  const { index, rng } = options
  const events = [...(options.events ?? [])].sort((a, b) => a.atMs - b.atMs)
  const origin = clock.currentTimeMillisUnsafe()
  let next = 0
  let latency = Distribution.sampler(options.latency)
  let failureLatency = options.failureLatency === undefined ? latency : Distribution.sampler(options.failureLatency)
  let failureLatencySet = options.failureLatency !== undefined
  let failureRate = options.failureRate ?? 0
  let requests = 0
  let failures = 0
  let successes = 0
  let interrupted = 0
  let pending = 0
  let maxPending = 0
  const ok: Response = { status: okStatus, endpoint: index }
  const failed: Response = { status: failureStatus, endpoint: index }
  const advance = (now: number) => {
    while (next < events.length && events[next]!.atMs <= now) {
      const e = events[next++]!
      if (e.latency !== undefined) {
        latency = Distribution.sampler(e.latency)
        if (!failureLatencySet) failureLatency = latency
      }
      if (e.failureLatency !== undefined) {
        failureLatency = Distribution.sampler(e.failureLatency)
        failureLatencySet = true
      }
      if (e.failureRate !== undefined) failureRate = e.failureRate
    }
  }
  const call = (_request: Request): Effect.Effect<Response> =>
    Effect.suspend(() => {
      advance(clock.currentTimeMillisUnsafe() - origin)
      requests++
      pending++
      if (pending > maxPending) maxPending = pending
      const fails = failureRate > 0 && rng.next() < failureRate
      const ms = fails ? failureLatency(rng) : latency(rng)
      // an infinite latency (`never`) is a request that hangs until it is interrupted
      return (ms === Infinity ? Effect.never : clock.sleep(Duration.millis(ms))).pipe(
        Effect.onExit((exit) => {
          pending--
          if (exit._tag === "Success") {
            if (fails) failures++
            else successes++
          } else interrupted++
          return Effect.void
        }),
        Effect.as(fails ? failed : ok)
      )
    })
  return {
    index,
    call,
    status: "Open",
    counts: () => ({ requests, failures, successes, interrupted, pending, maxPending })
  }
}
