/**
 * The `io.l5d.consul` namer's config, linkerd's keys and defaults: `host` (`localhost`), `port`
 * (`8500`), `includeTag` (`false`), `useHealthCheck` (`false`), `healthStatuses` (`[passing]`),
 * `token`, `datacenter` (the datacenter `.local` names; default the agent's), `setHost` (only
 * `false`: rewriting `Host` is not supported), `consistencyMode` (`default`), `failFast` (`false`;
 * accepted for compatibility: weir's Consul client always retries with backoff, so it changes
 * nothing), `preferServiceAddress` (`true`), `weights` (`[{tag, weight}]`),
 * `fixedLengthStreamedAfterKB` (`5120`, accepted, no effect), `transferMetadata` (only `false`) and
 * `tls` (`disableValidation`, `commonName`, `trustCerts`).
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.consul
 *   host: 127.0.0.1
 *   useHealthCheck: true
 *   healthStatuses: [passing, warning]
 * ```
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Consul from "../../namers/Consul.js"
import type * as Namer from "../../naming/Namer.js"
import * as Plugin from "../Plugin.js"
import * as NamerConfig from "../Schemas.js"
import * as Common from "./Common.js"

const { NonEmptyString, Port, withDefault } = NamerConfig

const onlyFalse = (what: string) =>
  Schema.Boolean.check(Schema.makeFilter((b: boolean) => !b || `${what} is not supported by this version of weir`))

/**
 * linkerd's client `tls` block.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Tls = Schema.Struct({
  disableValidation: Schema.optionalKey(Schema.Boolean),
  commonName: Schema.optionalKey(NonEmptyString),
  trustCerts: Schema.optionalKey(Schema.Array(NonEmptyString)),
  clientAuth: NamerConfig.unsupported("tls.clientAuth")
})

/**
 * The config entry.
 *
 * @since 0.1.0
 * @category schemas
 */
export const schema = Schema.Struct({
  kind: Schema.Literal("io.l5d.consul"),
  host: NonEmptyString.pipe(withDefault("localhost")),
  port: Port.pipe(withDefault(8500)),
  includeTag: Schema.Boolean.pipe(withDefault(false)),
  useHealthCheck: Schema.Boolean.pipe(withDefault(false)),
  healthStatuses: Schema.Array(Schema.Literals(["passing", "warning", "critical", "maintenance"])).pipe(
    withDefault(["passing"])
  ),
  token: Schema.optionalKey(Schema.String),
  datacenter: Schema.optionalKey(NonEmptyString),
  setHost: onlyFalse("setHost: true (rewriting Host to the Consul DNS name)").pipe(withDefault(false)),
  consistencyMode: Schema.Literals(["default", "stale", "consistent"]).pipe(withDefault("default")),
  failFast: Schema.Boolean.pipe(withDefault(false)),
  preferServiceAddress: Schema.Boolean.pipe(withDefault(true)),
  weights: Schema.optionalKey(
    Schema.Array(Schema.Struct({ tag: NonEmptyString, weight: Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0)) }))
  ),
  fixedLengthStreamedAfterKB: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).pipe(withDefault(5120)),
  transferMetadata: onlyFalse("transferMetadata: true").pipe(withDefault(false)),
  tls: Schema.optionalKey(Tls),
  ...Common.fields("/io.l5d.consul")
})

/**
 * A decoded entry.
 *
 * @since 0.1.0
 * @category models
 */
export type Config = typeof schema.Type

/**
 * Builds the namer of an entry.
 *
 * @since 0.1.0
 * @category constructors
 */
export const build = (config: Config): Effect.Effect<Namer.Namer, never, Scope.Scope> =>
  Consul.make({
    host: config.host,
    port: config.port,
    includeTag: config.includeTag,
    useHealthCheck: config.useHealthCheck,
    healthStatuses: config.healthStatuses,
    token: config.token,
    datacenter: config.datacenter,
    preferServiceAddress: config.preferServiceAddress,
    weights: config.weights,
    consistencyMode: config.consistencyMode,
    tls: config.tls,
    label: Common.label(config)
  })

/**
 * The plugin: `build`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema,
  example: { kind: "io.l5d.consul" },
  make: build
})
