/**
 * A simulation scenario: seeded load against simulated endpoints through a client configured with
 * the same keys as the proxy's `client`/`service` sections, optionally in several variants that each
 * override parts of that client. Decoded from YAML (or any plain object) with unknown keys, impossible
 * distributions and unknown kinds rejected, each problem reported with its location.
 *
 * ```yaml
 * seed: 1
 * durationMs: 60000
 * load: { kind: constant, rps: 1000 }        # or { kind: poisson, rps: 1000 }
 * timeoutMs: 1000                            # the caller's timeout (default: none)
 * method: GET                                # the requests' HTTP method, for the classifier (default GET)
 * endpoints:
 *   - count: 10
 *     latency: { kind: normal, meanMs: 167, sdMs: 5 }
 *   - count: 1
 *     latency: { kind: normal, meanMs: 167, sdMs: 5 }
 *     failureRate: 0                         # probability a response is a failure (500)
 *     failureLatency: { kind: constant, ms: 5 }   # latency of failures (default: latency)
 *     events:                                # changes at a point in simulated time
 *       - { atMs: 15000, latency: { kind: constant, ms: 2000 } }
 *       - { atMs: 45000, latency: { kind: normal, meanMs: 167, sdMs: 5 } }
 * client:                                    # the proxy's client + service keys
 *   loadBalancer: { kind: ewma }
 *   failureAccrual: { kind: none }
 * variants:                                  # optional; each overrides whole keys of `client`
 *   - { name: round-robin, client: { loadBalancer: { kind: roundRobin } } }
 * ```
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import * as Client from "../config/Client.js"
import * as Yaml from "../config/Yaml.js"
import * as Distribution from "./Distribution.js"
import * as LoadGen from "./LoadGen.js"

const Probability = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))

/**
 * A change to a group of endpoints at `atMs` of simulated time.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Event = Schema.Struct({
  atMs: Client.Millis(),
  latency: Schema.optionalKey(Distribution.schema),
  failureRate: Schema.optionalKey(Probability),
  failureLatency: Schema.optionalKey(Distribution.schema)
})

/**
 * A decoded event.
 *
 * @since 0.1.0
 * @category model
 */
export type Event = typeof Event.Type

/**
 * A group of `count` identical endpoints (default 1).
 *
 * @since 0.1.0
 * @category schemas
 */
export const EndpointGroup = Schema.Struct({
  count: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).pipe(Schema.withDecodingDefaultKey(Effect.succeed(1))),
  latency: Distribution.schema,
  failureRate: Probability.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0))),
  failureLatency: Schema.optionalKey(Distribution.schema),
  events: Schema.Array(Event).pipe(Schema.withDecodingDefaultKey(Effect.succeed([])))
})

/**
 * A decoded endpoint group.
 *
 * @since 0.1.0
 * @category model
 */
export type EndpointGroup = typeof EndpointGroup.Type

/**
 * A named variant: its `client` keys replace the scenario's.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Variant = Schema.Struct({
  name: Schema.String.check(Schema.isMinLength(1)),
  client: Client.SectionPatch.pipe(Schema.withDecodingDefaultKey(Effect.succeed({})))
})

/**
 * The scenario document.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Scenario = Schema.Struct({
  seed: Schema.Int.pipe(Schema.withDecodingDefaultKey(Effect.succeed(1))),
  durationMs: Client.Millis({ positive: true }),
  load: LoadGen.schema,
  timeoutMs: Schema.optionalKey(Client.Millis({ positive: true })),
  method: Schema.String.check(Schema.isMinLength(1)).pipe(Schema.withDecodingDefaultKey(Effect.succeed("GET"))),
  endpoints: Schema.NonEmptyArray(EndpointGroup),
  client: Client.Section.pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  variants: Schema.optionalKey(Schema.NonEmptyArray(Variant))
})

/**
 * A decoded scenario.
 *
 * @since 0.1.0
 * @category model
 */
export interface Scenario {
  readonly seed: number
  readonly durationMs: Duration.Duration
  readonly load: LoadGen.Load
  readonly timeoutMs?: Duration.Duration
  readonly method: string
  readonly endpoints: ReadonlyArray<EndpointGroup>
  readonly client: Client.Section
  readonly variants?: ReadonlyArray<{ readonly name: string; readonly client: Client.SectionPatch }>
}

/**
 * A scenario that cannot be used: each problem with its location in the document.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidScenario extends Data.TaggedError("InvalidScenario")<{
  readonly source: string
  readonly problems: ReadonlyArray<Client.Problem>
}> {
  override get message(): string {
    return `invalid scenario ${this.source}:\n` +
      this.problems.map((p) => `  ${p.path === "" ? "(root)" : p.path}: ${p.message}`).join("\n")
  }
}

/**
 * Decodes a scenario from a plain object (what `Yaml.parse` or `JSON.parse` give). Variant names must
 * be unique.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (input: unknown, source = "<input>"): Result.Result<Scenario, InvalidScenario> => {
  const r = Schema.decodeUnknownResult(Scenario)(
    input,
    { ...Client.parseOptions, reportInput: true } as SchemaAST.ParseOptions
  )
  if (Result.isFailure(r)) {
    return Result.fail(new InvalidScenario({ source, problems: Client.problems(r.failure.issue) }))
  }
  const scenario = r.success as Scenario
  const seen = new Set<string>()
  const problems: Array<Client.Problem> = []
  scenario.variants?.forEach((v, i) => {
    if (seen.has(v.name)) problems.push({ path: `variants[${i}].name`, message: `duplicate variant name "${v.name}"` })
    seen.add(v.name)
  })
  return problems.length > 0 ? Result.fail(new InvalidScenario({ source, problems })) : Result.succeed(scenario)
}

/**
 * Parses YAML text and decodes it; a YAML syntax error is reported as a problem at the root.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parse = (text: string, source = "<input>"): Result.Result<Scenario, InvalidScenario> => {
  let doc: unknown
  try {
    doc = Yaml.parseUnsafe(text)
  } catch (e) {
    return Result.fail(
      new InvalidScenario({ source, problems: [{ path: "", message: `YAML: ${e instanceof Error ? e.message : e}` }] })
    )
  }
  return decode(doc, source)
}

/**
 * The variants to run, each with its resolved client: the scenario's `variants` in order, or one
 * variant named `default` with the scenario's client.
 *
 * @since 0.1.0
 * @category getters
 */
export const variants = (self: Scenario): Array<{ readonly name: string; readonly client: Client.Section }> =>
  self.variants === undefined
    ? [{ name: "default", client: self.client }]
    : self.variants.map((v) => ({ name: v.name, client: Client.patch(self.client, v.client) }))

/**
 * The number of endpoints across all groups.
 *
 * @since 0.1.0
 * @category getters
 */
export const endpointCount = (self: Scenario): number => self.endpoints.reduce((n, g) => n + g.count, 0)
