/**
 * The batching every tracing telemeter shares: finished spans wait in a bounded queue and a fiber
 * sends them in batches every `interval`, and once more when the telemeter's scope closes. Nothing
 * here can slow or fail a request: `push` is a constant-time append that drops the span when the
 * queue is full, and a batch whose send fails is dropped. Both are counted (`spans`, `dropped`,
 * `failures`, under the telemeter's stats scope), never retried into a growing backlog.
 *
 * `post` is the HTTP sender the Zipkin and OTLP telemeters use (`node:http`/`node:https`, with a
 * timeout; any status but 2XX is a failure).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import * as https from "node:https"
import type * as Stats from "../Stats.js"

/**
 * A running exporter.
 *
 * @since 0.1.0
 * @category model
 */
export interface SpanExporter<A> {
  /** Queues one item; drops it (counted) when the queue is full. */
  readonly push: (item: A) => void
  /** Sends everything queued now. */
  readonly flush: Effect.Effect<void>
  /** Items waiting. */
  readonly queued: () => number
}

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options<A> {
  /** Sends one batch; a failure drops the batch. */
  readonly send: (batch: ReadonlyArray<A>) => Effect.Effect<void, unknown>
  /** Where to count `spans`, `dropped`, `failures`. */
  readonly stats: Stats.StatsReceiver
  /** The most items queued; more are dropped. Defaults to `10000`. */
  readonly capacity?: number | undefined
  /** The most items in one send. Defaults to `1000`. */
  readonly batchSize?: number | undefined
  /** How often the queue is sent. Defaults to 1 second. */
  readonly interval?: Duration.Input | undefined
}

/**
 * Starts an exporter in the current scope; closing the scope sends what is queued (bounded by 5
 * seconds).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <A>(options: Options<A>): Effect.Effect<SpanExporter<A>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const capacity = options.capacity ?? 10_000
    const batchSize = options.batchSize ?? 1000
    const interval = Duration.fromInputUnsafe(options.interval ?? Duration.seconds(1))
    const exported = options.stats.counter("spans")
    const dropped = options.stats.counter("dropped")
    const failures = options.stats.counter("failures")
    let queue: Array<A> = []
    const flush = Effect.suspend(() => {
      if (queue.length === 0) return Effect.void
      const all = queue
      queue = []
      const batches: Array<Array<A>> = []
      for (let i = 0; i < all.length; i += batchSize) batches.push(all.slice(i, i + batchSize))
      return Effect.forEach(batches, (batch) =>
        options.send(batch).pipe(
          Effect.matchCause({
            onSuccess: () => exported.incr(batch.length),
            onFailure: () => {
              failures.incr()
              dropped.incr(batch.length)
            }
          })
        ), { discard: true })
    })
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(interval), flush)))
    yield* Effect.addFinalizer(() => Effect.ignore(Effect.timeoutOption(flush, Duration.seconds(5))))
    return {
      push: (item) => {
        if (queue.length >= capacity) dropped.incr()
        else queue.push(item)
      },
      flush,
      queued: () => queue.length
    }
  })

/**
 * An HTTP request failed (transport error, timeout or a status other than 2XX).
 *
 * @since 0.1.0
 * @category errors
 */
export class PostError extends Error {
  readonly _tag = "PostError"
}

/**
 * POSTs `body` to `url` with `headers`; fails with `PostError` unless the answer is 2XX within
 * `timeout` (defaults to 10 seconds).
 *
 * @since 0.1.0
 * @category http
 */
export const post = (
  url: URL,
  headers: Readonly<Record<string, string>>,
  body: string | Uint8Array,
  timeout: Duration.Input = Duration.seconds(10)
): Effect.Effect<void, PostError> =>
  Effect.callback<void, PostError>((resume) => {
    const client = url.protocol === "https:" ? https : http
    const payload = typeof body === "string" ? Buffer.from(body) : body
    const req = client.request(url, {
      method: "POST",
      headers: { ...headers, "content-length": String(payload.byteLength) },
      timeout: Duration.toMillis(Duration.fromInputUnsafe(timeout))
    }, (res) => {
      res.resume()
      res.on("end", () => {
        const status = res.statusCode ?? 0
        resume(
          status >= 200 && status < 300
            ? Effect.void
            : Effect.fail(new PostError(`POST ${url.href}: status ${status}`))
        )
      })
      res.on("error", (e) => resume(Effect.fail(new PostError(`POST ${url.href}: ${e.message}`))))
    })
    req.on("timeout", () => req.destroy(new Error("timed out")))
    req.on("error", (e) => resume(Effect.fail(new PostError(`POST ${url.href}: ${e.message}`))))
    req.end(payload)
    return Effect.sync(() => req.destroy())
  })
