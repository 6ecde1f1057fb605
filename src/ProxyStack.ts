/**
 * The stacks a proxy runs, generic over the request and the response: the client of one bound
 * destination (`client`: the client and endpoint stacks of `ClientStack` over a balancer of the
 * destination's live addresses) and the path stack of one logical name (`path`: `ClientStack`'s
 * path stack over whatever picks a client per attempt). They are `ClientStack`'s stacks, in its
 * documented order, configured from plain values through the same `Context.Reference`s a library
 * user provides.
 *
 * The proxy's HTTP code (`http/DstClient`, `http/PathStack`) calls these two functions with its
 * upstream connections and its HTTP modules inserted by role; the simulator (`testing/Simulation`)
 * calls the very same functions with simulated endpoints. So what a scenario predicts is what the
 * proxy runs, module for module.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { Address } from "./Address.js"
import { key as addressKey } from "./Address.js"
import * as ClientStack from "./ClientStack.js"
import type * as Failure from "./Failure.js"
import * as Balancer from "./loadbalancer/Balancer.js"
import type * as Engine from "./loadbalancer/Engine.js"
import * as Backoff from "./resilience/Backoff.js"
import * as FailureAccrual from "./resilience/FailureAccrual.js"
import * as ResponseClass from "./resilience/ResponseClass.js"
import * as Retries from "./resilience/Retries.js"
import * as RetryBudget from "./resilience/RetryBudget.js"
import * as Timeout from "./resilience/Timeout.js"
import type { Service } from "./Service.js"
import * as Stack from "./Stack.js"
import * as Stats from "./Stats.js"

/**
 * The parameters of one bound client, as core values.
 *
 * @since 0.1.0
 * @category model
 */
export interface ClientParams {
  readonly balancer: Balancer.Factory
  readonly failureAccrual: FailureAccrual.Policy
  /** The budget of requeues (and backups), one per client. */
  readonly requeueBudget: RetryBudget.Options
  /** Per attempt; `undefined` for none (inherited deadlines still apply). */
  readonly attemptTimeout: Duration.Duration | undefined
}

/**
 * linkerd's client defaults: p2c (`maxEffort` 5), 5 consecutive failures with equal-jittered
 * backoff 5 s … 300 s, the default budget, no attempt timeout.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultClientParams: ClientParams = {
  balancer: Balancer.Factory.defaultValue(),
  failureAccrual: FailureAccrual.defaultPolicy,
  requeueBudget: {},
  attemptTimeout: undefined
}

/**
 * The retry parameters of one logical name.
 *
 * @since 0.1.0
 * @category model
 */
export interface RetryParams {
  readonly budget: RetryBudget.Options
  readonly backoff: Backoff.Backoff
  /** A cap on retries per request on top of the budget; `undefined` for none. */
  readonly maxRetries: number | undefined
}

/**
 * The parameters of one logical name, as core values, with its classifier.
 *
 * @since 0.1.0
 * @category model
 */
export interface PathParams<Req, Rep, E> {
  /** For a request and all its retries; `undefined` for none. */
  readonly totalTimeout: Duration.Duration | undefined
  readonly retries: RetryParams
  /** Judges every outcome of the path: its stats and retries. */
  readonly classifier: ResponseClass.ResponseClassifier<Req, Rep, E>
}

/**
 * linkerd's retry defaults: the default budget, no backoff, no cap.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultRetries: RetryParams = { budget: {}, backoff: Backoff.immediate, maxRetries: undefined }

/**
 * The roles of a built stack, top first (what `ClientStack`'s table documents, plus the caller's
 * own modules).
 *
 * @since 0.1.0
 * @category model
 */
export type Roles = ReadonlyArray<string>

/**
 * The client of one destination: a service, its balancer's nodes, and the roles it was built with.
 *
 * @since 0.1.0
 * @category model
 */
export interface Client<Req, Rep, E, R> extends Service<Req, Rep, E, R> {
  readonly nodes: () => ReadonlyArray<Engine.NodeInfo>
  /** The balancer's kind (`Balancer.Factory`'s `kind`, e.g. `p2c`). */
  readonly balancer: string
  /** The failure accrual state of the node with this key; `undefined` when it has no accrual. */
  readonly accrual: (key: string) => FailureAccrual.State | undefined
  readonly roles: { readonly client: Roles; readonly endpoint: Roles }
}

/**
 * The client and endpoint stacks a caller builds with (`ClientStack`'s, edited by role).
 *
 * @since 0.1.0
 * @category model
 */
export interface ClientStacks<Req, Rep, E, R> {
  readonly client: Stack.Stack<Req, Rep, E, R>
  readonly endpoint: Stack.Stack<Req, Rep, E, R>
}

const noSettle = (): undefined => undefined

/**
 * Builds the client of one destination in the current scope: `ClientStack.makeClient` over a
 * balancer (`params.balancer`) of `addresses`, each address's leaf service made by `connect` in that
 * endpoint's scope, configured by `params` (failure accrual, attempt timeout, requeue budget),
 * recording under `stats`, judging outcomes by `classifier` unless a request carries its path's
 * (`ResponseClass.Local`). `stacks` edits `ClientStack`'s stacks by role.
 *
 * @since 0.1.0
 * @category constructors
 */
export const client = <Req, Rep, E, R>(options: {
  readonly label: string
  readonly addresses: Stream.Stream<ReadonlyArray<Address>>
  readonly connect: (address: Address) => Effect.Effect<Service<Req, Rep, E | Failure.Failure, R>, never, Scope.Scope>
  readonly params: ClientParams
  readonly classifier: ResponseClass.ResponseClassifier<Req, Rep, E | Failure.Failure>
  readonly stats: Stats.StatsReceiver
  readonly stacks?:
    | ((defaults: ClientStacks<Req, Rep, E | Failure.Failure, R>) => ClientStacks<Req, Rep, E | Failure.Failure, R>)
    | undefined
  /**
   * When a response that is still streaming ends (an h2 stream's trailers): the balancer counts the
   * request as load until then. Defaults to the response itself.
   */
  readonly loadUntil?: ((response: unknown) => PromiseLike<unknown> | undefined) | undefined
  /**
   * When a response is final (`ResponseClass.Settle`): the clients' stats and failure accrual
   * classify it then. Defaults to at once.
   */
  readonly settle?: ((response: unknown) => PromiseLike<unknown> | undefined) | undefined
}): Effect.Effect<Client<Req, Rep, E | Failure.Failure, R>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { params, stats } = options
    const defaults = {
      client: ClientStack.clientStack<Req, Rep, E, R>(),
      endpoint: ClientStack.endpointStack<Req, Rep, E, R>()
    }
    const stacks = options.stacks === undefined ? defaults : options.stacks(defaults)
    let balanced: Engine.Balanced<Req, Rep, E | Failure.Failure, R> | undefined
    const accrual = new Map<string, () => FailureAccrual.State>()
    // each endpoint's accrual filter reports its state under the endpoint's key, for as long as it lives
    const inspected = (address: Address) => {
      const key = addressKey(address)
      let own: (() => FailureAccrual.State) | undefined
      const inspect = (state: () => FailureAccrual.State) => {
        own = state
        accrual.set(key, state)
      }
      return <A, E2, R2>(build: Effect.Effect<A, E2, R2>) =>
        Effect.andThen(
          Effect.addFinalizer(() =>
            Effect.sync(() => {
              if (own !== undefined && accrual.get(key) === own) accrual.delete(key)
            })
          ),
          Effect.provideService(build, FailureAccrual.Inspect, inspect)
        )
    }
    const service = yield* ClientStack.makeClient<Req, Rep, E, R>({
      balancer: (endpoint) =>
        Effect.tap(
          params.balancer.make(
            options.addresses,
            (address) =>
              Effect.flatMap(options.connect(address), (leaf) => inspected(address)(endpoint(leaf, address))),
            {
              label: options.label,
              stats,
              ...(options.loadUntil !== undefined ? { loadUntil: options.loadUntil } : {})
            }
          ),
          (b) =>
            Effect.sync(() => {
              balanced = b
            })
        ),
      stacks
    }).pipe(
      Effect.provideService(FailureAccrual.Config, params.failureAccrual),
      Effect.provideService(Timeout.AttemptTimeout, params.attemptTimeout ?? Duration.infinity),
      Effect.provideService(RetryBudget.Config, params.requeueBudget),
      Effect.provideService(RetryBudget.Shared, undefined),
      Effect.provideService(ResponseClass.Classifier, options.classifier),
      Effect.provideService(ResponseClass.Settle, options.settle ?? noSettle),
      Effect.provideService(Stats.Receiver, stats)
    )
    const nodes = balanced!.nodes
    return {
      call: service.call,
      get status() {
        return service.status
      },
      nodes,
      balancer: params.balancer.kind,
      accrual: (key) => accrual.get(key)?.(),
      roles: { client: Stack.roles(stacks.client), endpoint: Stack.roles(stacks.endpoint) }
    }
  })

/**
 * A built path stack: its service and roles.
 *
 * @since 0.1.0
 * @category model
 */
export interface Path<Req, Rep, E, R> {
  readonly service: Service<Req, Rep, E, R>
  readonly roles: Roles
}

/**
 * Builds the path stack of one logical name on top of `service` (what sends one attempt: in the
 * proxy, bind the name and call the picked client), configured by `params` (total timeout, retries,
 * classifier), recording under `stats`. Every request through it carries `install` as its
 * `ResponseClass.Local` classifier for the clients below; it defaults to `params.classifier`, right
 * when the path and the clients take the same requests (give the clients' form otherwise; `false`
 * when the clients' own classifier already judges success and failure alike). `stack`
 * edits `ClientStack`'s path stack by role.
 *
 * @since 0.1.0
 * @category constructors
 */
export const path = <Req, Rep, E, R>(options: {
  readonly service: Service<Req, Rep, E | Failure.Failure, R>
  readonly params: PathParams<Req, Rep, E | Failure.Failure>
  readonly stats: Stats.StatsReceiver
  readonly install?: ResponseClass.ResponseClassifier<any, any, any> | false | undefined
  /** When a response is final (`ResponseClass.Settle`): the path's stats classify it then. Defaults to at once. */
  readonly settle?: ((response: unknown) => PromiseLike<unknown> | undefined) | undefined
  readonly stack?:
    | ((defaults: Stack.Stack<Req, Rep, E | Failure.Failure, R>) => Stack.Stack<Req, Rep, E | Failure.Failure, R>)
    | undefined
}): Effect.Effect<Path<Req, Rep, E | Failure.Failure, R>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { params } = options
    const defaults = ClientStack.pathStack<Req, Rep, E, R>()
    const stack = options.stack === undefined ? defaults : options.stack(defaults)
    const service = yield* ClientStack.makePath<Req, Rep, E, R>(options.service, stack).pipe(
      Effect.provideService(Timeout.TotalTimeout, params.totalTimeout ?? Duration.infinity),
      Effect.provideService(Retries.Config, { backoff: params.retries.backoff, maxRetries: params.retries.maxRetries }),
      Effect.provideService(RetryBudget.Config, params.retries.budget),
      Effect.provideService(ResponseClass.Classifier, params.classifier),
      Effect.provideService(ResponseClass.Settle, options.settle ?? noSettle),
      Effect.provideService(
        ResponseClass.Install,
        options.install === false ? undefined : options.install ?? params.classifier
      ),
      Effect.provideService(Stats.Receiver, options.stats)
    )
    return { service, roles: Stack.roles(stack) }
  })
