/**
 * The `Tracing` module of the endpoint stack: one span per attempt — each call the balancer makes to
 * one endpoint — as a child of the caller's current span. Retries (path stack), requeues and backup
 * requests (client stack) each call an endpoint again, so they appear as sibling attempt spans under
 * the request's span. The span records the endpoint's address (`net.peer.name`, `net.peer.port`,
 * `weir.endpoint`), the response classifier's verdict (`weir.response_class`) and whatever the
 * protocol's hooks add (the proxy's HTTP hooks: method, status, `l5d-err`); a protocol's `inject`
 * hook writes the attempt's context on the outgoing request, so the next hop's spans are its
 * children.
 *
 * It sits at the top of the endpoint stack so the span covers what happens to the attempt on that
 * node — failure accrual rejecting it, the attempt timeout, admission queueing.
 *
 * Cost: with no current span, or an unsampled one (a request the proxy did not sample), the module
 * only reads the fiber's current span and calls the endpoint: no span object is made. With
 * `Enabled` off (the proxy without a tracing telemeter) it is not installed at all. Spans go to the
 * fiber's Effect `Tracer`: a library user's program gets them from whatever tracer it installs
 * (`effect/observability`'s `OtlpTracer.layer`, say) under its own spans.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import type * as Tracer from "effect/Tracer"
import type { Address } from "./Address.js"
import * as ResponseClass from "./resilience/ResponseClass.js"
import { callOn } from "./Service.js"
import * as Stack from "./Stack.js"

/**
 * What a protocol adds to attempt spans. All optional.
 *
 * @since 0.1.0
 * @category model
 */
export interface Hooks<Req = any, Rep = any, E = any> {
  /** The span's name. Defaults to `"attempt"`. */
  readonly name?: ((request: Req) => string) | undefined
  /** Writes the attempt's context onto the outgoing request (propagation). */
  readonly inject?: ((request: Req, span: Tracer.Span) => void) | undefined
  /**
   * Whether the request can be traced at all: `false` skips the module's look at the fiber's
   * current span (the proxy knows per request). Defaults to always `true`.
   */
  readonly traced?: ((request: Req) => boolean) | undefined
  /** Records the outcome on the span (status code, error header…). */
  readonly describe?: ((request: Req, exit: Exit.Exit<Rep, E>, span: Tracer.Span) => void) | undefined
}

/**
 * Whether the endpoint stack installs the module. Defaults to `true`; the proxy turns it off when
 * no tracing telemeter is configured.
 *
 * @since 0.1.0
 * @category params
 */
export const Enabled = Context.Reference<boolean>("weir/TraceFilter/Enabled", { defaultValue: () => true })

/**
 * The protocol's hooks. Defaults to none.
 *
 * @since 0.1.0
 * @category params
 */
export const CurrentHooks = Context.Reference<Hooks>("weir/TraceFilter/Hooks", { defaultValue: () => ({}) })

/**
 * The address of the endpoint whose stack is being built (provided by `ClientStack` when the
 * balancer passes it to the endpoint builder). Defaults to none.
 *
 * @since 0.1.0
 * @category params
 */
export const EndpointAddress = Context.Reference<Address | undefined>("weir/TraceFilter/EndpointAddress", {
  defaultValue: () => undefined
})

const noStack = { captureStackTrace: false } as const

const verdict = (c: ResponseClass.ResponseClass): string =>
  c._tag === "Success" ? "success" : c.retryable ? "retryable_failure" : "failure"

/**
 * The module (role `Tracing`), reading `Enabled`, `CurrentHooks`, `EndpointAddress` and
 * `ResponseClass.Classifier` (the request's `ResponseClass.Local` first).
 *
 * @since 0.1.0
 * @category modules
 */
export const module = <Req, Rep, E, R>(): Stack.Module<Req, Rep, E, R> =>
  Stack.module(
    "Tracing",
    "One span per attempt as a child of the request's span; on top of the endpoint stack so it covers accrual, timeout and admission.",
    (next) =>
      Effect.gen(function*() {
        if (!(yield* Enabled)) return next
        const hooks = (yield* CurrentHooks) as Hooks<Req, Rep, E>
        const address = yield* EndpointAddress
        const classifier = yield* ResponseClass.Classifier
        const attributes: Record<string, unknown> = address === undefined ? {} : {
          "net.peer.name": address.host,
          "net.peer.port": address.port,
          "weir.endpoint": `${address.host}:${address.port}`
        }
        const options = { kind: "client", attributes } as const
        const name = hooks.name
        const inject = hooks.inject
        const describe = hooks.describe
        const traced = hooks.traced
        const onFiber = (request: Req, fiber: Fiber.Fiber<unknown, unknown>): Effect.Effect<Rep, E, R> => {
          const parent = fiber.cache.span
          // not traced: the call goes on, on this fiber (`Service.callOn`)
          if (parent === undefined || !parent.sampled) return callOn(next, request, fiber)
          const classify = fiber.getRef(ResponseClass.Local) ?? classifier
          return Effect.useSpan(name?.(request) ?? "attempt", options, (span) => {
            inject?.(request, span)
            return Effect.onExit(Effect.withParentSpan(next.call(request), span, noStack), (exit) => {
              span.attribute("weir.response_class", verdict(classify(request, exit)))
              describe?.(request, exit, span)
              return Effect.void
            })
          })
        }
        return {
          call: (request: Req) =>
            traced !== undefined && !traced(request)
              ? next.call(request)
              : Effect.withFiber((fiber) => onFiber(request, fiber)),
          callOn: (request: Req, fiber: Fiber.Fiber<unknown, unknown>) =>
            traced !== undefined && !traced(request) ? callOn(next, request, fiber) : onFiber(request, fiber),
          get status() {
            return next.status
          }
        }
      })
  )
