/**
 * The `io.l5d.marathon` namer's config, linkerd's keys and defaults: `host` (`marathon.mesos`),
 * `port` (`80`), `uriPrefix` (none), `ttlMs` (`5000`: the poll interval), `jitterMs` (`50`: up to
 * this much random delay added to each interval), `useHealthCheck` (`false`), `tls`
 * (`disableValidation`, `commonName`, `trustCerts`). Credentials come from the environment as in
 * linkerd: `DCOS_SERVICE_ACCOUNT_CREDENTIAL` or `MARATHON_HTTP_AUTH_CREDENTIAL` (see `DcosAuth`).
 * `dst` (reaching Marathon through a dtab name) is not supported.
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.marathon
 *   host: marathon.mesos
 *   port: 80
 *   useHealthCheck: true
 * ```
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as DcosAuth from "../../namers/DcosAuth.js"
import * as Marathon from "../../namers/Marathon.js"
import type * as Namer from "../../naming/Namer.js"
import * as Plugin from "../Plugin.js"
import * as NamerConfig from "../Schemas.js"
import * as Common from "./Common.js"
import * as ConsulConfig from "./Consul.js"

const { NonEmptyString, Port, withDefault } = NamerConfig

/**
 * The config entry.
 *
 * @since 0.1.0
 * @category schemas
 */
export const schema = Schema.Struct({
  kind: Schema.Literal("io.l5d.marathon"),
  host: NonEmptyString.pipe(withDefault("marathon.mesos")),
  port: Port.pipe(withDefault(80)),
  dst: NamerConfig.unsupported("marathon dst"),
  uriPrefix: Schema.String.pipe(withDefault("")),
  ttlMs: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).pipe(withDefault(5000)),
  jitterMs: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(withDefault(50)),
  useHealthCheck: Schema.Boolean.pipe(withDefault(false)),
  tls: Schema.optionalKey(ConsulConfig.Tls),
  ...Common.fields("/io.l5d.marathon")
})

/**
 * A decoded entry.
 *
 * @since 0.1.0
 * @category models
 */
export type Config = typeof schema.Type

/**
 * Builds the namer of an entry; credentials are read from `env` (default `process.env`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const build = (
  config: Config,
  env: Readonly<Record<string, string | undefined>> = process.env
): Effect.Effect<Namer.Namer, never, Scope.Scope> => {
  const auth = DcosAuth.fromEnv(env)
  return Marathon.make({
    host: config.host,
    port: config.port,
    uriPrefix: config.uriPrefix,
    ttl: Duration.millis(config.ttlMs),
    jitter: Duration.millis(config.jitterMs),
    useHealthCheck: config.useHealthCheck,
    tls: config.tls,
    ...(Result.isSuccess(auth) ? { auth: auth.success } : { authProblem: auth.failure }),
    label: Common.label(config)
  })
}

/**
 * The plugin: `build`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema,
  example: { kind: "io.l5d.marathon" },
  make: build
})
