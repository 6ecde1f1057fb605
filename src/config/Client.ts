/**
 * The `Schema` of the resilience keys of a linkerd 1.x `client` section (`loadBalancer`,
 * `failureAccrual`, `requeueBudget`, `requestAttemptTimeoutMs`) and `service` section
 * (`totalTimeoutMs`, `retries`, `responseClassifier`), shared by the proxy config and by simulation
 * scenarios. Key names, units and defaults are linkerd's; values are decoded at this boundary: every
 * `...Ms` / `...Secs` number becomes a `Duration` (the key keeps its linkerd name), plugin families are
 * unions discriminated by `kind`, unknown keys and kinds are rejected with their location.
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
 * The proxy extends these fields with its own keys (`tls`, `hostConnectionPool`, ...) by spreading
 * `clientFields` / `serviceFields` into its own `Schema.Struct`.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import * as SchemaIssue from "effect/SchemaIssue"
import * as SchemaTransformation from "effect/SchemaTransformation"
import * as Classifiers from "../http/Classifiers.js"
import * as Balancer from "../loadbalancer/Balancer.js"
import * as BackoffSchedule from "../resilience/Backoff.js"
import * as Accrual from "../resilience/FailureAccrual.js"
import type * as RetryBudget from "../resilience/RetryBudget.js"
import * as H2Plugins from "./classifier/H2Plugins.js"

// ---------------------------------------------------------------------------------------------
// building blocks
// ---------------------------------------------------------------------------------------------

const withDefault = <S extends Schema.Top>(value: S["Encoded"]) => (self: S) =>
  Schema.withDecodingDefaultKey<S>(Effect.succeed(value))(self)

/**
 * A number of milliseconds (finite, `>= 0`, or `> 0` when `positive`), decoded to a `Duration`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Millis = (options?: { readonly positive?: boolean | undefined }) =>
  Schema.Finite.check(
    options?.positive === true ? Schema.isGreaterThan(0) : Schema.isGreaterThanOrEqualTo(0)
  ).pipe(Schema.decodeTo(Schema.Duration, SchemaTransformation.durationFromMillis))

/**
 * A whole number of seconds in `[minimum, maximum]`, decoded to a `Duration`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Seconds = (minimum: number, maximum: number) =>
  Schema.Int.check(Schema.isBetween({ minimum, maximum })).pipe(
    Schema.decodeTo(
      Schema.Duration,
      SchemaTransformation.transform<Duration.Duration, number>({
        decode: (s) => Duration.seconds(s),
        encode: (d) => Duration.toSeconds(d)
      })
    )
  )

const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
const Probability = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
const PositiveFinite = Schema.Finite.check(Schema.isGreaterThan(0))

// ---------------------------------------------------------------------------------------------
// backoff
// ---------------------------------------------------------------------------------------------

/**
 * `{kind: constant, ms}`: the same delay every time. `ms` defaults to `0`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConstantBackoff = Schema.Struct({
  kind: Schema.Literal("constant"),
  ms: Millis().pipe(withDefault(0))
})

/**
 * `{kind: jittered, minMs, maxMs}`: decorrelated jitter between the two bounds (both required,
 * `minMs > 0`, `minMs <= maxMs`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const JitteredBackoff = Schema.Struct({
  kind: Schema.Literal("jittered"),
  minMs: Millis({ positive: true }),
  maxMs: Millis({ positive: true })
}).check(
  Schema.makeFilter((b) =>
    Duration.isLessThanOrEqualTo(b.minMs, b.maxMs) ? undefined : { path: ["maxMs"], issue: "maxMs must be >= minMs" }
  )
)

/**
 * The backoff object linkerd uses for `failureAccrual.backoff` and `retries.backoff`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Backoff = Schema.Union([ConstantBackoff, JitteredBackoff])

/**
 * A decoded backoff.
 *
 * @since 0.1.0
 * @category model
 */
export type Backoff = typeof Backoff.Type

// ---------------------------------------------------------------------------------------------
// loadBalancer
// ---------------------------------------------------------------------------------------------

const maxEffort = NonNegativeInt.pipe(withDefault(5))
const enableProbation = Schema.Boolean.pipe(withDefault(false))

/**
 * `{kind: p2c, maxEffort}`: power of two choices, least loaded. `maxEffort` defaults to `5`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const P2C = Schema.Struct({ kind: Schema.Literal("p2c"), maxEffort, enableProbation })

/**
 * `{kind: ewma, maxEffort, decayTimeMs}`: power of two choices over peak EWMA latency.
 * `maxEffort` defaults to `5`, `decayTimeMs` to `10000`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Ewma = Schema.Struct({
  kind: Schema.Literal("ewma"),
  maxEffort,
  decayTimeMs: Millis({ positive: true }).pipe(withDefault(10_000)),
  enableProbation
})

/**
 * `{kind: aperture, ...}`: random aperture with a load band. Defaults (linkerd's): `maxEffort` 5,
 * `smoothWindowMs` 5000, `lowLoad` 0.5, `highLoad` 2.0, `minAperture` 1.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Aperture = Schema.Struct({
  kind: Schema.Literal("aperture"),
  maxEffort,
  smoothWindowMs: Millis().pipe(withDefault(5_000)),
  lowLoad: PositiveFinite.pipe(withDefault(0.5)),
  highLoad: PositiveFinite.pipe(withDefault(2.0)),
  minAperture: PositiveInt.pipe(withDefault(1)),
  enableProbation
}).check(
  Schema.makeFilter((a) =>
    a.lowLoad < a.highLoad ? undefined : { path: ["highLoad"], issue: "highLoad must be greater than lowLoad" }
  )
)

/**
 * `{kind: heap}`: least loaded via a min-heap. No parameters.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Heap = Schema.Struct({ kind: Schema.Literal("heap"), enableProbation })

/**
 * `{kind: roundRobin, maxEffort}`. `maxEffort` defaults to `5`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RoundRobin = Schema.Struct({ kind: Schema.Literal("roundRobin"), maxEffort, enableProbation })

/**
 * `client.loadBalancer`. Defaults to `{kind: p2c}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LoadBalancer = Schema.Union([P2C, Ewma, Aperture, Heap, RoundRobin])

/**
 * A decoded `loadBalancer`.
 *
 * @since 0.1.0
 * @category model
 */
export type LoadBalancer = typeof LoadBalancer.Type

/**
 * The balancer kinds, as linkerd spells them.
 *
 * @since 0.1.0
 * @category constants
 */
export const loadBalancerKinds: ReadonlyArray<LoadBalancer["kind"]> = ["p2c", "ewma", "aperture", "heap", "roundRobin"]

// ---------------------------------------------------------------------------------------------
// failureAccrual
// ---------------------------------------------------------------------------------------------

const accrualBackoff = Schema.optionalKey(Backoff)

/**
 * `{kind: io.l5d.consecutiveFailures, failures, backoff}`: dead after `failures` failures in a row.
 * Without `backoff`, linkerd's equal-jittered 5 s … 300 s applies.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConsecutiveFailures = Schema.Struct({
  kind: Schema.Literal("io.l5d.consecutiveFailures"),
  failures: PositiveInt,
  backoff: accrualBackoff
})

/**
 * `{kind: io.l5d.successRate, successRate, requests, backoff}`: dead when the success rate, an EWMA
 * over the last `requests` requests, drops below `successRate`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SuccessRate = Schema.Struct({
  kind: Schema.Literal("io.l5d.successRate"),
  successRate: Probability,
  requests: PositiveInt,
  backoff: accrualBackoff
})

/**
 * `{kind: io.l5d.successRateWindowed, successRate, window, backoff}`: dead when the success rate over
 * the last `window` seconds drops below `successRate`. `window` is in seconds (decoded to a `Duration`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SuccessRateWindowed = Schema.Struct({
  kind: Schema.Literal("io.l5d.successRateWindowed"),
  successRate: Probability,
  window: Seconds(1, 86_400),
  backoff: accrualBackoff
})

/**
 * `{kind: none}`: no failure accrual.
 *
 * @since 0.1.0
 * @category schemas
 */
export const NoAccrual = Schema.Struct({ kind: Schema.Literal("none") })

/**
 * `client.failureAccrual`. Defaults to `{kind: io.l5d.consecutiveFailures, failures: 5}` with the
 * equal-jittered 5 s … 300 s backoff.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FailureAccrual = Schema.Union([ConsecutiveFailures, SuccessRate, SuccessRateWindowed, NoAccrual])

/**
 * A decoded `failureAccrual`.
 *
 * @since 0.1.0
 * @category model
 */
export type FailureAccrual = typeof FailureAccrual.Type

// ---------------------------------------------------------------------------------------------
// budgets, retries, classifier
// ---------------------------------------------------------------------------------------------

/**
 * A retry budget: `ttlSecs` (1…60, default 10), `minRetriesPerSec` (`>= 0`, default 10),
 * `percentCanRetry` (0…1, default 0.2; Finagle accepts up to 1000, weir keeps a retry a fraction of the
 * traffic). Used by `requeueBudget` and `retries.budget`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Budget = Schema.Struct({
  ttlSecs: Seconds(1, 60).pipe(withDefault(10)),
  minRetriesPerSec: NonNegativeInt.pipe(withDefault(10)),
  percentCanRetry: Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })).pipe(withDefault(0.2))
})

/**
 * A decoded budget.
 *
 * @since 0.1.0
 * @category model
 */
export type Budget = typeof Budget.Type

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
  maxRetries: Schema.optionalKey(NonNegativeInt)
})

/**
 * Decoded `retries`.
 *
 * @since 0.1.0
 * @category model
 */
export type Retries = typeof Retries.Type

/**
 * linkerd's HTTP response classifier kinds (the `io.l5d.*` spellings without `http.` are the older
 * names and are accepted too).
 *
 * @since 0.1.0
 * @category constants
 */
export const responseClassifierKinds = [
  "io.l5d.http.nonRetryable5XX",
  "io.l5d.http.retryableRead5XX",
  "io.l5d.http.retryableIdempotent5XX",
  "io.l5d.http.retryableAll5XX",
  "io.l5d.http.allSuccessful",
  "io.l5d.nonRetryable5XX",
  "io.l5d.retryableRead5XX",
  "io.l5d.retryableIdempotent5XX",
  "io.l5d.retryableAll5XX",
  "io.l5d.allSuccessful"
] as const

/**
 * `service.responseClassifier`: `{kind}`, an HTTP kind or an h2 one (`io.l5d.h2.*`, `io.l5d.h2.grpc.*`
 * with their status-code keys, see `http/h2/Classifiers.ts`). Defaults to
 * `{kind: io.l5d.http.nonRetryable5XX}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResponseClassifier = Schema.Union([
  Schema.Struct({ kind: Schema.Literals(responseClassifierKinds) }),
  H2Plugins.Schema
])

/**
 * A decoded `responseClassifier`.
 *
 * @since 0.1.0
 * @category model
 */
export type ResponseClassifier = typeof ResponseClassifier.Type

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
  failureAccrual: FailureAccrual.pipe(
    withDefault({ kind: "io.l5d.consecutiveFailures" as const, failures: 5 })
  ),
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
 * `patch`, each key given replaces the whole key (linkerd's folding of static client configs, or a
 * simulation variant overriding its scenario's client).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SectionPatch = Schema.Struct({
  loadBalancer: Schema.optionalKey(LoadBalancer),
  failureAccrual: Schema.optionalKey(FailureAccrual),
  requeueBudget: Schema.optionalKey(Budget),
  requestAttemptTimeoutMs: Schema.optionalKey(Millis({ positive: true })),
  totalTimeoutMs: Schema.optionalKey(Millis({ positive: true })),
  retries: Schema.optionalKey(Retries),
  responseClassifier: Schema.optionalKey(ResponseClassifier)
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
// decoding and error messages
// ---------------------------------------------------------------------------------------------

/**
 * The parse options config decoding uses: unknown keys are errors, every problem is reported.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseOptions: SchemaAST.ParseOptions = { onExcessProperty: "error", errors: "all" }

/**
 * One problem in a config document: where (`routers[0].client.loadBalancer.kind`) and what.
 *
 * @since 0.1.0
 * @category errors
 */
export interface Problem {
  readonly path: string
  readonly message: string
}

/**
 * Renders a path as `a.b[0].c` (the root is `""`).
 *
 * @since 0.1.0
 * @category errors
 */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`
    else if (typeof segment === "string" && /^[A-Za-z_$][\w$.-]*$/.test(segment)) {
      out += out === "" ? segment : `.${segment}`
    } else out += `[${JSON.stringify(String(segment))}]`
  }
  return out
}

const unionKinds = (ast: SchemaAST.Union): Array<string> | undefined => {
  const kinds: Array<string> = []
  for (const member of ast.types) {
    if (member._tag !== "Objects") return undefined
    const kind = member.propertySignatures.find((p) => p.name === "kind")
    if (kind === undefined || kind.type._tag !== "Literal") return undefined
    kinds.push(String(kind.type.literal))
  }
  return kinds
}

const standard = SchemaIssue.makeFormatterStandardSchemaV1()

const walk = (issue: SchemaIssue.Issue, path: Array<PropertyKey>, out: Array<Problem>): void => {
  switch (issue._tag) {
    case "Pointer":
      return walk(issue.issue, [...path, ...issue.path], out)
    case "Encoding":
      return walk(issue.issue, path, out)
    case "Composite":
      for (const i of issue.issues) walk(i, path, out)
      return
    case "UnexpectedKey":
      out.push({ path: formatPath(path), message: "unknown key" })
      return
    case "MissingKey": {
      const last = path[path.length - 1]
      out.push(
        typeof last === "number"
          ? { path: formatPath(path.slice(0, -1)), message: `must have at least ${last + 1} item(s)` }
          : { path: formatPath(path), message: "missing required key" }
      )
      return
    }
    case "AnyOf": {
      if (issue.issues.length > 0) {
        for (const i of issue.issues) walk(i, path, out)
        return
      }
      const kinds = unionKinds(issue.ast)
      if (kinds !== undefined) {
        const input = issue.input
        const expected = `one of: ${kinds.join(", ")}`
        if (typeof input !== "object" || input === null || Array.isArray(input)) {
          out.push({ path: formatPath(path), message: `expected an object with a "kind" (${expected})` })
        } else if ("kind" in input) {
          const kind = JSON.stringify((input as { kind: unknown }).kind)
          out.push({ path: formatPath([...path, "kind"]), message: `unknown kind ${kind} (expected ${expected})` })
        } else {
          out.push({ path: formatPath([...path, "kind"]), message: `missing "kind" (${expected})` })
        }
        return
      }
      break
    }
  }
  for (const f of standard(issue).issues) {
    out.push({
      path: formatPath([...path, ...(f.path ?? []).map((p) => typeof p === "object" ? p.key : p)]),
      message: f.message
    })
  }
}

/**
 * Flattens a schema issue into problems with readable paths. An unknown `kind` is reported at the
 * `kind` key with the kinds that would have been accepted.
 *
 * @since 0.1.0
 * @category errors
 */
export const problems = (issue: SchemaIssue.Issue, prefix: ReadonlyArray<PropertyKey> = []): Array<Problem> => {
  const out: Array<Problem> = []
  walk(issue, [...prefix], out)
  return out
}

/**
 * Renders problems one per line, `path: message`: at most 100 lines, then `… and N more problems`;
 * a line longer than 500 characters is cut with `…`.
 *
 * @since 0.1.0
 * @category errors
 */
export const formatProblems = (ps: ReadonlyArray<Problem>): string => {
  const lines: Array<string> = []
  for (const p of ps.slice(0, 100)) {
    const line = p.path === "" ? p.message : `${p.path}: ${p.message}`
    lines.push(line.length > 500 ? `${line.slice(0, 499)}…` : line)
  }
  if (ps.length > 100) lines.push(`… and ${ps.length - 100} more problems`)
  return lines.join("\n")
}

/**
 * Decodes a combined client/service section (unknown keys rejected), with the problems on failure.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeSection = (input: unknown): Result.Result<Section, Array<Problem>> => {
  const r = Schema.decodeUnknownResult(Section)(input, { ...parseOptions, reportInput: true } as SchemaAST.ParseOptions)
  return Result.isSuccess(r) ? Result.succeed(r.success) : Result.fail(problems(r.failure.issue))
}

// ---------------------------------------------------------------------------------------------
// interpretation
// ---------------------------------------------------------------------------------------------

/**
 * The balancer config `Balancer.fromKind` takes, from a decoded `loadBalancer` (`enableProbation`,
 * which weir does not implement, is dropped).
 *
 * @since 0.1.0
 * @category interpretation
 */
export const toBalancerConfig = (self: LoadBalancer): Balancer.Config => {
  switch (self.kind) {
    case "p2c":
    case "roundRobin":
      return { kind: self.kind, maxEffort: self.maxEffort }
    case "heap":
      return { kind: "heap" }
    case "ewma":
      return { kind: "ewma", maxEffort: self.maxEffort, decayTimeMs: Duration.toMillis(self.decayTimeMs) }
    case "aperture":
      return {
        kind: "aperture",
        maxEffort: self.maxEffort,
        smoothWindowMs: Duration.toMillis(self.smoothWindowMs),
        lowLoad: self.lowLoad,
        highLoad: self.highLoad,
        minAperture: self.minAperture
      }
  }
}

/**
 * The balancer factory for a decoded `loadBalancer`.
 *
 * @since 0.1.0
 * @category interpretation
 */
export const toBalancer = (self: LoadBalancer): Result.Result<Balancer.Factory, Problem> =>
  Result.mapError(Balancer.fromKind(toBalancerConfig(self)), (e) => ({
    path: `loadBalancer.${e.path}`,
    message: e.detail
  }))

/**
 * The backoff schedule for a decoded backoff: `constant` → `Backoff.constant(ms)`, `jittered` →
 * `Backoff.decorrelatedJittered(minMs, maxMs)` (linkerd's "jittered" is decorrelated jitter).
 *
 * @since 0.1.0
 * @category interpretation
 */
export const toBackoff = (self: Backoff): BackoffSchedule.Backoff =>
  self.kind === "constant"
    ? BackoffSchedule.constant(self.ms)
    : BackoffSchedule.decorrelatedJittered(self.minMs, self.maxMs)

/**
 * The failure accrual policy for a decoded `failureAccrual`. Without `backoff`, the policy's default
 * (equal jitter 5 s … 300 s) applies.
 *
 * @since 0.1.0
 * @category interpretation
 */
export const toFailureAccrualPolicy = (self: FailureAccrual): Accrual.Policy => {
  const options = (b: Backoff | undefined) => b === undefined ? {} : { backoff: toBackoff(b) }
  switch (self.kind) {
    case "none":
      return Accrual.none
    case "io.l5d.consecutiveFailures":
      return Accrual.consecutiveFailures({ failures: self.failures, ...options(self.backoff) })
    case "io.l5d.successRate":
      return Accrual.successRate(self.successRate, self.requests, options(self.backoff))
    case "io.l5d.successRateWindowed":
      return Accrual.successRateWindowed(self.successRate, self.window, options(self.backoff))
  }
}

/**
 * The `RetryBudget` options for a decoded budget.
 *
 * @since 0.1.0
 * @category interpretation
 */
export const toBudgetOptions = (self: Budget): RetryBudget.Options => ({
  ttl: self.ttlSecs,
  minRetriesPerSec: self.minRetriesPerSec,
  percentCanRetry: self.percentCanRetry
})

/**
 * A decoded section turned into the values weir's modules take.
 *
 * @since 0.1.0
 * @category interpretation
 */
export interface Interpreted {
  readonly balancer: Balancer.Factory
  readonly failureAccrual: Accrual.Policy
  readonly requeueBudget: RetryBudget.Options
  /** Per attempt; `undefined` for none. */
  readonly requestAttemptTimeout: Duration.Duration | undefined
  /** For a request and all its retries; `undefined` for none. */
  readonly totalTimeout: Duration.Duration | undefined
  readonly retries: {
    readonly budget: RetryBudget.Options
    readonly backoff: BackoffSchedule.Backoff
    readonly maxRetries: number | undefined
  }
  readonly responseClassifier: Classifiers.Kind
}

/**
 * Interprets a decoded section. Fails with the problems a decoded section can still have (a balancer
 * option the balancer module refuses).
 *
 * @since 0.1.0
 * @category interpretation
 */
export const interpret = (self: Section): Result.Result<Interpreted, Array<Problem>> => {
  const balancer = toBalancer(self.loadBalancer)
  if (Result.isFailure(balancer)) return Result.fail([balancer.failure])
  return Result.succeed({
    balancer: balancer.success,
    failureAccrual: toFailureAccrualPolicy(self.failureAccrual),
    requeueBudget: toBudgetOptions(self.requeueBudget),
    requestAttemptTimeout: self.requestAttemptTimeoutMs,
    totalTimeout: self.totalTimeoutMs,
    retries: {
      budget: toBudgetOptions(self.retries.budget),
      backoff: toBackoff(self.retries.backoff),
      maxRetries: self.retries.maxRetries
    },
    responseClassifier: Classifiers.parseKind(self.responseClassifier.kind) ?? Classifiers.defaultKind
  })
}
