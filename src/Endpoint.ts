/**
 * An `Endpoint` is the service for one address as a balancer holds it: the caller's per-endpoint
 * service (connection pool, failure accrual, per-attempt timeout) plus the bookkeeping a balancer
 * needs — requests in flight, hooks that feed a load metric, and a graceful close. It is Finagle's
 * per-node `EndpointFactory` with its `Node` load hooks.
 *
 * An endpoint lives in a `Scope`. When the scope closes (the address left the set, or the whole
 * balancer closed) the endpoint turns `Closed`, refuses new requests with `Overloaded`
 * (`serviceClosed`, retryable), waits for the requests already in flight to finish, and only then
 * lets the scope's earlier finalizers (the underlying connections) run.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Latch from "effect/Latch"
import type * as Scope from "effect/Scope"
import type { Address } from "./Address.js"
import { key as addressKey } from "./Address.js"
import { Overloaded } from "./Failure.js"
import { callOn, type Service, type Status } from "./Service.js"

/**
 * Called around every request the endpoint sends: `onStart` returns a stamp that `onEnd` receives
 * when the request ends, whatever its outcome (interruption included).
 *
 * @since 0.1.0
 * @category model
 */
export interface Hooks {
  readonly onStart: () => number
  readonly onEnd: (stamp: number) => void
  /**
   * For a response still streaming when the call returns, when it ends: `onEnd` waits for it (the
   * request stays in the load), while the endpoint's in-flight count (what a close waits for) does
   * not. Defaults to none.
   */
  readonly loadUntil?: ((response: unknown) => PromiseLike<unknown> | undefined) | undefined
}

/**
 * The service for one address, with its in-flight count.
 *
 * @since 0.1.0
 * @category model
 */
export interface Endpoint<in Req, out Rep, out E = never, out R = never> extends Service<Req, Rep, E | Overloaded, R> {
  readonly address: Address
  /** `Address.key(address)`. */
  readonly key: string
  /** Requests in flight through this endpoint. */
  readonly pending: number
  /** Whether the endpoint's scope has started closing (it takes no new requests). */
  readonly closing: boolean
  /** The underlying service, unwrapped. */
  readonly service: Service<Req, Rep, E, R>
}

const noHooks: Hooks = { onStart: () => 0, onEnd: () => {} }

/**
 * Wraps `service` as the endpoint for `address` in the current scope. Status is the service's,
 * or `Closed` once the scope is closing. The scope's finalizer waits for in-flight requests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R>(
  address: Address,
  service: Service<Req, Rep, E, R>,
  hooks: Hooks = noHooks
): Effect.Effect<Endpoint<Req, Rep, E, R>, never, Scope.Scope> =>
  Effect.gen(function*() {
    let pending = 0
    let closing = false
    const drained = Latch.makeUnsafe(true)
    const key = addressKey(address)
    const refused = new Overloaded({ reason: "serviceClosed", detail: key })
    const acquire = (): number => {
      pending++
      if (pending === 1) Latch.closeUnsafe(drained)
      return hooks.onStart()
    }
    const loadUntil = hooks.loadUntil
    const release = (stamp: number, exit?: Exit.Exit<Rep, unknown>): undefined => {
      pending--
      const until = loadUntil !== undefined && exit !== undefined && exit._tag === "Success"
        ? loadUntil(exit.value)
        : undefined
      if (until === undefined) hooks.onEnd(stamp)
      else until.then(() => hooks.onEnd(stamp), () => hooks.onEnd(stamp))
      if (pending === 0) Latch.openUnsafe(drained)
      return undefined
    }
    const endpoint: Endpoint<Req, Rep, E, R> = {
      address,
      key,
      service,
      get pending() {
        return pending
      },
      get closing() {
        return closing
      },
      get status(): Status {
        return closing ? "Closed" : service.status
      },
      call: (request) =>
        closing
          ? Effect.fail(refused)
          : Effect.uninterruptibleMask((restore) => {
            // acquire and release as one step each (acquireUseRelease's bracket costs ~9 steps a request)
            const stamp = acquire()
            return Effect.onExitPrimitive(
              restore(Effect.withFiber((fiber) => callOn(service, request, fiber))),
              (exit) => release(stamp, exit),
              true
            )
          }),
      // a caller on its fiber (the balancer, for the requeue filter): the endpoint's stack reads it too;
      // what it does before its first step (reading the fiber's context) is the same under the mask
      callOn: (request, fiber) =>
        closing
          ? Effect.fail(refused)
          : Effect.uninterruptibleMask((restore) => {
            // the call first: should it throw, nothing was acquired
            const call = callOn(service, request, fiber)
            const stamp = acquire()
            return Effect.onExitPrimitive(restore(call), (exit) => release(stamp, exit), true)
          })
    }
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closing = true
        return pending === 0 ? Effect.void : drained.await
      })
    )
    return endpoint
  })
