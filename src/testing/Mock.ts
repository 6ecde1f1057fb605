/**
 * A scriptable mock service for tests: every request it receives waits until the test answers it
 * (`succeed`, `fail`, `die`, or any effect), so a test decides exactly when and how each call
 * completes, under `TestClock` or not. Its status can be set, and it records how many calls were
 * made, completed and interrupted. Modeled on tower's mock service.
 *
 * ```ts
 * const mock = yield* Mock.make<string, string, Failure.Failure>()
 * const fiber = yield* Effect.forkChild(mock.service.call("a"))
 * const pending = yield* mock.take
 * yield* pending.succeed("ok")
 * ```
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Queue from "effect/Queue"
import type { Service, Status } from "../Service.js"

/**
 * One request the mock received, waiting for the test to answer it.
 *
 * @since 0.1.0
 * @category model
 */
export interface Pending<Req, Rep, E> {
  readonly request: Req
  /** The 1-based arrival number of this request. */
  readonly seq: number
  readonly succeed: (response: Rep) => Effect.Effect<void>
  readonly fail: (error: E) => Effect.Effect<void>
  readonly die: (defect: unknown) => Effect.Effect<void>
  /** Answers with whatever `effect` produces (run in the caller's fiber). */
  readonly completeWith: (effect: Effect.Effect<Rep, E>) => Effect.Effect<void>
  /** Whether the caller gave up (was interrupted) before an answer. */
  readonly isInterrupted: () => boolean
  /** Whether the request was answered. */
  readonly isDone: () => boolean
}

/**
 * A mock service and its controls.
 *
 * @since 0.1.0
 * @category model
 */
export interface Mock<Req, Rep, E> {
  readonly service: Service<Req, Rep, E>
  /** Requests in arrival order, not yet taken by the test. */
  readonly requests: Queue.Dequeue<Pending<Req, Rep, E>>
  /** The next request (waits until one arrives). */
  readonly take: Effect.Effect<Pending<Req, Rep, E>>
  /** Every request received so far, in order. */
  readonly received: ReadonlyArray<Req>
  /** Calls started, answered, interrupted, and in flight now. */
  readonly calls: () => number
  readonly completed: () => number
  readonly interrupted: () => number
  readonly inFlight: () => number
  readonly setStatus: (status: Status) => void
}

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options<Req, Rep, E> {
  /** The initial status. Defaults to `"Open"`. */
  readonly status?: Status | undefined
  /**
   * Answers requests automatically: return an effect to answer with it, or `undefined` to leave the
   * request pending for the test. Defaults to leaving every request pending.
   */
  readonly respond?: ((request: Req, seq: number) => Effect.Effect<Rep, E> | undefined) | undefined
}

/**
 * A new mock service.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E = never>(options?: Options<Req, Rep, E>): Effect.Effect<Mock<Req, Rep, E>> =>
  Effect.map(Queue.unbounded<Pending<Req, Rep, E>>(), (queue) => {
    let status: Status = options?.status ?? "Open"
    let calls = 0
    let completed = 0
    let interrupted = 0
    let inFlight = 0
    const received: Array<Req> = []
    const respond = options?.respond

    const call = (request: Req): Effect.Effect<Rep, E> =>
      Effect.suspend(() => {
        const seq = ++calls
        received.push(request)
        const auto = respond?.(request, seq)
        inFlight++
        let done = false
        let gaveUp = false
        const finish = (exit: Exit.Exit<Rep, E>) =>
          Effect.sync(() => {
            inFlight--
            if (exit._tag === "Failure" && Cause.hasInterruptsOnly(exit.cause) && !done) {
              gaveUp = true
              interrupted++
            } else completed++
          })
        if (auto !== undefined) {
          done = true
          return Effect.onExit(auto, finish)
        }
        const answer = Deferred.makeUnsafe<Effect.Effect<Rep, E>>()
        const complete = (effect: Effect.Effect<Rep, E>) =>
          Effect.suspend(() => {
            if (done) return Effect.void
            done = true
            return Effect.asVoid(Deferred.succeed(answer, effect))
          })
        const pending: Pending<Req, Rep, E> = {
          request,
          seq,
          succeed: (response) => complete(Effect.succeed(response)),
          fail: (error) => complete(Effect.fail(error)),
          die: (defect) => complete(Effect.die(defect)),
          completeWith: complete,
          isInterrupted: () => gaveUp,
          isDone: () => done
        }
        Queue.offerUnsafe(queue, pending)
        return Effect.onExit(Effect.flatten(Deferred.await(answer)), finish)
      })

    return {
      service: {
        call,
        get status() {
          return status
        }
      },
      requests: queue,
      take: Queue.take(queue),
      received,
      calls: () => calls,
      completed: () => completed,
      interrupted: () => interrupted,
      inFlight: () => inFlight,
      setStatus: (s) => {
        status = s
      }
    }
  })
