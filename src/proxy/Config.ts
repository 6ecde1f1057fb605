/**
 * The proxy's configuration file, linkerd 1.x's: one `Schema` for the whole document (YAML or
 * JSON), assembled from the plugin registries (`config/<family>/index.ts`: namers, identifiers,
 * interpreters, telemeters, and the client and service keys of `config/Client.ts`) and the proxy's
 * own sections (admin, routers, servers). Key names, units and defaults are linkerd's; values are
 * decoded at this boundary (`...Ms` numbers become `Duration`s, dtabs `Dtab`s, names `Path`s).
 *
 * ```yaml
 * admin: { ip: 127.0.0.1, port: 9990 }
 * namers:
 * - kind: io.l5d.fs
 *   rootDir: disco
 * routers:
 * - protocol: http
 *   label: outgoing
 *   dtab: /svc => /#/io.l5d.fs
 *   servers: [{ port: 4140 }]
 * ```
 *
 * The older shape of linkerd 0.x (the seed talk's) decodes too: a router-level `port` (one server on
 * it) and `baseDtab` (the router dtab).
 *
 * `decode` is the one pass that finds every problem, each with its location: unknown keys, bad
 * values, unknown kinds, kinds linkerd has that this version does not run
 * (`namers[0].kind: namer kind io.l5d.rancher is not available in this version of weir (available:
 * …)`), and, once the document decodes, the checks across entries (unique
 * router labels, no two servers on one address). It returns the normalized `Config` (servers,
 * identifiers and labels filled in).
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import * as ServersetsAnnouncerConfig from "../config/announcer/Serversets.js"
import * as ClientConfig from "../config/Client.js"
import * as H2Settings from "../config/H2Settings.js"
import * as Identifiers from "../config/identifier/index.js"
import * as Interpreters from "../config/interpreter/index.js"
import * as Namers from "../config/namer/index.js"
import * as Problems from "../config/Problems.js"
import * as Schemas from "../config/Schemas.js"
import * as SocketOptions from "../config/SocketOptions.js"
import * as Telemeters from "../config/telemeter/index.js"
import * as TlsConfig from "../config/Tls.js"
import * as Yaml from "../config/Yaml.js"
import * as Forwarded from "../http/Forwarded.js"
import * as RollPolicy from "../http/RollPolicy.js"
import * as Dtab from "../naming/Dtab.js"
import * as Path from "../naming/Path.js"
import * as PathMatcher from "../naming/PathMatcher.js"
import * as ServerConfig from "./ServerConfig.js"

// ---------------------------------------------------------------------------------------------
// building blocks
// ---------------------------------------------------------------------------------------------

const { NonEmptyString, Port, PositiveInt, unsupported, withDefault } = Schemas
const Ip = NonEmptyString

/** `httpAccessLogRollPolicy`: linkerd's roll policy text (`daily`, `100.megabytes`), decoded. */
const RollPolicyFromString = Schemas.fromString({
  is: (u: unknown): u is RollPolicy.RollPolicy => typeof u === "object" && u !== null && "_tag" in u,
  expected: "a roll policy",
  parse: RollPolicy.parse,
  show: RollPolicy.show
})

/**
 * A path in dtab syntax (`/svc/books`), decoded to a `Path`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PathFromString = Schemas.PathFromString

/**
 * A dtab in linkerd syntax (`/svc => /#/io.l5d.fs;`), decoded to a `Dtab`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DtabFromString = Schemas.DtabFromString

/**
 * A static-config `prefix` pattern (`/#/io.l5d.fs/{service}`, `/svc/*`), decoded to a matcher.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PathMatcherFromString = Schemas.fromString({
  is: PathMatcher.isPathMatcher,
  expected: "a prefix pattern",
  parse: PathMatcher.parse,
  show: (m) => m.pattern
})

// ---------------------------------------------------------------------------------------------
// admin
// ---------------------------------------------------------------------------------------------

/** A regular expression (JavaScript syntax, at most 1000 characters), kept as its source text. */
const RegexString = Schema.String.check(
  Schema.makeFilter((s: string) => {
    if (s.length > 1000) return "a regular expression of at most 1000 characters"
    try {
      new RegExp(s)
      return true
    } catch (e) {
      return `invalid regular expression: ${e instanceof Error ? e.message : String(e)}`
    }
  })
)

/**
 * `admin.security` (linkerd's): `uiEnabled`, `controlEnabled`, `diagnosticsEnabled` (each default
 * `true`), `pathWhitelist` and `pathBlacklist` (regular expressions matched against the whole
 * request path; default none). See `AdminSecurity.ts` for how they combine.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AdminSecurity = Schema.Struct({
  uiEnabled: Schema.Boolean.pipe(withDefault(true)),
  controlEnabled: Schema.Boolean.pipe(withDefault(true)),
  diagnosticsEnabled: Schema.Boolean.pipe(withDefault(true)),
  pathWhitelist: Schema.Array(RegexString).check(Schema.isMaxLength(100)).pipe(withDefault([])),
  pathBlacklist: Schema.Array(RegexString).check(Schema.isMaxLength(100)).pipe(withDefault([]))
})

/**
 * `admin`: `ip` (default `127.0.0.1`), `port` (default `9990`), `shutdownGraceMs` (default `10000`),
 * `security` (linkerd's, see `AdminSecurity`; default everything enabled) and `allowedHosts`
 * (weir's: more `Host` header values the admin server answers besides its own addresses, e.g.
 * `weir.internal:9990` or `weir.internal` for any port; default none), `tls` (default none: plain
 * HTTP; the keys of a server's, see `config/Tls.ServerTls`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Admin = Schema.Struct({
  ip: Ip.pipe(withDefault("127.0.0.1")),
  port: Port.pipe(withDefault(9990)),
  shutdownGraceMs: Schemas.Millis().pipe(withDefault(10_000)),
  socketOptions: unsupported("admin.socketOptions"),
  httpIdentifierPort: unsupported("admin.httpIdentifierPort"),
  tls: Schema.optionalKey(TlsConfig.ServerTls),
  security: Schema.optionalKey(AdminSecurity),
  allowedHosts: Schema.optionalKey(Schema.Array(NonEmptyString).check(Schema.isMaxLength(100))),
  workerThreads: Schema.optionalKey(PositiveInt)
})

/**
 * A decoded `admin` section.
 *
 * @since 0.1.0
 * @category model
 */
export type Admin = typeof Admin.Type

// ---------------------------------------------------------------------------------------------
// plugin families
// ---------------------------------------------------------------------------------------------

/**
 * One entry of `namers`: the namer registry's union (`config/namer/`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Namer = Namers.registry.schema

/**
 * A decoded namer entry.
 *
 * @since 0.1.0
 * @category model
 */
export type Namer = Namers.Config

/**
 * The prefix a namer serves under `/#`: its `prefix` (which defaults to its kind, `/io.l5d.fs`).
 *
 * @since 0.1.0
 * @category model
 */
export const namerPrefix = (namer: Namer): Path.Path => namer.prefix

/**
 * Where a configured namer answers: under `/#/<prefix>` (linkerd 1.x), and at `/<prefix>` itself, the
 * linkerd 0.x form the seed talk's dtabs use (`/srv => /io.l5d.k8s/default/http`).
 *
 * @since 0.1.0
 * @category namers
 */
export const namerMounts = (namer: Namer): ReadonlyArray<Path.Path> => Namers.mounts(namer)

/**
 * One HTTP identifier: the identifier registry's union (`config/identifier/`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Identifier = Identifiers.registry.schema

/**
 * A decoded identifier (the shape of the HTTP router's `Identifiers.Config`).
 *
 * @since 0.1.0
 * @category model
 */
export type Identifier = Identifiers.Config

/**
 * `routers[].interpreter`: the interpreter registry's union (`config/interpreter/`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Interpreter = Interpreters.registry.schema

/**
 * A decoded interpreter.
 *
 * @since 0.1.0
 * @category model
 */
export type Interpreter = Interpreters.Config

/**
 * One entry of `telemetry`: the telemeter registry's union (`config/telemeter/`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Telemeter = Telemeters.registry.schema

/**
 * A decoded telemeter.
 *
 * @since 0.1.0
 * @category model
 */
export type Telemeter = Telemeters.Config

// ---------------------------------------------------------------------------------------------
// client and service sections
// ---------------------------------------------------------------------------------------------

const clientOverrides = {
  ...ClientConfig.clientOverrideFields,
  failFast: Schema.optionalKey(Schema.Boolean),
  tls: Schema.optionalKey(TlsConfig.ClientTls),
  socketOptions: Schema.optionalKey(SocketOptions.Section),
  clientSession: unsupported("client.clientSession"),
  forwardClientCert: unsupported("client.forwardClientCert"),
  ...H2Settings.clientFields
}

const serviceOverrides = ClientConfig.serviceOverrideFields

/**
 * The client keys one static config (or the global section) sets; unset keys keep linkerd's
 * defaults or the value of an earlier matching config (see `ClientConfig.clientParamsOf`).
 *
 * @since 0.1.0
 * @category model
 */
export type ClientParams = Schema.Struct<typeof clientOverrides>["Type"]

/**
 * The service keys one static config (or the global section) sets.
 *
 * @since 0.1.0
 * @category model
 */
export type ServiceParams = Schema.Struct<typeof serviceOverrides>["Type"]

const GlobalClient = Schema.Struct({ kind: Schema.optionalKey(Schema.Literal("io.l5d.global")), ...clientOverrides })
const StaticClient = Schema.Struct({
  kind: Schema.Literal("io.l5d.static"),
  configs: Schema.Array(Schema.Struct({ prefix: PathMatcherFromString, ...clientOverrides }))
})
const GlobalService = Schema.Struct({ kind: Schema.optionalKey(Schema.Literal("io.l5d.global")), ...serviceOverrides })
const StaticService = Schema.Struct({
  kind: Schema.Literal("io.l5d.static"),
  configs: Schema.Array(Schema.Struct({ prefix: PathMatcherFromString, ...serviceOverrides }))
})

/**
 * A router's `client` section: the keys given directly (`kind: io.l5d.global`, the default) or
 * per client-name prefix (`kind: io.l5d.static, configs: [{prefix, …}]`, every match applied in
 * order, later keys overriding earlier ones). Keys and defaults: `config/Client.ts` (`loadBalancer`
 * p2c, `failureAccrual` 5 consecutive failures, `requeueBudget`, `requestAttemptTimeoutMs` none,
 * `hostConnectionPool`, `tls` none: see `config/Tls.ClientTls`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ClientSection = Schema.Union([GlobalClient, StaticClient])

/**
 * A router's `service` section, global or per service-name prefix like `ClientSection`. Keys:
 * `totalTimeoutMs` (none), `retries` (budget and backoff), `responseClassifier` (default
 * `io.l5d.http.nonRetryable5XX`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServiceSection = Schema.Union([GlobalService, StaticService])

// ---------------------------------------------------------------------------------------------
// routers (their `servers[]`: `ServerConfig.ts`)
// ---------------------------------------------------------------------------------------------

/**
 * One entry of a router's `servers` (see `ServerConfig.Server`).
 *
 * @since 0.1.0
 * @category model
 */
export type Server = ServerConfig.Server

const protocols = ["http", "h2", "thrift", "mux", "thriftmux"] as const
const availableProtocols: ReadonlyArray<string> = ["http", "h2"]

/** `protocol`: linkerd's protocols; the ones this version does not run are reported as such. */
const Protocol = Schema.Literals(protocols).check(
  Schema.makeFilter((p: string) =>
    availableProtocols.includes(p) ||
    `protocol ${p} is not available in this version of weir (available: ${availableProtocols.join(", ")})`
  )
)

const BindingCache = Schema.Struct({
  paths: PositiveInt.pipe(withDefault(1000)),
  trees: PositiveInt.pipe(withDefault(1000)),
  bounds: PositiveInt.pipe(withDefault(1000)),
  clients: PositiveInt.pipe(withDefault(1000)),
  idleTtlSecs: Schemas.Seconds(1, 86_400 * 365).pipe(withDefault(600))
})

/**
 * One entry of `routers`. Keys and defaults (linkerd's): `protocol` (required; `http` and `h2` run),
 * `label` (default the protocol), `servers` (default none, as in linkerd: such a router serves
 * nothing; the older router-level `port` is one server), `dtab` (default empty; `baseDtab` is the
 * older name), `identifier` (one or a list; default
 * `io.l5d.header.token` on `Host`), `dstPrefix` (default `/svc`). A router written in the older
 * shape (`baseDtab`) gets linkerd 0.x's defaults instead: `io.l5d.methodAndHost` and `/http`, so the
 * seed talk's `/http/1.1 => /method` dtabs route as they did. `bindingTimeoutMs` (default
 * `10000`), `bindingCache` (`paths`/`trees`/`bounds`/`clients` 1000, `idleTtlSecs` 600), `client`,
 * `service`, `interpreter` (default `{kind: default}`), `originator` (default `false`),
 * `allowSelfRouting` (weir's; default `false`: refuse to route to this proxy's own addresses),
 * `experimental` (default `false`), HTTP limits `maxHeadersKB` (8), `maxInitialLineKB` (4),
 * `streamAfterContentLengthKB` (5), `maxErrResponseKB` (5120), `httpAccessLog` (default none: a file,
 * `/dev/stdout` and `/dev/stderr` included), `httpAccessLogAppend` (default `true`),
 * `httpAccessLogRollPolicy` (default `never`; `hourly`, `daily`, `weekly(n)`, a size like
 * `100.megabytes`: see `http/RollPolicy.ts`), `httpAccessLogRotateCount` (default `-1`, all kept);
 * on an h2 router linkerd's names `h2AccessLog`, `h2AccessLogAppend`, `h2AccessLogRollPolicy`,
 * `h2AccessLogRotateCount` set the same (and are refused on an http router);
 * `compressionLevel` (`-1`, the default, … `9`: accepted, and weir does not compress: response bodies
 * are forwarded as the upstream sent them). Tunnels (HTTP/1.1 upgrades such as WebSocket, and
 * `CONNECT`; weir's keys, `http` routers only): `connectEnabled` (default `false`: a `CONNECT` is
 * answered 405; linkerd 1.x had no CONNECT, and a router that tunnels is an open proxy to whatever its
 * dtab binds), `tunnelIdleTimeoutMs` (default `3600000`, one hour), `tunnelMaxDurationMs` (default
 * none).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Router = Schema.Struct({
  protocol: Protocol,
  label: Schema.optionalKey(NonEmptyString),
  servers: Schema.optionalKey(Schema.Array(ServerConfig.Server)),
  port: Schema.optionalKey(Port),
  ip: Schema.optionalKey(Ip),
  dtab: Schema.optionalKey(DtabFromString),
  baseDtab: Schema.optionalKey(DtabFromString),
  identifier: Schema.optionalKey(Schema.Union([Identifier, Schema.Array(Identifier)])),
  dstPrefix: Schema.optionalKey(PathFromString),
  bindingTimeoutMs: Schemas.Millis({ positive: true }).pipe(withDefault(10_000)),
  bindingCache: BindingCache.pipe(withDefault({})),
  client: Schema.optionalKey(ClientSection),
  service: Schema.optionalKey(ServiceSection),
  interpreter: Interpreter.pipe(withDefault({ kind: "default" as const })),
  originator: Schema.Boolean.pipe(withDefault(false)),
  allowSelfRouting: Schema.Boolean.pipe(withDefault(false)),
  experimental: Schema.Boolean.pipe(withDefault(false)),
  maxHeadersKB: PositiveInt.pipe(withDefault(8)),
  maxInitialLineKB: PositiveInt.pipe(withDefault(4)),
  streamAfterContentLengthKB: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(withDefault(5)),
  maxErrResponseKB: PositiveInt.pipe(withDefault(5120)),
  streamingEnabled: Schema.Boolean.pipe(withDefault(true)),
  announcers: Schema.optionalKey(Schema.Array(ServersetsAnnouncerConfig.schema)),
  httpAccessLog: Schema.optionalKey(NonEmptyString),
  httpAccessLogAppend: Schema.Boolean.pipe(withDefault(true)),
  httpAccessLogRollPolicy: RollPolicyFromString.pipe(withDefault("never")),
  httpAccessLogRotateCount: Schema.Int.check(Schema.isGreaterThanOrEqualTo(-1)).pipe(withDefault(-1)),
  h2AccessLog: Schema.optionalKey(NonEmptyString),
  h2AccessLogAppend: Schema.optionalKey(Schema.Boolean),
  h2AccessLogRollPolicy: Schema.optionalKey(RollPolicyFromString),
  h2AccessLogRotateCount: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(-1))),
  tracePropagator: unsupported("tracePropagator"),
  compressionLevel: Schema.Int.check(Schema.isBetween({ minimum: -1, maximum: 9 })).pipe(withDefault(-1)),
  connectEnabled: Schema.Boolean.pipe(withDefault(false)),
  tunnelIdleTimeoutMs: Schemas.Millis({ positive: true }).pipe(withDefault(3_600_000)),
  tunnelMaxDurationMs: Schema.optionalKey(Schemas.Millis({ positive: true }))
})

/**
 * A router entry as decoded (before normalization).
 *
 * @since 0.1.0
 * @category model
 */
export type RouterEntry = typeof Router.Type

// ---------------------------------------------------------------------------------------------
// usage, top level
// ---------------------------------------------------------------------------------------------

/**
 * `usage`: `orgId` and `enabled`. Accepted for compatibility; weir never sends usage reports.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Usage = Schema.Struct({
  orgId: Schema.optionalKey(Schema.String),
  enabled: Schema.Boolean.pipe(withDefault(true))
})

/**
 * `workers` (weir's): how many processes serve the routers, `auto` (one per available core) or a
 * number; defaults to `1` (one process). Several workers share each server's port (`SO_REUSEPORT`);
 * worker `0` also runs the admin server, which reports every worker's metrics (`proxy/Workers.ts`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Workers = Schema.Union([Schema.Literal("auto"), PositiveInt.check(Schema.isLessThanOrEqualTo(256))])

/**
 * The whole configuration file as decoded: `workers` (default `1`), `admin` (defaults), `namers` (default none), `routers`
 * (required, at least one), `telemetry` (default none), `usage`. (`namers` and `telemetry` are
 * optional keys defaulted in `decode`: a decoding default around an array would keep only the
 * structural problems of its entries, losing the "not available" ones.)
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigFile = Schema.Struct({
  workers: Workers.pipe(withDefault(1)),
  admin: Admin.pipe(withDefault({})),
  namers: Schema.optionalKey(Schema.Array(Namer)),
  routers: Schema.Array(Router).check(Schema.isMinLength(1, { message: "at least one router is required" })),
  telemetry: Schema.optionalKey(Schema.Array(Telemeter)),
  usage: Usage.pipe(withDefault({}))
})

/**
 * The file as decoded, before normalization.
 *
 * @since 0.1.0
 * @category model
 */
export type ConfigFile = typeof ConfigFile.Type

// ---------------------------------------------------------------------------------------------
// normalized config
// ---------------------------------------------------------------------------------------------

/**
 * Per-prefix parameters: the first match of `prefix` against a name, then the parameters it sets.
 *
 * @since 0.1.0
 * @category model
 */
export interface PrefixConfig<P> {
  readonly prefix: PathMatcher.PathMatcher
  readonly params: P
}

/**
 * A router after normalization: the older keys folded in, defaults resolved.
 *
 * @since 0.1.0
 * @category model
 */
export interface RouterConfig {
  readonly protocol: RouterEntry["protocol"]
  readonly label: string
  readonly servers: ReadonlyArray<Server>
  /** The announcers servers' `announce` names go through (`routers[].announcers`). */
  readonly announcers?: ReadonlyArray<ServersetsAnnouncerConfig.Config> | undefined
  readonly dtab: Dtab.Dtab
  readonly identifiers: ReadonlyArray<Identifier>
  readonly dstPrefix: Path.Path
  readonly bindingTimeoutMs: Duration.Duration
  readonly bindingCache: RouterEntry["bindingCache"]
  /** Client parameters by client-name prefix, applied in order (global ones have the prefix `/`). */
  readonly client: ReadonlyArray<PrefixConfig<ClientParams>>
  /** Service parameters by service-name prefix, applied in order. */
  readonly service: ReadonlyArray<PrefixConfig<ServiceParams>>
  readonly interpreter: Interpreter
  readonly originator: boolean
  /** Whether this router may send requests to the proxy's own admin and server addresses (weir). */
  readonly allowSelfRouting: boolean
  readonly experimental: boolean
  readonly maxHeadersKB: number
  readonly maxInitialLineKB: number
  readonly streamAfterContentLengthKB: number
  readonly maxErrResponseKB: number
  readonly streamingEnabled: boolean
  /** The access log's file, when there is one. */
  readonly httpAccessLog?: string | undefined
  /** Whether the access log is appended to (else truncated). */
  readonly httpAccessLogAppend: boolean
  /** When the access log is rolled. */
  readonly httpAccessLogRollPolicy: RollPolicy.RollPolicy
  /** Rolled access logs kept (`-1`: all). */
  readonly httpAccessLogRotateCount: number
  /** `compressionLevel` (`-1` … `9`): accepted; weir forwards response bodies as the upstream sent them. */
  readonly compressionLevel: number
  /** Whether `CONNECT` requests are tunnelled (weir's key; `http` routers only). */
  readonly connectEnabled: boolean
  /** How long a tunnel may carry no byte before it is closed. */
  readonly tunnelIdleTimeoutMs: Duration.Duration
  /** How long a tunnel may last, when limited. */
  readonly tunnelMaxDurationMs?: Duration.Duration | undefined
}

/**
 * The whole configuration, normalized.
 *
 * @since 0.1.0
 * @category model
 */
export interface Config {
  /** How many processes serve the routers (`auto`: one per available core). Defaults to `1`. */
  readonly workers?: typeof Workers.Type | undefined
  readonly admin: Admin
  readonly namers: ReadonlyArray<Namer>
  readonly routers: ReadonlyArray<RouterConfig>
  readonly telemetry: ReadonlyArray<Telemeter>
  readonly usage: typeof Usage.Type
}

/**
 * One problem in a config document: where and what (see `config/Problems.ts`).
 *
 * @since 0.1.0
 * @category errors
 */
export type Problem = Problems.Problem

/**
 * The parse options config decoding uses: unknown keys are errors, every problem is reported, and
 * issues keep their input (so an unknown `kind` can be named).
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseOptions: SchemaAST.ParseOptions = Problems.parseOptions

const wildcard = (ip: string) => ip === "0.0.0.0" || ip === "::" || ip === "*"

/**
 * The checks across entries of a normalized config: unique router labels, no two servers (or a
 * server and the admin server) on one address. `decode` runs them; a config built by hand can be
 * checked with them.
 *
 * @since 0.1.0
 * @category validation
 */
export const conflicts = (config: Pick<Config, "admin" | "routers">): Array<Problem> => {
  const { admin, routers } = config
  const problems: Array<Problem> = []
  const labels = new Map<string, number>()
  const bound: Array<{ readonly ip: string; readonly port: number; readonly where: string }> = []
  if (admin.port !== 0) bound.push({ ip: admin.ip, port: admin.port, where: "admin" })
  routers.forEach((r, i) => {
    const seen = labels.get(r.label)
    if (seen !== undefined) {
      problems.push({
        path: `routers[${i}].label`,
        message: `router label "${r.label}" is already used by routers[${seen}]; labels must be unique`
      })
    } else labels.set(r.label, i)
    r.servers.forEach((s, j) => {
      if (s.port === 0) return
      const where = `routers[${i}].servers[${j}]`
      const clash = bound.find((b) => b.port === s.port && (b.ip === s.ip || wildcard(b.ip) || wildcard(s.ip)))
      if (clash !== undefined) {
        problems.push({
          path: where,
          message: `${s.ip}:${s.port} conflicts with ${clash.where} (${clash.ip}:${clash.port})`
        })
      } else bound.push({ ip: s.ip, port: s.port, where })
    })
  })
  return problems
}

const everywhere = PathMatcher.parseUnsafe("/")

const split = <P extends object>(
  section:
    | { readonly kind?: string; readonly configs?: ReadonlyArray<{ readonly prefix: PathMatcher.PathMatcher }> }
    | undefined
): Array<PrefixConfig<P>> => {
  if (section === undefined) return []
  if (section.kind === "io.l5d.static" && section.configs !== undefined) {
    return section.configs.map(({ prefix, ...params }) => ({ prefix, params: params as unknown as P }))
  }
  const { kind: _kind, ...params } = section as { readonly kind?: string }
  return [{ prefix: everywhere, params: params as P }]
}

const normalizeRouter = (r: RouterEntry, index: number, problems: Array<Problem>): RouterConfig => {
  const at = (key: string) => `routers[${index}].${key}`
  let servers: ReadonlyArray<Server>
  if (r.servers !== undefined) {
    servers = r.servers
    if (r.port !== undefined) problems.push({ path: at("port"), message: "give either `servers` or `port`, not both" })
    if (r.ip !== undefined) problems.push({ path: at("ip"), message: "give either `servers` or `ip`, not both" })
  } else if (r.port !== undefined) {
    servers = [
      Schema.decodeUnknownSync(ServerConfig.Server)({ port: r.port, ...(r.ip !== undefined ? { ip: r.ip } : {}) })
    ]
  } else {
    // linkerd's default is no servers: such a router serves nothing and is valid
    servers = []
  }
  servers.forEach((s, j) => {
    for (const sideKey of ["by", "for"] as const) {
      const routerLabel = r.label ?? r.protocol
      const problem = s.addForwardedHeader?.[sideKey].kind === "router"
        ? Forwarded.labelProblem(routerLabel)
        : undefined
      if (problem !== undefined) {
        problems.push({
          path: at(`servers[${j}].addForwardedHeader.${sideKey}.kind`),
          message: `kind router uses the router's label: ${problem}`
        })
      }
    }
  })
  // h2 keys: range-checked on h2 routers, refused on the others
  const h2 = r.protocol === "h2"
  servers.forEach((s, j) => problems.push(...H2Settings.problems(s, h2, at(`servers[${j}]`))))
  if (r.client !== undefined) {
    if (r.client.kind === "io.l5d.static") {
      r.client.configs.forEach((c, j) => problems.push(...H2Settings.problems(c, h2, at(`client.configs[${j}]`))))
    } else problems.push(...H2Settings.problems(r.client, h2, at("client")))
  }
  servers.forEach((s, j) =>
    (s.announce ?? []).forEach((name, k) => {
      if (!(r.announcers ?? []).some((a) => ServersetsAnnouncerConfig.zkPathOf(a, name) !== undefined)) {
        problems.push({
          path: at(`servers[${j}].announce[${k}]`),
          message: `no announcer of this router serves ${Path.show(name)} (routers[].announcers prefixes: ${
            (r.announcers ?? []).map((a) => Path.show(ServersetsAnnouncerConfig.namePrefix(a))).join(", ") || "none"
          })`
        })
      }
    })
  )
  if (r.dtab !== undefined && r.baseDtab !== undefined) {
    problems.push({ path: at("baseDtab"), message: "give either `dtab` or the older `baseDtab`, not both" })
  }
  const legacy = r.baseDtab !== undefined
  const given = r.identifier === undefined
    ? legacy
      ? [{ kind: "io.l5d.methodAndHost" as const, httpUriInDst: false }]
      : [{ kind: "io.l5d.header.token" as const, header: "Host" }]
    : Array.isArray(r.identifier)
    ? r.identifier
    : [r.identifier as Identifier]
  // an h2 request has no Host: its `:authority` is the same field (linkerd's h2 default)
  const identifiers = h2
    ? given.map((i) =>
      i.kind === "io.l5d.header.token" && i.header.toLowerCase() === "host" ? { ...i, header: ":authority" } : i
    )
    : given
  if (identifiers.length === 0) {
    problems.push({ path: at("identifier"), message: "at least one identifier is required" })
  }
  if (h2 && r.connectEnabled) {
    problems.push({ path: at("connectEnabled"), message: "applies to http routers only (HTTP/1.1 CONNECT)" })
  }
  // linkerd names an h2 router's access log h2AccessLog*: the same settings under the h2 names
  for (const key of ["h2AccessLog", "h2AccessLogAppend", "h2AccessLogRollPolicy", "h2AccessLogRotateCount"] as const) {
    if (!h2 && r[key] !== undefined) {
      problems.push({
        path: at(key),
        message: `${key} is for h2 routers (an http router's is ${key.replace("h2", "http")})`
      })
    }
  }
  const accessLog = (h2 ? r.h2AccessLog : undefined) ?? r.httpAccessLog
  if (!r.streamingEnabled && r.streamAfterContentLengthKB !== 5) {
    problems.push({
      path: at("streamAfterContentLengthKB"),
      message: "cannot be set together with `streamingEnabled: false`"
    })
  }
  return {
    protocol: r.protocol,
    label: r.label ?? r.protocol,
    servers,
    ...(r.announcers !== undefined ? { announcers: r.announcers } : {}),
    dtab: r.dtab ?? r.baseDtab ?? Dtab.empty,
    identifiers,
    dstPrefix: r.dstPrefix ?? Path.make(legacy ? "http" : "svc"),
    bindingTimeoutMs: r.bindingTimeoutMs,
    bindingCache: r.bindingCache,
    client: split<ClientParams>(r.client),
    service: split<ServiceParams>(r.service),
    interpreter: r.interpreter,
    originator: r.originator,
    allowSelfRouting: r.allowSelfRouting,
    experimental: r.experimental,
    maxHeadersKB: r.maxHeadersKB,
    maxInitialLineKB: r.maxInitialLineKB,
    streamAfterContentLengthKB: r.streamAfterContentLengthKB,
    maxErrResponseKB: r.maxErrResponseKB,
    streamingEnabled: r.streamingEnabled,
    ...(accessLog !== undefined ? { httpAccessLog: accessLog } : {}),
    httpAccessLogAppend: (h2 ? r.h2AccessLogAppend : undefined) ?? r.httpAccessLogAppend,
    httpAccessLogRollPolicy: (h2 ? r.h2AccessLogRollPolicy : undefined) ?? r.httpAccessLogRollPolicy,
    httpAccessLogRotateCount: (h2 ? r.h2AccessLogRotateCount : undefined) ?? r.httpAccessLogRotateCount,
    compressionLevel: r.compressionLevel,
    connectEnabled: r.connectEnabled,
    tunnelIdleTimeoutMs: r.tunnelIdleTimeoutMs,
    ...(r.tunnelMaxDurationMs !== undefined ? { tunnelMaxDurationMs: r.tunnelMaxDurationMs } : {})
  }
}

/**
 * Decodes a parsed document (the object a YAML or JSON file holds) into the normalized `Config`, or
 * every problem found, each with its location.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (input: unknown): Result.Result<Config, Array<Problem>> => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return Result.fail([{ path: "", message: "the config must be an object with at least `routers`" }])
  }
  const r = Schema.decodeUnknownResult(ConfigFile)(input, parseOptions)
  if (Result.isFailure(r)) return Result.fail(Problems.problems(r.failure.issue))
  const file = r.success
  const found: Array<Problem> = []
  const routers = file.routers.map((router, i) => normalizeRouter(router, i, found))
  if (found.length === 0) found.push(...conflicts({ admin: file.admin, routers }))
  if (found.length > 0) return Result.fail(found)
  return Result.succeed({
    admin: file.admin,
    namers: file.namers ?? [],
    routers,
    telemetry: file.telemetry ?? [],
    usage: file.usage,
    workers: file.workers
  })
}

/**
 * Parses YAML (a superset of JSON) and decodes it. A YAML syntax error is one problem at the root.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parse = (text: string): Result.Result<Config, Array<Problem>> => {
  let doc: unknown
  try {
    doc = Yaml.parseUnsafe(text)
  } catch (e) {
    return Result.fail([{ path: "", message: `invalid YAML: ${e instanceof Error ? e.message : String(e)}` }])
  }
  return decode(doc)
}
