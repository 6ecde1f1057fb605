/**
 * The default client stack, written down once: the order is this table, and every caller builds it
 * from here (the library through `make`, the proxy and the simulator through `ProxyStack`, which
 * build the client of a destination and the path stack of a name with `makeClient` and `makePath`).
 * A request goes through three stacks, top to bottom:
 *
 * **Path stack** — one per logical destination (linkerd's path stack, Finagle MethodBuilder's top):
 *
 * | # | role | why here |
 * |---|------|----------|
 * | 1 | `Stats` | Topmost so a logical request is counted once and its latency covers every retry, backoff and requeue; success is the path's classifier's verdict. Off with the discarding receiver. |
 * | 2 | `ResponseClassifier` | Installs the path's classifier as the request's `ResponseClass.Local`, so clients shared by several paths (the proxy's) judge the request in their stats and failure accrual as its name says. Off unless `ResponseClass.Install` is set. |
 * | 3 | `TotalTimeout` | Above retries so its clock covers every retry, backoff and requeue of the request; it sets the deadline all attempts inherit. |
 * | 4 | `Retries` | Below the total timeout (retries stop when it fires) and above the balancer (a retry may go to another node); classified by the response classifier, bounded by the path's own budget. |
 *
 * **Client stack** — one per bound client, above the balancer (Finagle's client `StatsFilter`,
 * `Retries` requeue module and backup filter):
 *
 * | # | role | why here |
 * |---|------|----------|
 * | 5 | `Stats` | On top of the client so each request sent to the destination counts once, whatever requeues and backups it took; its latency includes them. Off with the discarding receiver. |
 * | 6 | `BackupRequests` | Below retries so retries are not hedged twice over; above the balancer so the backup goes to another node; each copy gets its own per-attempt timeout below. Off unless `Backup.Config` is set. |
 * | 7 | `Requeues` | Directly above the balancer, so a request rejected before reaching a server (connection refused, admission full, node dead) is sent again to another node; draws on the client budget, which backups share. |
 * | — | balancer | supplied by the caller (`make`'s `balancer`); builds one endpoint stack per address. |
 *
 * **Endpoint stack** — one per address, under the balancer:
 *
 * | # | role | why here |
 * |---|------|----------|
 * | 8 | `Tracing` | Topmost per endpoint so each attempt — every retry, requeue and backup reaching a node — is one span under the request's, covering accrual, timeout and admission; records the endpoint and the classifier's verdict. Creates no span unless the request's current span is sampled; off with `TraceFilter.Enabled`. |
 * | 9 | `FailureAccrual` | Above the attempt timeout and admission so timeouts and local rejections count as failures of this node (Finagle's `TimeoutFilter` sits under `FailureAccrualFactory` for this reason); its `Busy` status is what the balancer avoids. |
 * | 10 | `RequestTimeout` | Per attempt: each requeue and backup gets a fresh timeout; below accrual so expiries are seen by it; above admission so time spent queued counts. |
 * | 11 | `Admission` | Nearest the transport: bounds requests in flight and queued for this one endpoint; a full queue fails at once with a retryable `Overloaded` that requeues send elsewhere. Off unless `Admission.Config` is set. |
 *
 * Every module reads its parameters from `Context.Reference`s when the stack is built (see each
 * module), so a caller configures a client by providing references around `make`, and replaces or
 * removes positions by role with `Stack.replace`/`Stack.remove` on `pathStack()`, `clientStack()`
 * or `endpointStack()`. A protocol adds its own modules by role the same way: the proxy's HTTP
 * clients replace `Stats` with one that also counts status codes and append `DeadlineHeader` (the
 * `l5d-ctx-deadline` header) to the endpoint stack; its path stacks replace `Retries` with the same
 * retry filter reading a retryable 5XX's body first (its `prepare` hook), so that it can be discarded.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { Address } from "./Address.js"
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
import * as Stats from "./Stats.js"
import * as StatsFilter from "./StatsFilter.js"
import * as TraceFilter from "./TraceFilter.js"

/**
 * The modules applied to each endpoint's service: tracing, failure accrual, per-attempt timeout,
 * admission.
 *
 * @since 0.1.0
 * @category stacks
 */
export const endpointStack = <Req, Rep, E, R>(): Stack.Stack<Req, Rep, E | Failure.Failure, R> =>
  Stack.make(
    TraceFilter.module<Req, Rep, E | Failure.Failure, R>(),
    FailureAccrual.module<Req, Rep, E | Failure.Failure, R>(),
    Timeout.attemptModule<Req, Rep, E | Failure.Failure, R>(),
    Admission.module<Req, Rep, E | Failure.Failure, R>()
  )

/**
 * The modules above the balancer: stats, backup requests, requeues.
 *
 * @since 0.1.0
 * @category stacks
 */
export const clientStack = <Req, Rep, E, R>(): Stack.Stack<Req, Rep, E | Failure.Failure, R> =>
  Stack.make(
    StatsFilter.module<Req, Rep, E | Failure.Failure, R>(),
    Backup.module<Req, Rep, E | Failure.Failure, R>(),
    Requeues.module<Req, Rep, E | Failure.Failure, R>()
  )

/**
 * The modules of a logical path: stats, the request's classifier, total timeout, retries.
 *
 * @since 0.1.0
 * @category stacks
 */
export const pathStack = <Req, Rep, E, R>(): Stack.Stack<Req, Rep, E | Failure.Failure, R> =>
  Stack.make(
    StatsFilter.module<Req, Rep, E | Failure.Failure, R>(),
    ResponseClass.localModule<Req, Rep, E | Failure.Failure, R>(),
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
 * Wraps one endpoint's leaf service in the endpoint stack, in the caller's scope; `address`, when
 * given, is recorded on the endpoint's attempt spans (`TraceFilter.EndpointAddress`).
 *
 * @since 0.1.0
 * @category model
 */
export type EndpointBuilder<Req, Rep, E, R> = (
  leaf: Service<Req, Rep, E, R>,
  address?: Address | undefined
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
   * `(endpoint) => Balancer.make(addresses, (address) => Effect.flatMap(connect(address), (leaf) => endpoint(leaf, address)))`.
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
  ResponseClass.Classifier,
  Stats.Receiver,
  TraceFilter.Enabled,
  TraceFilter.CurrentHooks
] as const

/**
 * Builds the client part of a client: the endpoint stack around each endpoint (via `balancer`) and
 * the client stack above the balancer, with one retry budget shared by requeues and backups
 * (`RetryBudget.Shared` if set, else a new one from `RetryBudget.Config`). The endpoint-stack params
 * in force when it runs are captured and re-provided to each endpoint build, so endpoints added later
 * (from a balancer's own fiber) are configured the same way. Invalid params are build-time defects
 * with an `InvalidOption` message.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeClient = <Req, Rep, E, R, RB = never>(
  options: Options<Req, Rep, E | Failure.Failure, R, RB>
): Effect.Effect<Service<Req, Rep, E | Failure.Failure, R>, never, Scope.Scope | RB> =>
  Effect.gen(function*() {
    const client = options.stacks?.client ?? clientStack<Req, Rep, E, R>()
    const endpointStack_ = options.stacks?.endpoint ?? endpointStack<Req, Rep, E, R>()
    const captured = yield* Effect.withFiber((fiber) => {
      let ctx = Context.empty() as Context.Context<never>
      for (const ref of endpointParams) {
        ctx = Context.add(ctx, ref as Context.Reference<unknown>, fiber.getRef(ref as Context.Reference<unknown>))
      }
      return Effect.succeed(ctx)
    })
    const endpoint: EndpointBuilder<Req, Rep, E | Failure.Failure, R> = (leaf, address) =>
      Effect.updateContext(Stack.build(endpointStack_, leaf), (ctx: Context.Context<Scope.Scope>) =>
        Context.add(Context.merge(ctx, captured), TraceFilter.EndpointAddress, address))
    const balanced = yield* options.balancer(endpoint)
    const budget = yield* RetryBudget.fromContext
    return yield* Effect.provideService(Stack.build(client, balanced), RetryBudget.Shared, budget)
  })

/**
 * Builds the path part of a client on top of `service` (a client from `makeClient`, or whatever
 * picks one per request): the path stack, with its own retry budget from `RetryBudget.Config`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePath = <Req, Rep, E, R>(
  service: Service<Req, Rep, E | Failure.Failure, R>,
  path?: Stack.Stack<Req, Rep, E | Failure.Failure, R>
): Effect.Effect<Service<Req, Rep, E | Failure.Failure, R>, never, Scope.Scope> =>
  Effect.provideService(Stack.build(path ?? pathStack<Req, Rep, E, R>(), service), RetryBudget.Shared, undefined)

/**
 * Builds a client: `makeClient`, then `makePath` on top, the path's `Stats` under `logical/`
 * (Finagle MethodBuilder's logical stats: one per request however many retries it took; the
 * client's own `Stats` count what was sent).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R, RB = never>(
  options: Options<Req, Rep, E | Failure.Failure, R, RB>
): Effect.Effect<Service<Req, Rep, E | Failure.Failure, R>, never, Scope.Scope | RB> =>
  Effect.gen(function*() {
    const client = yield* makeClient(options)
    return yield* makePath(client, options.stacks?.path).pipe(Effect.provideService(StatsFilter.Scope, ["logical"]))
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
