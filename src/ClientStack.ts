/**
 * The default client stack, written down once. A request goes through three stacks, top to bottom:
 *
 * **Path stack** — one per logical destination (linkerd's path stack, Finagle MethodBuilder's top):
 *
 * | # | role | why here |
 * |---|------|----------|
 * | 1 | `TotalTimeout` | Topmost so its clock covers every retry, backoff and requeue of the request; it sets the deadline all attempts inherit. |
 * | 2 | `Retries` | Below the total timeout (retries stop when it fires) and above the balancer (a retry may go to another node); classified by the response classifier, bounded by the path's own budget. |
 *
 * **Client stack** — one per bound client, above the balancer (Finagle's `Retries` requeue module
 * and backup filter):
 *
 * | # | role | why here |
 * |---|------|----------|
 * | 3 | `BackupRequests` | Below retries so retries are not hedged twice over; above the balancer so the backup goes to another node; each copy gets its own per-attempt timeout below. Off unless `Backup.Config` is set. |
 * | 4 | `Requeues` | Directly above the balancer, so a request rejected before reaching a server (connection refused, admission full, node dead) is sent again to another node; draws on the client budget, which backups share. |
 * | — | balancer | supplied by the caller (`make`'s `balancer`); builds one endpoint stack per address. |
 *
 * **Endpoint stack** — one per address, under the balancer:
 *
 * | # | role | why here |
 * |---|------|----------|
 * | 5 | `FailureAccrual` | Above the attempt timeout and admission so timeouts and local rejections count as failures of this node; its `Busy` status is what the balancer avoids. |
 * | 6 | `RequestTimeout` | Per attempt: each requeue and backup gets a fresh timeout; below accrual so expiries are seen by it; above admission so time spent queued counts. |
 * | 7 | `Admission` | Nearest the transport: bounds requests in flight and queued for this one endpoint; a full queue fails at once with a retryable `Overloaded` that requeues send elsewhere. Off unless `Admission.Config` is set. |
 *
 * Every module reads its parameters from `Context.Reference`s when the stack is built (see each
 * module), so a caller configures a client by providing references around `make`, and replaces or
 * removes positions by role with `Stack.replace`/`Stack.remove` on `pathStack()`, `clientStack()`
 * or `endpointStack()`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Failure from "./Failure.js"
import * as Admission from "./resilience/Admission.js"
import * as Backup from "./resilience/Backup.js"
import * as FailureAccrual from "./resilience/FailureAccrual.js"
import * as Requeues from "./resilience/Requeues.js"
import * as ResponseClass from "./resilience/ResponseClass.js"
import * as Retries from "./resilience/Retries.js"
import * as RetryBudget from "./resilience/RetryBudget.js"
import * as Timeout from "./resilience/Timeout.js"
import type { Service } from "./Service.js"
import * as Stack from "./Stack.js"

/**
 * The modules applied to each endpoint's service: failure accrual, per-attempt timeout, admission.
 *
 * @since 0.1.0
 * @category stacks
 */
export const endpointStack = <Req, Rep, E, R>(): Stack.Stack<Req, Rep, E | Failure.Failure, R> =>
  Stack.make(
    FailureAccrual.module<Req, Rep, E | Failure.Failure, R>(),
    Timeout.attemptModule<Req, Rep, E | Failure.Failure, R>(),
    Admission.module<Req, Rep, E | Failure.Failure, R>()
  )

/**
 * The modules above the balancer: backup requests, requeues.
 *
 * @since 0.1.0
 * @category stacks
 */
export const clientStack = <Req, Rep, E, R>(): Stack.Stack<Req, Rep, E | Failure.Failure, R> =>
  Stack.make(
    Backup.module<Req, Rep, E | Failure.Failure, R>(),
    Requeues.module<Req, Rep, E | Failure.Failure, R>()
  )

/**
 * The modules of a logical path: total timeout, retries.
 *
 * @since 0.1.0
 * @category stacks
 */
export const pathStack = <Req, Rep, E, R>(): Stack.Stack<Req, Rep, E | Failure.Failure, R> =>
  Stack.make(
    Timeout.totalModule<Req, Rep, E | Failure.Failure, R>(),
    Retries.module<Req, Rep, E | Failure.Failure, R>()
  )

/**
 * The three stacks of a client.
 *
 * @since 0.1.0
 * @category model
 */
export interface Stacks<Req, Rep, E, R> {
  readonly path: Stack.Stack<Req, Rep, E, R>
  readonly client: Stack.Stack<Req, Rep, E, R>
  readonly endpoint: Stack.Stack<Req, Rep, E, R>
}

/**
 * The default stacks.
 *
 * @since 0.1.0
 * @category stacks
 */
export const defaults = <Req, Rep, E, R>(): Stacks<Req, Rep, E | Failure.Failure, R> => ({
  path: pathStack(),
  client: clientStack(),
  endpoint: endpointStack()
})

/**
 * Wraps one endpoint's leaf service in the endpoint stack, in the caller's scope.
 *
 * @since 0.1.0
 * @category model
 */
export type EndpointBuilder<Req, Rep, E, R> = (
  leaf: Service<Req, Rep, E, R>
) => Effect.Effect<Service<Req, Rep, E, R>, never, Scope.Scope>

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options<Req, Rep, E, R, RB> {
  /**
   * Builds the balancer. It receives the endpoint builder and must apply it to each endpoint's leaf
   * service (the connection to one address), in that endpoint's scope; e.g.
   * `(endpoint) => Balancer.make(addresses, (address) => Effect.flatMap(connect(address), endpoint))`.
   */
  readonly balancer: (
    endpoint: EndpointBuilder<Req, Rep, E, R>
  ) => Effect.Effect<Service<Req, Rep, E, R>, never, Scope.Scope | RB>
  /** Replacement stacks; each defaults to the one above. */
  readonly stacks?: Partial<Stacks<Req, Rep, E, R>> | undefined
}

const endpointParams = [
  FailureAccrual.Config,
  Timeout.AttemptTimeout,
  Timeout.PropagateDeadlines,
  Admission.Config,
  ResponseClass.Classifier
] as const

/**
 * Builds a client: the endpoint stack around each endpoint (via `balancer`), the client stack above
 * the balancer with one retry budget shared by requeues and backups (`RetryBudget.Shared` if set,
 * else a new one from `RetryBudget.Config`), and the path stack on top with its own budget. The
 * endpoint-stack params in force when `make` runs are captured and re-provided to each endpoint
 * build, so endpoints added later (from a balancer's own fiber) are configured the same way.
 * Invalid params are build-time defects with an `InvalidOption` message.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R, RB = never>(
  options: Options<Req, Rep, E | Failure.Failure, R, RB>
): Effect.Effect<Service<Req, Rep, E | Failure.Failure, R>, never, Scope.Scope | RB> =>
  Effect.gen(function*() {
    const stacks = { ...defaults<Req, Rep, E, R>(), ...options.stacks }
    const captured = yield* Effect.withFiber((fiber) => {
      let ctx = Context.empty() as Context.Context<never>
      for (const ref of endpointParams) {
        ctx = Context.add(ctx, ref as Context.Reference<unknown>, fiber.getRef(ref as Context.Reference<unknown>))
      }
      return Effect.succeed(ctx)
    })
    const endpoint: EndpointBuilder<Req, Rep, E | Failure.Failure, R> = (leaf) =>
      Effect.updateContext(Stack.build(stacks.endpoint, leaf), (ctx: Context.Context<Scope.Scope>) =>
        Context.merge(ctx, captured))
    const balanced = yield* options.balancer(endpoint)
    const budget = yield* RetryBudget.fromContext
    const client = yield* Effect.provideService(Stack.build(stacks.client, balanced), RetryBudget.Shared, budget)
    return yield* Effect.provideService(Stack.build(stacks.path, client), RetryBudget.Shared, undefined)
  })

/**
 * Builds a client around a single service (no balancer): the endpoint stack applied to `service`,
 * then the client and path stacks. Handy for libraries talking to one address, and for tests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const single = <Req, Rep, E, R>(
  service: Service<Req, Rep, E | Failure.Failure, R>,
  stacks?: Partial<Stacks<Req, Rep, E | Failure.Failure, R>>
): Effect.Effect<Service<Req, Rep, E | Failure.Failure, R>, never, Scope.Scope> =>
  make<Req, Rep, E, R>({ balancer: (endpoint) => endpoint(service), stacks })
