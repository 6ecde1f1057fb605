/**
 * The recent requests a proxy served, as linkerd's `io.l5d.recentRequests` telemeter keeps them: a
 * sample of the requests (each one is kept with probability `sampleRate`) in a ring of the newest
 * `capacity`, shown by the admin server at `/requests` and `/requests.json`.
 *
 * A router given a `Recorder` asks it once per request whether to sample it (`sample`); only a
 * sampled request pays for anything more: a `Capture` that the data path fills in as the request
 * goes (the identified name, the client, the endpoint, the retries) and that `record` turns into an
 * `Entry` when the response is known. A router without a recorder (no telemeter, or `sampleRate: 0`)
 * does none of this.
 *
 * Sampling draws from Effect's `Random` when the recorder is built (`make`), so `Random.withSeed`
 * makes it reproducible; `nextDouble` replaces it outright.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"

/**
 * One recorded request.
 *
 * @since 0.1.0
 * @category model
 */
export interface Entry {
  /** When the request arrived, in milliseconds since the epoch. */
  readonly timestamp: number
  /** The router's label. */
  readonly router: string
  readonly method: string
  /** The request target as received (path and query). */
  readonly uri: string
  /** `Host`, or `:authority` on HTTP/2; `""` when absent. */
  readonly host: string
  /** The logical name the identifier produced (`/svc/books`); absent when it identified none. */
  readonly service?: string | undefined
  /** The bound client id of the last attempt (`/#/io.l5d.fs/books`); absent when none was picked. */
  readonly client?: string | undefined
  /** The endpoint (`ip:port`) of the last attempt; absent when no endpoint was reached. */
  readonly endpoint?: string | undefined
  /** The response status, the router's own error responses included. */
  readonly status: number
  /** The message of the router's own error response (its `l5d-err`, decoded). */
  readonly error?: string | undefined
  /** Milliseconds from arrival to the response's head. */
  readonly durationMs: number
  /** Retries the path stack made (attempts after the first). */
  readonly retries: number
}

/**
 * What the data path fills in about one sampled request while it is routed.
 *
 * @since 0.1.0
 * @category model
 */
export interface Capture {
  readonly timestamp: number
  /** `performance.now()` at arrival. */
  readonly start: number
  readonly router: string
  readonly method: string
  readonly uri: string
  readonly host: string
  service: string | undefined
  client: string | undefined
  endpoint: string | undefined
  retries: number
  /** `l5d-err` of the router's own error response, noted before an edge (`clearContext`) strips it. */
  error: string | undefined
}

/**
 * Decides which requests are kept and keeps them.
 *
 * @since 0.1.0
 * @category model
 */
export interface Recorder {
  /** Whether to keep the next request (drawn at `sampleRate`). */
  readonly sample: () => boolean
  readonly record: (entry: Entry) => void
}

/**
 * A ring of the newest sampled requests.
 *
 * @since 0.1.0
 * @category model
 */
export interface RecentRequests extends Recorder {
  readonly capacity: number
  readonly sampleRate: number
  /** The kept requests, newest first. */
  readonly entries: () => ReadonlyArray<Entry>
}

/**
 * Options of `make` and `makeUnsafe`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** The probability that a request is kept, 0 … 1. */
  readonly sampleRate: number
  /** How many requests are kept. Defaults to `10`, linkerd's. */
  readonly capacity?: number | undefined
  /** A double in [0, 1) per request; defaults to Effect's `Random` (in `make`) or `Math.random`. */
  readonly nextDouble?: (() => number) | undefined
}

/**
 * A ring from `options`, sampling with `options.nextDouble` (else `Math.random`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUnsafe = (options: Options): RecentRequests => {
  const capacity = Math.max(1, Math.floor(options.capacity ?? 10))
  const sampleRate = Math.min(1, Math.max(0, options.sampleRate))
  const next = options.nextDouble ?? Math.random
  const ring: Array<Entry | undefined> = new Array(capacity)
  let written = 0
  return {
    capacity,
    sampleRate,
    sample: sampleRate >= 1 ? () => true : sampleRate <= 0 ? () => false : () => next() < sampleRate,
    record: (entry) => {
      ring[written % capacity] = entry
      written++
    },
    entries: () => {
      const out: Array<Entry> = []
      for (let i = written - 1; i >= 0 && i >= written - capacity; i--) out.push(ring[i % capacity]!)
      return out
    }
  }
}

/**
 * A ring from `options`, sampling from Effect's `Random` unless `nextDouble` is given.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<RecentRequests> =>
  Effect.gen(function*() {
    const random = yield* Random.Random
    return makeUnsafe({ ...options, nextDouble: options.nextDouble ?? (() => random.nextDoubleUnsafe()) })
  })

/**
 * Several recorders as one: each samples on its own and records what it sampled. `undefined` when
 * there are none, so that a router given it does nothing per request.
 *
 * @since 0.1.0
 * @category combinators
 */
export const combine = (recorders: ReadonlyArray<Recorder>): Recorder | undefined => {
  if (recorders.length <= 1) return recorders[0]
  let chosen: Array<Recorder> = []
  return {
    sample: () => {
      chosen = recorders.filter((r) => r.sample())
      return chosen.length > 0
    },
    record: (entry) => {
      for (const r of chosen) r.record(entry)
    }
  }
}

/**
 * The entry a finished capture makes, with the response's `status` and the router's `error`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const entryOf = (capture: Capture, status: number, error: string | undefined, end: number): Entry => ({
  timestamp: capture.timestamp,
  router: capture.router,
  method: capture.method,
  uri: capture.uri,
  host: capture.host,
  ...(capture.service !== undefined ? { service: capture.service } : {}),
  ...(capture.client !== undefined ? { client: capture.client } : {}),
  ...(capture.endpoint !== undefined ? { endpoint: capture.endpoint } : {}),
  status,
  ...(error !== undefined ? { error } : {}),
  durationMs: Math.round((end - capture.start) * 1000) / 1000,
  retries: capture.retries
})

/**
 * `/requests.json`: the settings and the kept requests, newest first.
 *
 * @since 0.1.0
 * @category rendering
 */
export const toJson = (self: RecentRequests): {
  readonly sampleRate: number
  readonly capacity: number
  readonly requests: ReadonlyArray<Entry>
} => ({ sampleRate: self.sampleRate, capacity: self.capacity, requests: self.entries() })
