/**
 * A `Filter` wraps a service: it sees each request and the next service, and decides what to do
 * with both. Filters compose with `andThen`, into each other or onto a service. This is Finagle's
 * `Filter` over Effect: the same request and response types on both sides, errors and requirements
 * free to change.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import type { Service, Status } from "./Service.js"

/**
 * A request-level wrapper around a service. `status`, when given, maps the next service's status to
 * the status the wrapped service reports (a circuit breaker reports `Busy` while its node is dead).
 *
 * @since 0.1.0
 * @category model
 */
export interface Filter<Req, Rep, EIn, RIn, EOut = EIn, ROut = RIn> {
  readonly apply: (request: Req, next: Service<Req, Rep, EIn, RIn>) => Effect.Effect<Rep, EOut, ROut>
  readonly status?: ((next: Status) => Status) | undefined
  /**
   * Optional: `apply` for a caller already on `fiber` (`Service.callOn`); the filters of
   * `onFiber` have it.
   */
  readonly applyOn?:
    | ((
      request: Req,
      next: Service<Req, Rep, EIn, RIn>,
      fiber: Fiber.Fiber<unknown, unknown>
    ) => Effect.Effect<Rep, EOut, ROut>)
    | undefined
}

/**
 * Builds a filter.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, EIn, RIn, EOut = EIn, ROut = RIn>(
  apply: (request: Req, next: Service<Req, Rep, EIn, RIn>) => Effect.Effect<Rep, EOut, ROut>,
  status?: (next: Status) => Status
): Filter<Req, Rep, EIn, RIn, EOut, ROut> => ({ apply, status })

/**
 * Builds a filter whose work starts by reading the running fiber (its context, its clock): `apply`
 * is `Effect.withFiber((fiber) => run(request, next, fiber))`, and a service made from it
 * (`toService`) offers `Service.callOn`, so a caller already on the fiber saves that step. `run`
 * passes the fiber on with `Service.callOn(next, request, fiber)` when it calls `next` without
 * changing the context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const onFiber = <Req, Rep, EIn, RIn, EOut = EIn, ROut = RIn>(
  run: (
    request: Req,
    next: Service<Req, Rep, EIn, RIn>,
    fiber: Fiber.Fiber<unknown, unknown>
  ) => Effect.Effect<Rep, EOut, ROut>,
  status?: (next: Status) => Status
): Filter<Req, Rep, EIn, RIn, EOut, ROut> => ({
  apply: (request, next) => Effect.withFiber((fiber) => run(request, next, fiber)),
  applyOn: run,
  status
})

/**
 * The filter that passes every request straight to the next service.
 *
 * @since 0.1.0
 * @category constructors
 */
export const identity = <Req, Rep, E, R>(): Filter<Req, Rep, E, R> => make((request, next) => next.call(request))

/**
 * Puts `filter` in front of `service`: the result is a service.
 *
 * @since 0.1.0
 * @category combinators
 */
export const toService = <Req, Rep, EIn, RIn, EOut, ROut>(
  filter: Filter<Req, Rep, EIn, RIn, EOut, ROut>,
  service: Service<Req, Rep, EIn, RIn>
): Service<Req, Rep, EOut, ROut> => {
  const mapStatus = filter.status
  const call = (request: Req) => filter.apply(request, service)
  const applyOn = filter.applyOn
  const callOn = applyOn === undefined
    ? undefined
    : (request: Req, fiber: Fiber.Fiber<unknown, unknown>) => applyOn(request, service, fiber)
  return mapStatus === undefined
    ? {
      call,
      callOn,
      get status() {
        return service.status
      }
    }
    : {
      call,
      callOn,
      get status() {
        return mapStatus(service.status)
      }
    }
}

/**
 * Composes two filters (`outer` sees the request first) or a filter and a service.
 *
 * @since 0.1.0
 * @category combinators
 */
export function andThen<Req, Rep, EIn, RIn, EMid, RMid, EOut, ROut>(
  outer: Filter<Req, Rep, EMid, RMid, EOut, ROut>,
  inner: Filter<Req, Rep, EIn, RIn, EMid, RMid>
): Filter<Req, Rep, EIn, RIn, EOut, ROut>
export function andThen<Req, Rep, EIn, RIn, EOut, ROut>(
  outer: Filter<Req, Rep, EIn, RIn, EOut, ROut>,
  inner: Service<Req, Rep, EIn, RIn>
): Service<Req, Rep, EOut, ROut>
export function andThen(
  outer: Filter<any, any, any, any, any, any>,
  inner: Filter<any, any, any, any, any, any> | Service<any, any, any, any>
): Filter<any, any, any, any, any, any> | Service<any, any, any, any> {
  if ("call" in inner) return toService(outer, inner)
  const outerStatus = outer.status
  const innerStatus = inner.status
  return make(
    (request, next) => outer.apply(request, toService(inner, next)),
    outerStatus === undefined && innerStatus === undefined
      ? undefined as never
      : (status) => {
        const s = innerStatus === undefined ? status : innerStatus(status)
        return outerStatus === undefined ? s : outerStatus(s)
      }
  )
}
