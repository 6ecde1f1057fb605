/**
 * A `Service` is the unit weir composes: a value with `call(request)` returning an `Effect`, plus a
 * `status` that load balancers and retry filters consult before sending. It is Finagle's `Service`
 * with Effect's typed errors and requirements.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"

/**
 * Health of a service as seen by its callers, best first: `Open` takes requests, `Busy` is
 * temporarily unable to (a dead node waiting for its probe, a full queue), `Closed` never will again.
 *
 * @since 0.1.0
 * @category model
 */
export type Status = "Open" | "Busy" | "Closed"

/**
 * A request handler with a status.
 *
 * @since 0.1.0
 * @category model
 */
export interface Service<in Req, out Rep, out E = never, out R = never> {
  readonly call: (request: Req) => Effect.Effect<Rep, E, R>
  /** Read on every pick; implementations may compute it (a getter). */
  readonly status: Status
  /**
   * Optional: the same call for a caller already running on `fiber` (inside its own
   * `Effect.withFiber`, the context unchanged since), which saves a callee that starts by reading
   * its fiber that step. The result must be returned (or wrapped) at once, as `call`'s would be
   * run. Call it through `callOn`, which falls back to `call`.
   */
  readonly callOn?: ((request: Req, fiber: Fiber.Fiber<unknown, unknown>) => Effect.Effect<Rep, E, R>) | undefined
}

/**
 * Calls `self` from inside the caller's own `Effect.withFiber` on `fiber` (its context unchanged):
 * `self.callOn` when it has one, else `self.call`. Stack modules that read their fiber pass it down
 * this way, so a chain of such modules costs one fiber read instead of one each.
 *
 * @since 0.1.0
 * @category combinators
 */
export const callOn = <Req, Rep, E, R>(
  self: Service<Req, Rep, E, R>,
  request: Req,
  fiber: Fiber.Fiber<unknown, unknown>
): Effect.Effect<Rep, E, R> => self.callOn !== undefined ? self.callOn(request, fiber) : self.call(request)

/**
 * The rank of a status: `Open` 3, `Busy` 2, `Closed` 1, as in Finagle.
 *
 * @since 0.1.0
 * @category status
 */
export const statusRank = (status: Status): number => status === "Open" ? 3 : status === "Busy" ? 2 : 1

/**
 * The better of two statuses.
 *
 * @since 0.1.0
 * @category status
 */
export const bestOf = (a: Status, b: Status): Status => statusRank(a) >= statusRank(b) ? a : b

/**
 * The worse of two statuses.
 *
 * @since 0.1.0
 * @category status
 */
export const worstOf = (a: Status, b: Status): Status => statusRank(a) <= statusRank(b) ? a : b

/**
 * The best status among many; `Closed` for none (an empty balancer can take nothing).
 *
 * @since 0.1.0
 * @category status
 */
export const bestOfAll = (statuses: Iterable<Status>): Status => {
  let best: Status = "Closed"
  for (const s of statuses) {
    if (s === "Open") return s
    best = bestOf(best, s)
  }
  return best
}

/**
 * Builds a service from a handler. The status is always `Open` unless a function computing it is given.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E = never, R = never>(
  call: (request: Req) => Effect.Effect<Rep, E, R>,
  status?: () => Status
): Service<Req, Rep, E, R> =>
  status === undefined
    ? { call, status: "Open" }
    : {
      call,
      get status() {
        return status()
      }
    }

/**
 * A service that answers every request with the same value.
 *
 * @since 0.1.0
 * @category constructors
 */
export const succeed = <Rep>(response: Rep): Service<unknown, Rep> => make(() => Effect.succeed(response))

/**
 * A service that fails every request with the same error.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fail = <E>(error: E): Service<unknown, never, E> => make(() => Effect.fail(error))

/**
 * A service whose status is `Closed` and which fails every request with the given error.
 *
 * @since 0.1.0
 * @category constructors
 */
export const closed = <E>(error: E): Service<unknown, never, E> => ({
  call: () => Effect.fail(error),
  status: "Closed"
})

/**
 * Maps the responses of a service.
 *
 * @since 0.1.0
 * @category combinators
 */
export const mapResponse = <Req, Rep, E, R, Rep2>(
  self: Service<Req, Rep, E, R>,
  f: (response: Rep) => Rep2
): Service<Req, Rep2, E, R> => withCall(self, (request) => Effect.map(self.call(request), f))

/**
 * A new service with another `call` but the same (live) status as `self`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withCall = <Req, Rep, E, R, Req2, Rep2, E2, R2>(
  self: Service<Req, Rep, E, R>,
  call: (request: Req2) => Effect.Effect<Rep2, E2, R2>
): Service<Req2, Rep2, E2, R2> => ({
  call,
  get status() {
    return self.status
  }
})

/**
 * A new service with the same `call` whose status is the worse of `self`'s and `status()`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withStatus = <Req, Rep, E, R>(
  self: Service<Req, Rep, E, R>,
  status: () => Status
): Service<Req, Rep, E, R> => ({
  call: self.call,
  get status() {
    return worstOf(self.status, status())
  }
})
