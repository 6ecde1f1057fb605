/**
 * The resilience keys of a linkerd 1.x `client` section (`loadBalancer`, `failureAccrual`,
 * `requeueBudget`, `requestAttemptTimeoutMs`, `hostConnectionPool`) and `service` section
 * (`totalTimeoutMs`, `retries`, `responseClassifier`), shared by the proxy config and by simulation
 * scenarios, and the functions that turn them into the values weir's core takes (`clientParamsOf`,
 * `serviceParamsOf`). Key names, units and defaults are linkerd's; plugin families (`kind`) come
 * from their registries (`config/<family>/index.ts`).
 *
 * ```yaml
 * loadBalancer: { kind: ewma, maxEffort: 5, decayTimeMs: 10000 }
 * failureAccrual:
 *   kind: io.l5d.successRate
 *   successRate: 0.9
 *   requests: 20
 *   backoff: { kind: constant, ms: 10000 }
 * requeueBudget: { ttlSecs: 10, minRetriesPerSec: 10, percentCanRetry: 0.2 }
 * requestAttemptTimeoutMs: 1000
 * totalTimeoutMs: 3000
 * retries:
 *   budget: { minRetriesPerSec: 10, percentCanRetry: 0.2, ttlSecs: 10 }
 *   backoff: { kind: jittered, minMs: 10, maxMs: 1000 }
 * responseClassifier: { kind: io.l5d.http.retryableRead5XX }
 * ```
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Classifiers from "../http/Classifiers.js"
import type * as H2Classifiers from "../http/h2/Classifiers.js"
import type * as Upstream from "../http/transport/Upstream.js"
import type * as Balancer from "../loadbalancer/Balancer.js"
import type * as BackoffSchedule from "../resilience/Backoff.js"
import type * as Accrual from "../resilience/FailureAccrual.js"
import type * as ResponseClass from "../resilience/ResponseClass.js"
import type * as RetryBudget from "../resilience/RetryBudget.js"
import * as Accruals from "./accrual/index.js"
import * as Backoffs from "./backoff/index.js"
import * as Balancers from "./balancer/index.js"
import * as BudgetConfig from "./Budget.js"
import * as ClassifierConfig from "./classifier/index.js"
import * as Problems from "./Problems.js"
import * as Schemas from "./Schemas.js"
import * as SocketOptions from "./SocketOptions.js"

const { withDefault } = Schemas

/**
 * A number of milliseconds, decoded to a `Duration` (see `Schemas.Millis`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Millis = Schemas.Millis

/**
 * A whole number of seconds, decoded to a `Duration` (see `Schemas.Seconds`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Seconds = Schemas.Seconds

// ---------------------------------------------------------------------------------------------
// the keys
// ---------------------------------------------------------------------------------------------

/**
 * `loadBalancer`: the balancer registry's union (`p2c`, `ewma`, `aperture`, `heap`, `roundRobin`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const LoadBalancer = Balancers.registry.schema

/**
 * A decoded `loadBalancer`.
 *
 * @since 0.1.0
 * @category model
 */
export type LoadBalancer = Balancers.Config

/**
 * `failureAccrual`: the failure accrual registry's union.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FailureAccrual = Accruals.registry.schema

/**
 * A decoded `failureAccrual`.
 *
 * @since 0.1.0
 * @category model
 */
export type FailureAccrual = Accruals.Config

/**
 * A backoff object (`failureAccrual.backoff`, `retries.backoff`): the backoff registry's union.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Backoff = Backoffs.registry.schema

/**
 * A decoded backoff.
 *
 * @since 0.1.0
 * @category model
 */
export type Backoff = Backoffs.Config

/**
 * A retry budget (`requeueBudget`, `retries.budget`); see `config/Budget.ts`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Budget = BudgetConfig.Schema

/**
 * A decoded budget.
 *
 * @since 0.1.0
 * @category model
 */
export type Budget = BudgetConfig.Config

/**
 * `service.retries`: the budget (defaults as in `Budget`) and the backoff between retries (defaults
 * to `{kind: constant, ms: 0}`). `maxRetries` (an integer `>= 0`, unbounded by default) is a weir
 * extension linkerd does not have: a hard cap of retries per request on top of the budget.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Retries = Schema.Struct({
  budget: Budget.pipe(withDefault({})),
  backoff: Backoff.pipe(withDefault({ kind: "constant" as const })),
  maxRetries: Schema.optionalKey(Schemas.NonNegativeInt)
})

/**
 * Decoded `retries`.
 *
 * @since 0.1.0
 * @category model
 */
export type Retries = typeof Retries.Type

/**
 * `service.responseClassifier`: the classifier registry's union.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResponseClassifier = ClassifierConfig.registry.schema

/**
 * A decoded `responseClassifier`.
 *
 * @since 0.1.0
 * @category model
 */
export type ResponseClassifier = ClassifierConfig.Config

/**
 * `client.hostConnectionPool`: `minSize` (default `0`: idle connections kept open past
 * `idleTimeMs`), `maxSize` (`>= 1`, default unlimited), `idleTimeMs` (default `60000`) and
 * `maxWaiters` (default unlimited: requests queued for a connection at `maxSize`; more fail at once,
 * unwritten, so they are requeued elsewhere).
 *
 * @since 0.1.0
 * @category schemas
 */
export const HostConnectionPool = Schema.Struct({
  minSize: Schema.optionalKey(Schemas.NonNegativeInt),
  maxSize: Schema.optionalKey(Schemas.PositiveInt),
  idleTimeMs: Schema.optionalKey(Millis()),
  maxWaiters: Schema.optionalKey(Schemas.NonNegativeInt)
}).check(
  Schema.makeFilter((p) =>
    p.minSize === undefined || p.maxSize === undefined || p.minSize <= p.maxSize ||
    { path: ["minSize"], issue: `minSize (${p.minSize}) must not exceed maxSize (${p.maxSize})` }
  )
)

/**
 * A decoded `hostConnectionPool`.
 *
 * @since 0.1.0
 * @category model
 */
export type HostConnectionPool = typeof HostConnectionPool.Type

// ---------------------------------------------------------------------------------------------
// sections
// ---------------------------------------------------------------------------------------------

/**
 * The resilience fields of a linkerd `client` section, with linkerd's defaults. Spread them into a
 * larger struct to add keys.
 *
 * @since 0.1.0
 * @category fields
 */
export const clientFields = {
  loadBalancer: LoadBalancer.pipe(withDefault({ kind: "p2c" as const })),
  failureAccrual: FailureAccrual.pipe(withDefault({ kind: "io.l5d.consecutiveFailures" as const })),
  requeueBudget: Budget.pipe(withDefault({})),
  requestAttemptTimeoutMs: Schema.optionalKey(Millis({ positive: true }))
}

/**
 * The resilience fields of a linkerd `service` section, with linkerd's defaults.
 *
 * @since 0.1.0
 * @category fields
 */
export const serviceFields = {
  totalTimeoutMs: Schema.optionalKey(Millis({ positive: true })),
  retries: Retries.pipe(withDefault({})),
  responseClassifier: ResponseClassifier.pipe(withDefault({ kind: "io.l5d.http.nonRetryable5XX" as const }))
}

/**
 * The `client` keys one per-prefix config (or the global section) may set, each optional and
 * without default: configs matching a name are folded in order, each key replacing the earlier one.
 *
 * @since 0.1.0
 * @category fields
 */
export const clientOverrideFields = {
  loadBalancer: Schema.optionalKey(LoadBalancer),
  failureAccrual: Schema.optionalKey(FailureAccrual),
  requeueBudget: Schema.optionalKey(Budget),
  requestAttemptTimeoutMs: Schema.optionalKey(Millis({ positive: true })),
  hostConnectionPool: Schema.optionalKey(HostConnectionPool)
}

/**
 * The `service` keys one per-prefix config (or the global section) may set.
 *
 * @since 0.1.0
 * @category fields
 */
export const serviceOverrideFields = {
  totalTimeoutMs: Schema.optionalKey(Millis({ positive: true })),
  retries: Schema.optionalKey(Retries),
  responseClassifier: Schema.optionalKey(ResponseClassifier)
}

/**
 * A linkerd `client` section's resilience keys.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Client = Schema.Struct(clientFields)

/**
 * A decoded `client` section.
 *
 * @since 0.1.0
 * @category model
 */
export type Client = typeof Client.Type

/**
 * A linkerd `service` section's resilience keys.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Service = Schema.Struct(serviceFields)

/**
 * A decoded `service` section.
 *
 * @since 0.1.0
 * @category model
 */
export type Service = typeof Service.Type

/**
 * Client and service keys in one section, as a simulation scenario's `client` takes them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Section = Schema.Struct({ ...clientFields, ...serviceFields })

/**
 * A decoded combined section.
 *
 * @since 0.1.0
 * @category model
 */
export type Section = typeof Section.Type

/**
 * A partial combined section: every key optional, no defaults. Applied over a decoded section with
 * `patch`, each key given replaces the whole key (a simulation variant overriding its scenario's
 * client).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SectionPatch = Schema.Struct({
  loadBalancer: Schema.optionalKey(LoadBalancer),
  failureAccrual: Schema.optionalKey(FailureAccrual),
  requeueBudget: Schema.optionalKey(Budget),
  requestAttemptTimeoutMs: Schema.optionalKey(Millis({ positive: true })),
  ...serviceOverrideFields
})

/**
 * A decoded partial section.
 *
 * @since 0.1.0
 * @category model
 */
export type SectionPatch = typeof SectionPatch.Type

/**
 * Applies a patch: each key present in `patch` replaces the key of `self`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const patch = (self: Section, patch: SectionPatch): Section => ({ ...self, ...patch })

// ---------------------------------------------------------------------------------------------
// decoding
// ---------------------------------------------------------------------------------------------

/**
 * One problem in a config document (see `config/Problems.ts`).
 *
 * @since 0.1.0
 * @category errors
 */
export type Problem = Problems.Problem

/**
 * The parse options config decoding uses (see `config/Problems.ts`).
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseOptions = Problems.parseOptions

/**
 * Flattens a schema issue into located problems (see `config/Problems.ts`).
 *
 * @since 0.1.0
 * @category errors
 */
export const problems = Problems.problems

/**
 * Renders problems one per line (see `config/Problems.ts`).
 *
 * @since 0.1.0
 * @category errors
 */
export const formatProblems = Problems.formatProblems

/**
 * Renders a path as `a.b[0].c` (see `config/Problems.ts`).
 *
 * @since 0.1.0
 * @category errors
 */
export const formatPath = Problems.formatPath

/**
 * Decodes a combined client/service section (unknown keys rejected), with the problems on failure.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeSection = (input: unknown): Result.Result<Section, Array<Problem>> => {
  const r = Schema.decodeUnknownResult(Section)(input, Problems.parseOptions)
  return Result.isSuccess(r) ? Result.succeed(r.success) : Result.fail(Problems.problems(r.failure.issue))
}

// ---------------------------------------------------------------------------------------------
// the core values
// ---------------------------------------------------------------------------------------------

/**
 * What the client of one bound name is built with, in the core's terms.
 *
 * @since 0.1.0
 * @category params
 */
export interface ClientParams {
  readonly balancer: Balancer.Factory
  readonly failureAccrual: Accrual.Policy
  readonly requeueBudget: RetryBudget.Options
  /** Per attempt (requeues included); `undefined` for none. */
  readonly attemptTimeout: Duration.Duration | undefined
  readonly pool: Upstream.Options
}

/**
 * What the path stack of one logical name is built with, in the core's terms.
 *
 * @since 0.1.0
 * @category params
 */
export interface ServiceParams {
  /** For a request and all its retries; `undefined` for none. */
  readonly totalTimeout: Duration.Duration | undefined
  readonly retries: {
    readonly budget: RetryBudget.Options
    readonly backoff: BackoffSchedule.Backoff
    readonly maxRetries: number | undefined
  }
  /** An HTTP classifier kind, or an h2 classifier's config (h2 routers). */
  readonly classifier: Classifiers.Kind | H2Classifiers.Config
}

/**
 * The `client` keys as folded for one bound name: any subset (a decoded section has them all).
 *
 * @since 0.1.0
 * @category model
 */
export interface ClientConfig {
  readonly loadBalancer?: LoadBalancer | undefined
  readonly failureAccrual?: FailureAccrual | undefined
  readonly requeueBudget?: Budget | undefined
  readonly requestAttemptTimeoutMs?: Duration.Duration | undefined
  readonly hostConnectionPool?: HostConnectionPool | undefined
  readonly socketOptions?: SocketOptions.Section | undefined
}

/**
 * The `service` keys as folded for one logical name: any subset.
 *
 * @since 0.1.0
 * @category model
 */
export interface ServiceConfig {
  readonly totalTimeoutMs?: Duration.Duration | undefined
  readonly retries?: Retries | undefined
  readonly responseClassifier?: ResponseClassifier | undefined
}

const defaults = Schema.decodeUnknownSync(Section)({})

/**
 * The core values of a folded `client` config; a key not given takes linkerd's default (`p2c`,
 * 5 consecutive failures, the default budget, no attempt timeout, the default pool).
 *
 * @since 0.1.0
 * @category params
 */
export const clientParamsOf = (config: ClientConfig): ClientParams => {
  const pool = config.hostConnectionPool
  return {
    balancer: Balancers.registry.make(config.loadBalancer ?? defaults.loadBalancer),
    failureAccrual: Accruals.registry.make(config.failureAccrual ?? defaults.failureAccrual),
    requeueBudget: BudgetConfig.make(config.requeueBudget ?? defaults.requeueBudget),
    attemptTimeout: config.requestAttemptTimeoutMs,
    pool: {
      ...(pool?.maxSize !== undefined ? { maxConnections: pool.maxSize } : {}),
      ...(pool?.idleTimeMs !== undefined ? { idleTimeout: pool.idleTimeMs } : {}),
      ...(pool?.minSize !== undefined ? { minConnections: pool.minSize } : {}),
      ...(pool?.maxWaiters !== undefined ? { maxWaiters: pool.maxWaiters } : {}),
      ...(config.socketOptions !== undefined ? { socket: SocketOptions.make(config.socketOptions) } : {})
    }
  }
}

/**
 * The core values of a folded `service` config; a key not given takes linkerd's default (no total
 * timeout, the default budget, no backoff, no retry cap, `io.l5d.http.nonRetryable5XX`).
 *
 * @since 0.1.0
 * @category params
 */
export const serviceParamsOf = (config: ServiceConfig): ServiceParams => {
  const retries = config.retries ?? defaults.retries
  return {
    totalTimeout: config.totalTimeoutMs,
    retries: {
      budget: BudgetConfig.make(retries.budget),
      backoff: Backoffs.registry.make(retries.backoff),
      maxRetries: retries.maxRetries
    },
    classifier: ClassifierConfig.registry.make(config.responseClassifier ?? defaults.responseClassifier)
  }
}

/**
 * A decoded combined section turned into the core values (`clientParamsOf` and `serviceParamsOf`
 * together), with the names simulations read.
 *
 * @since 0.1.0
 * @category params
 */
export interface Interpreted {
  readonly balancer: Balancer.Factory
  readonly failureAccrual: Accrual.Policy
  readonly requeueBudget: RetryBudget.Options
  readonly requestAttemptTimeout: Duration.Duration | undefined
  readonly totalTimeout: Duration.Duration | undefined
  readonly retries: ServiceParams["retries"]
  readonly responseClassifier: Classifiers.Kind
  /** What the classifier kind stands for in the core (`Classifiers.policy`, the proxy's mapping). */
  readonly responsePolicy: ResponseClass.StatusPolicy
}

/**
 * Interprets a decoded combined section (what a simulation variant runs with). Fails only for an h2
 * or gRPC response classifier, which simulated HTTP endpoints cannot exercise; every other problem
 * is found when the section is decoded.
 *
 * @since 0.1.0
 * @category params
 */
export const interpret = (self: Section): Result.Result<Interpreted, Array<Problem>> => {
  const client = clientParamsOf(self)
  const service = serviceParamsOf(self)
  if (typeof service.classifier !== "string") {
    return Result.fail([{
      path: "responseClassifier.kind",
      message: `${service.classifier.kind} classifies h2 and gRPC responses, which simulations do not model`
    }])
  }
  return Result.succeed({
    balancer: client.balancer,
    failureAccrual: client.failureAccrual,
    requeueBudget: client.requeueBudget,
    requestAttemptTimeout: client.attemptTimeout,
    totalTimeout: service.totalTimeout,
    retries: service.retries,
    responseClassifier: service.classifier,
    responsePolicy: Classifiers.policy(service.classifier)
  })
}
