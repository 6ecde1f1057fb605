/**
 * The proxy's configuration file, linkerd 1.x's: one `Schema` for the whole document (YAML or
 * JSON), keeping linkerd's key names, units and defaults. Values are decoded at this boundary:
 * `...Ms` numbers become `Duration`s (the key keeps its linkerd name), dtabs become `Dtab`s, names
 * `Path`s. Unknown keys are errors, and every problem is reported with its location
 * (`routers[1].client.loadBalancer.kind: unknown kind "rr" (expected one of: p2c, ewma, …)`).
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
 * `decode` returns the normalized `Config` (servers, identifiers and labels filled in). Kinds that
 * decode but that this version cannot run (e.g. `io.l5d.k8s`) are rejected when the proxy is built
 * (see `Linker.validate`), never ignored.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Yaml from "effect/encoding/Yaml"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as SchemaAST from "effect/SchemaAST"
import * as SchemaIssue from "effect/SchemaIssue"
import * as SchemaTransformation from "effect/SchemaTransformation"
import * as ClientConfig from "../config/Client.js"
import * as Forwarded from "../http/Forwarded.js"
import type * as Identifiers from "../http/Identifiers.js"
import * as DnsSrv from "../namers/DnsSrv.js"
import * as Dtab from "../naming/Dtab.js"
import * as Path from "../naming/Path.js"
import * as PathMatcher from "./PathMatcher.js"

// ---------------------------------------------------------------------------------------------
// building blocks
// ---------------------------------------------------------------------------------------------

const withDefault = <S extends Schema.Top>(value: S["Encoded"]) => (self: S) =>
  self.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

const Port = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 }))
const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))
const NonEmptyString = Schema.String.check(Schema.isMinLength(1))
const Ip = NonEmptyString

/**
 * A key that linkerd documents but this version of weir does not implement: decoding it fails with
 * a message saying so, instead of ignoring it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const unsupported = (what: string) =>
  Schema.optionalKey(
    Schema.Unknown.check(
      Schema.makeFilter(() => `${what} is not supported by this version of weir`)
    )
  )

/**
 * A key accepted only with its default value (`accepted`): any other value fails with `message`.
 */
const onlyValue = <S extends Schema.Top>(self: S, accepted: S["Type"], message: (value: S["Type"]) => string) =>
  self.check(Schema.makeFilter((value: S["Type"]) => value === accepted || message(value)))

const rotationUnsupported =
  "log rotation is not supported by this version of weir (keep the default and use an external logrotate with copytruncate)"

/** A header name: one or more token characters (RFC 9110). */
const HeaderName = Schema.String.check(
  Schema.makeFilter((s: string) =>
    /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(s) || `invalid header name ${JSON.stringify(s)} (expected token characters)`
  )
)

const PathSchema = Schema.declare(Path.isPath, { expected: "a path" })
const DtabSchema = Schema.declare(Dtab.isDtab, { expected: "a dtab" })

/**
 * A path in dtab syntax (`/svc/books`), decoded to a `Path`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PathFromString = Schema.String.pipe(
  Schema.decodeTo(
    PathSchema,
    SchemaTransformation.transformEffect({
      decode: (s, options) => {
        const r = Path.parse(s)
        return Result.isSuccess(r)
          ? Effect.succeed(r.success)
          : Effect.fail(new SchemaIssue.InvalidValue({ message: `invalid path: ${r.failure.message}` }, s, options))
      },
      encode: (p) => Effect.succeed(Path.show(p))
    })
  )
)

/**
 * A dtab in linkerd syntax (`/svc => /#/io.l5d.fs;`), decoded to a `Dtab`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DtabFromString = Schema.String.pipe(
  Schema.decodeTo(
    DtabSchema,
    SchemaTransformation.transformEffect({
      decode: (s, options) => {
        const r = Dtab.parse(s)
        return Result.isSuccess(r)
          ? Effect.succeed(r.success)
          : Effect.fail(new SchemaIssue.InvalidValue({ message: `invalid dtab: ${r.failure.message}` }, s, options))
      },
      encode: (d) => Effect.succeed(Dtab.show(d))
    })
  )
)

const MatcherSchema = Schema.declare(PathMatcher.isPathMatcher, { expected: "a prefix pattern" })

/**
 * A static-config `prefix` pattern (`/#/io.l5d.fs/{service}`, `/svc/*`), decoded to a matcher.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PathMatcherFromString = Schema.String.pipe(
  Schema.decodeTo(
    MatcherSchema,
    SchemaTransformation.transformEffect({
      decode: (s, options) => {
        const r = PathMatcher.parse(s)
        return Result.isSuccess(r)
          ? Effect.succeed(r.success)
          : Effect.fail(new SchemaIssue.InvalidValue({ message: r.failure }, s, options))
      },
      encode: (m) => Effect.succeed(m.pattern)
    })
  )
)

// ---------------------------------------------------------------------------------------------
// admin
// ---------------------------------------------------------------------------------------------

/**
 * `admin`: `ip` (default `127.0.0.1`), `port` (default `9990`), `shutdownGraceMs` (default `10000`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Admin = Schema.Struct({
  ip: Ip.pipe(withDefault("127.0.0.1")),
  port: Port.pipe(withDefault(9990)),
  shutdownGraceMs: ClientConfig.Millis().pipe(withDefault(10_000)),
  socketOptions: unsupported("admin.socketOptions"),
  httpIdentifierPort: unsupported("admin.httpIdentifierPort"),
  tls: unsupported("admin TLS"),
  security: unsupported("admin.security"),
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
// namers
// ---------------------------------------------------------------------------------------------

const namerCommon = {
  prefix: Schema.optionalKey(PathFromString),
  experimental: Schema.optionalKey(Schema.Boolean),
  transformers: unsupported("namer transformers")
}

/**
 * `io.l5d.fs`: one file per service under `rootDir` (required), `host port [* weight]` per line.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FsNamer = Schema.Struct({ kind: Schema.Literal("io.l5d.fs"), rootDir: NonEmptyString, ...namerCommon })

/**
 * `io.l5d.k8s`: Kubernetes endpoints through `kubectl proxy`. `host` defaults to `localhost`, `port`
 * to `8001`. Served by `src/namers/K8s.ts`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const K8sNamer = Schema.Struct({
  kind: Schema.Literal("io.l5d.k8s"),
  host: NonEmptyString.pipe(withDefault("localhost")),
  port: Port.pipe(withDefault(8001)),
  labelSelector: Schema.optionalKey(NonEmptyString),
  ...namerCommon
})

/**
 * `io.l5d.experimental.k8s`: linkerd 0.x's Kubernetes namer (the seed talk's), with `host`
 * (default `kubernetes.default.svc.cluster.local`), `port` (default `443`), `tls` (default `true`),
 * `tlsWithoutValidation` (default `false`) and `authTokenFile`. Served by `src/namers/K8s.ts`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ExperimentalK8sNamer = Schema.Struct({
  kind: Schema.Literal("io.l5d.experimental.k8s"),
  host: NonEmptyString.pipe(withDefault("kubernetes.default.svc.cluster.local")),
  port: Port.pipe(withDefault(443)),
  tls: Schema.Boolean.pipe(withDefault(true)),
  tlsWithoutValidation: Schema.Boolean.pipe(withDefault(false)),
  authTokenFile: Schema.optionalKey(NonEmptyString),
  ...namerCommon
})

/**
 * `io.l5d.dnssrv` (experimental: needs `experimental: true`, as in linkerd): `refreshIntervalSeconds`
 * (default `5`), `dnsHosts` (default: the system resolver's servers; each `ip`, `ip:port` or
 * `[ipv6]:port`). Served by `src/namers/DnsSrv.ts`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DnsSrvNamer = Schema.Struct({
  kind: Schema.Literal("io.l5d.dnssrv"),
  refreshIntervalSeconds: PositiveInt.pipe(withDefault(5)),
  dnsHosts: Schema.Array(NonEmptyString).pipe(withDefault([])),
  ...namerCommon
})

/**
 * `io.l5d.consul`: `host` (default `localhost`), `port` (default `8500`), `includeTag`,
 * `useHealthCheck`, `healthStatuses` (default `[passing]`), `token`, `setHost`, `consistencyMode`,
 * `failFast`, `preferServiceAddress` (default `true`), `weights`, `transferMetadata`. Decoded, but not
 * available.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConsulNamer = Schema.Struct({
  kind: Schema.Literal("io.l5d.consul"),
  host: NonEmptyString.pipe(withDefault("localhost")),
  port: Port.pipe(withDefault(8500)),
  includeTag: Schema.Boolean.pipe(withDefault(false)),
  useHealthCheck: Schema.Boolean.pipe(withDefault(false)),
  healthStatuses: Schema.Array(Schema.Literals(["passing", "warning", "critical", "maintenance"])).pipe(
    withDefault(["passing"])
  ),
  token: Schema.optionalKey(Schema.String),
  setHost: Schema.Boolean.pipe(withDefault(false)),
  consistencyMode: Schema.Literals(["default", "stale", "consistent"]).pipe(withDefault("default")),
  failFast: Schema.Boolean.pipe(withDefault(false)),
  preferServiceAddress: Schema.Boolean.pipe(withDefault(true)),
  weights: Schema.optionalKey(Schema.Array(Schema.Struct({ tag: NonEmptyString, weight: Schema.Finite }))),
  fixedLengthStreamedAfterKB: PositiveInt.pipe(withDefault(5120)),
  transferMetadata: Schema.Boolean.pipe(withDefault(false)),
  tls: unsupported("consul TLS"),
  ...namerCommon
})

/**
 * `io.l5d.serversets`: ZooKeeper serversets; `zkAddrs: [{host, port}]` is required. Decoded, but not
 * available.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServersetsNamer = Schema.Struct({
  kind: Schema.Literal("io.l5d.serversets"),
  zkAddrs: Schema.Array(Schema.Struct({ host: NonEmptyString, port: Port.pipe(withDefault(2181)) })).check(
    Schema.isMinLength(1)
  ),
  ...namerCommon
})

/**
 * One entry of `namers`, discriminated by `kind`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Namer = Schema.Union([FsNamer, K8sNamer, ExperimentalK8sNamer, DnsSrvNamer, ConsulNamer, ServersetsNamer])

/**
 * A decoded namer entry.
 *
 * @since 0.1.0
 * @category model
 */
export type Namer = typeof Namer.Type

/**
 * The prefix a namer serves under `/#`: its `prefix`, or its kind (`/io.l5d.fs`).
 *
 * @since 0.1.0
 * @category model
 */
export const namerPrefix = (namer: Namer): Path.Path =>
  namer.prefix ?? Path.make(namer.kind === "io.l5d.experimental.k8s" ? "io.l5d.k8s" : namer.kind)

/**
 * Where a configured namer answers: under `/#/<prefix>` (linkerd 1.x), and at `/<prefix>` itself, the
 * linkerd 0.x form the seed talk's dtabs use (`/srv => /io.l5d.k8s/default/http`).
 *
 * @since 0.1.0
 * @category namers
 */
export const namerMounts = (namer: Namer): ReadonlyArray<Path.Path> => {
  const prefix = namerPrefix(namer)
  return [Path.concat(Path.make("#"), prefix), prefix]
}

// ---------------------------------------------------------------------------------------------
// identifiers
// ---------------------------------------------------------------------------------------------

const HeaderToken = Schema.Struct({
  kind: Schema.Literal("io.l5d.header.token"),
  header: NonEmptyString.pipe(withDefault("Host"))
})
const MethodAndHost = Schema.Struct({
  kind: Schema.Literal("io.l5d.methodAndHost"),
  httpUriInDst: Schema.Boolean.pipe(withDefault(false))
})
const PathIdentifier = Schema.Struct({
  kind: Schema.Literal("io.l5d.path"),
  segments: PositiveInt.pipe(withDefault(1)),
  consume: Schema.Boolean.pipe(withDefault(false))
})
const HeaderIdentifier = Schema.Struct({
  kind: Schema.Literal("io.l5d.header"),
  header: NonEmptyString.pipe(withDefault("l5d-name"))
})
const StaticIdentifier = Schema.Struct({ kind: Schema.Literal("io.l5d.static"), path: PathFromString })

/**
 * One HTTP identifier, discriminated by `kind`: `io.l5d.header.token` (`header`, default `Host`),
 * `io.l5d.methodAndHost` (`httpUriInDst`, default `false`), `io.l5d.path` (`segments` default `1`,
 * `consume` default `false`), `io.l5d.header` (`header`, default `l5d-name`), `io.l5d.static`
 * (`path`, required).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Identifier = Schema.Union([HeaderToken, MethodAndHost, PathIdentifier, HeaderIdentifier, StaticIdentifier])

/**
 * A decoded identifier (the same shape as the HTTP router's `Identifiers.Config`).
 *
 * @since 0.1.0
 * @category model
 */
export type Identifier = typeof Identifier.Type

// ---------------------------------------------------------------------------------------------
// client and service sections
// ---------------------------------------------------------------------------------------------

const clientOverrides = {
  loadBalancer: Schema.optionalKey(ClientConfig.LoadBalancer),
  failureAccrual: Schema.optionalKey(ClientConfig.FailureAccrual),
  requeueBudget: Schema.optionalKey(ClientConfig.Budget),
  requestAttemptTimeoutMs: Schema.optionalKey(ClientConfig.Millis({ positive: true })),
  failFast: unsupported("client.failFast"),
  hostConnectionPool: Schema.optionalKey(Schema.Struct({
    maxSize: Schema.optionalKey(PositiveInt),
    idleTimeMs: Schema.optionalKey(ClientConfig.Millis()),
    minSize: unsupported("hostConnectionPool.minSize"),
    maxWaiters: unsupported("hostConnectionPool.maxWaiters")
  })),
  tls: unsupported("client TLS"),
  socketOptions: unsupported("client.socketOptions"),
  clientSession: unsupported("client.clientSession"),
  forwardClientCert: unsupported("client.forwardClientCert")
}

const serviceOverrides = {
  totalTimeoutMs: Schema.optionalKey(ClientConfig.Millis({ positive: true })),
  retries: Schema.optionalKey(ClientConfig.Retries),
  responseClassifier: Schema.optionalKey(ClientConfig.ResponseClassifier)
}

/**
 * The client keys one static config (or the global section) sets; unset keys keep the defaults of
 * `config/Client.ts` or the value of an earlier matching config.
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
 * p2c, `failureAccrual` 5 consecutive failures, `requeueBudget`, `requestAttemptTimeoutMs` none),
 * plus `hostConnectionPool` (`maxSize` default unlimited, `idleTimeMs` default 60000).
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
// routers
// ---------------------------------------------------------------------------------------------

const forwardedKind = <K extends string>(kind: K) => Schema.Struct({ kind: Schema.Literal(kind) })

/**
 * One side (`by` or `for`) of `addForwardedHeader`, by kind: `ip`, `ip:port`, `connectionRandom`,
 * `requestRandom`, `router` (the router's label, obfuscated) or `static` (`label`, required: letters,
 * digits, `.`, `_` and `-`; `_` is put in front when it lacks one).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ForwardedLabeler = Schema.Union([
  forwardedKind("ip"),
  forwardedKind("ip:port"),
  forwardedKind("connectionRandom"),
  forwardedKind("requestRandom"),
  forwardedKind("router"),
  Schema.Struct({
    kind: Schema.Literal("static"),
    label: Schema.String.check(Schema.makeFilter((s: string) => Forwarded.labelProblem(s) ?? true))
  })
])

/**
 * `servers[].addForwardedHeader`: `by` and `for` labelers, each defaulting to `{kind: requestRandom}`
 * (see `ForwardedLabeler`). Absent or `null`: no `Forwarded` header is added.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AddForwardedHeader = Schema.Struct({
  by: ForwardedLabeler.pipe(withDefault({ kind: "requestRandom" })),
  for: ForwardedLabeler.pipe(withDefault({ kind: "requestRandom" }))
})

/**
 * One entry of a router's `servers`: `ip` (default `127.0.0.1`), `port` (default `4140` for http),
 * `clearContext` (default `false`), `maxConcurrentRequests` (default unlimited), `maxCallDepth`
 * (default `1000`), `timestampHeader` (default none: a header name, set on forwarded requests to the
 * time the request arrived in milliseconds since the epoch), `addForwardedHeader` (default none: see
 * `AddForwardedHeader`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Server = Schema.Struct({
  ip: Ip.pipe(withDefault("127.0.0.1")),
  port: Port.pipe(withDefault(4140)),
  clearContext: Schema.Boolean.pipe(withDefault(false)),
  maxConcurrentRequests: Schema.optionalKey(PositiveInt),
  maxCallDepth: PositiveInt.pipe(withDefault(1000)),
  timeoutMs: unsupported("servers[].timeoutMs"),
  label: unsupported("servers[].label"),
  tls: unsupported("server TLS"),
  socketOptions: unsupported("servers[].socketOptions"),
  announce: unsupported("announcing"),
  serverSession: unsupported("servers[].serverSession"),
  addForwardedHeader: Schema.optionalKey(Schema.NullOr(AddForwardedHeader)),
  timestampHeader: Schema.optionalKey(HeaderName)
})

/**
 * A decoded server entry.
 *
 * @since 0.1.0
 * @category model
 */
export type Server = typeof Server.Type

/**
 * `routers[].interpreter`, by kind: `default` (the configured namers, then `/$` system namers),
 * `io.l5d.namerd`, `io.l5d.namerd.http` (`dst`, `namespace` default `default`, `retry` with
 * `baseSeconds` 5 and `maxSeconds` 600; served by `src/namerd/HttpInterpreter.ts`), `io.l5d.mesh`,
 * `io.l5d.fs` (`dtabFile`). `default` and `io.l5d.namerd.http` are available in this version; the
 * others decode and are rejected when the proxy is built.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Interpreter = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("default"), transformers: unsupported("interpreter transformers") }),
  Schema.Struct({
    kind: Schema.Literals(["io.l5d.namerd", "io.l5d.namerd.http", "io.l5d.mesh"]),
    dst: PathFromString,
    namespace: Schema.optionalKey(NonEmptyString),
    root: Schema.optionalKey(PathFromString),
    experimental: Schema.optionalKey(Schema.Boolean),
    retry: Schema.optionalKey(Schema.Struct({
      baseSeconds: Schema.optionalKey(PositiveInt),
      maxSeconds: Schema.optionalKey(PositiveInt)
    })),
    transformers: unsupported("interpreter transformers"),
    tls: unsupported("interpreter TLS")
  }),
  Schema.Struct({
    kind: Schema.Literal("io.l5d.fs"),
    dtabFile: NonEmptyString,
    transformers: unsupported("interpreter transformers")
  })
])

/**
 * A decoded interpreter.
 *
 * @since 0.1.0
 * @category model
 */
export type Interpreter = typeof Interpreter.Type

const BindingCache = Schema.Struct({
  paths: PositiveInt.pipe(withDefault(1000)),
  trees: PositiveInt.pipe(withDefault(1000)),
  bounds: PositiveInt.pipe(withDefault(1000)),
  clients: PositiveInt.pipe(withDefault(1000)),
  idleTtlSecs: ClientConfig.Seconds(1, 86_400 * 365).pipe(withDefault(600))
})

/**
 * One entry of `routers`. Keys and defaults (linkerd's): `protocol` (required; only `http` runs),
 * `label` (default the protocol), `servers` (required, unless the older router-level `port` is
 * given), `dtab` (default empty; `baseDtab` is the older name), `identifier` (one or a list; default
 * `io.l5d.header.token` on `Host`), `dstPrefix` (default `/svc`). A router written in the older
 * shape (`baseDtab`) gets linkerd 0.x's defaults instead: `io.l5d.methodAndHost` and `/http`, so the
 * seed talk's `/http/1.1 => /method` dtabs route as they did. `bindingTimeoutMs` (default
 * `10000`), `bindingCache` (`paths`/`trees`/`bounds`/`clients` 1000, `idleTtlSecs` 600), `client`,
 * `service`, `interpreter` (default `{kind: default}`), `originator` (default `false`),
 * `experimental` (default `false`), HTTP limits `maxHeadersKB` (8), `maxInitialLineKB` (4),
 * `streamAfterContentLengthKB` (5), `maxErrResponseKB` (5120), `httpAccessLog` (default none: a file,
 * `/dev/stdout` and `/dev/stderr` included), `httpAccessLogAppend` (default `true`),
 * `httpAccessLogRollPolicy` (only `never`, the default) and `httpAccessLogRotateCount` (only `-1`,
 * the default): rotation is left to an external logrotate.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Router = Schema.Struct({
  protocol: Schema.Literals(["http", "h2", "thrift", "mux", "thriftmux"]),
  label: Schema.optionalKey(NonEmptyString),
  servers: Schema.optionalKey(Schema.Array(Server)),
  port: Schema.optionalKey(Port),
  ip: Schema.optionalKey(Ip),
  dtab: Schema.optionalKey(DtabFromString),
  baseDtab: Schema.optionalKey(DtabFromString),
  identifier: Schema.optionalKey(Schema.Union([Identifier, Schema.Array(Identifier)])),
  dstPrefix: Schema.optionalKey(PathFromString),
  bindingTimeoutMs: ClientConfig.Millis({ positive: true }).pipe(withDefault(10_000)),
  bindingCache: BindingCache.pipe(withDefault({})),
  client: Schema.optionalKey(ClientSection),
  service: Schema.optionalKey(ServiceSection),
  interpreter: Interpreter.pipe(withDefault({ kind: "default" as const })),
  originator: Schema.Boolean.pipe(withDefault(false)),
  experimental: Schema.Boolean.pipe(withDefault(false)),
  maxHeadersKB: PositiveInt.pipe(withDefault(8)),
  maxInitialLineKB: PositiveInt.pipe(withDefault(4)),
  streamAfterContentLengthKB: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(withDefault(5)),
  maxErrResponseKB: PositiveInt.pipe(withDefault(5120)),
  streamingEnabled: Schema.Boolean.pipe(withDefault(true)),
  announcers: unsupported("announcers"),
  httpAccessLog: Schema.optionalKey(NonEmptyString),
  httpAccessLogAppend: Schema.Boolean.pipe(withDefault(true)),
  httpAccessLogRollPolicy: onlyValue(
    Schema.String,
    "never",
    (v) => `${JSON.stringify(v)}: ${rotationUnsupported}`
  ).pipe(withDefault("never")),
  httpAccessLogRotateCount: onlyValue(Schema.Int, -1, (v) => `${v}: ${rotationUnsupported}`).pipe(withDefault(-1)),
  tracePropagator: unsupported("tracePropagator"),
  compressionLevel: unsupported("compressionLevel")
})

/**
 * A router entry as decoded (before normalization).
 *
 * @since 0.1.0
 * @category model
 */
export type RouterEntry = typeof Router.Type

// ---------------------------------------------------------------------------------------------
// telemetry, usage, top level
// ---------------------------------------------------------------------------------------------

/**
 * One entry of `telemetry`, by kind. `io.l5d.prometheus` (`path` default
 * `/admin/metrics/prometheus`, `prefix` default none) is available; `io.l5d.influxdb`,
 * `io.l5d.statsd`, `io.l5d.tracelog`, `io.l5d.recentRequests` and `io.l5d.zipkin` decode and are
 * rejected when the proxy is built.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Telemeter = Schema.Union([
  Schema.Struct({
    kind: Schema.Literal("io.l5d.prometheus"),
    path: NonEmptyString.check(Schema.isStartingWith("/")).pipe(withDefault("/admin/metrics/prometheus")),
    prefix: Schema.String.pipe(withDefault(""))
  }),
  Schema.Struct({ kind: Schema.Literal("io.l5d.influxdb") }),
  Schema.Struct({
    kind: Schema.Literal("io.l5d.statsd"),
    experimental: Schema.optionalKey(Schema.Boolean),
    prefix: Schema.optionalKey(Schema.String),
    hostname: Schema.optionalKey(NonEmptyString),
    port: Schema.optionalKey(Port),
    gaugeIntervalMs: Schema.optionalKey(ClientConfig.Millis({ positive: true })),
    sampleRate: Schema.optionalKey(Schema.Finite)
  }),
  Schema.Struct({
    kind: Schema.Literal("io.l5d.tracelog"),
    host: Schema.optionalKey(NonEmptyString),
    sampleRate: Schema.optionalKey(Schema.Finite),
    level: Schema.optionalKey(NonEmptyString)
  }),
  Schema.Struct({
    kind: Schema.Literal("io.l5d.recentRequests"),
    sampleRate: Schema.Finite,
    capacity: Schema.optionalKey(PositiveInt)
  }),
  Schema.Struct({
    kind: Schema.Literal("io.l5d.zipkin"),
    host: Schema.optionalKey(NonEmptyString),
    port: Schema.optionalKey(Port),
    sampleRate: Schema.optionalKey(Schema.Finite)
  })
])

/**
 * A decoded telemeter.
 *
 * @since 0.1.0
 * @category model
 */
export type Telemeter = typeof Telemeter.Type

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
 * The whole configuration file as decoded: `admin` (defaults), `namers` (default none), `routers`
 * (required, at least one), `telemetry` (default none), `usage`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigFile = Schema.Struct({
  admin: Admin.pipe(withDefault({})),
  namers: Schema.Array(Namer).pipe(withDefault([])),
  routers: Schema.Array(Router).check(Schema.isMinLength(1, { message: "at least one router is required" })),
  telemetry: Schema.Array(Telemeter).pipe(withDefault([])),
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
}

/**
 * The whole configuration, normalized.
 *
 * @since 0.1.0
 * @category model
 */
export interface Config {
  readonly admin: Admin
  readonly namers: ReadonlyArray<Namer>
  readonly routers: ReadonlyArray<RouterConfig>
  readonly telemetry: ReadonlyArray<Telemeter>
  readonly usage: typeof Usage.Type
}

/**
 * One problem in a config document: where and what.
 *
 * @since 0.1.0
 * @category errors
 */
export type Problem = ClientConfig.Problem

/**
 * The configuration is invalid; `problems` lists every problem found, each with its location.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigError extends Data.TaggedError("ConfigError")<{ readonly problems: ReadonlyArray<Problem> }> {
  override get message(): string {
    return ClientConfig.formatProblems(this.problems)
  }
}

/**
 * The parse options config decoding uses: unknown keys are errors, every problem is reported, and
 * issues keep their input (so an unknown `kind` can be named).
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseOptions: SchemaAST.ParseOptions = { ...ClientConfig.parseOptions, reportInput: true }

const kindOf = (member: SchemaAST.AST): { readonly literal: string; readonly optional: boolean } | undefined => {
  const ast = member._tag === "Objects" ? member : undefined
  const ps = ast?.propertySignatures.find((p) => p.name === "kind")
  if (ps === undefined) return undefined
  const optional = ps.type.context?.isOptional === true
  if (ps.type._tag === "Literal") return { literal: String(ps.type.literal), optional }
  return undefined
}

const narrow = (issue: SchemaIssue.AnyOf): ReadonlyArray<SchemaIssue.Issue> => {
  const input = issue.input
  if (issue.issues.length <= 1 || typeof input !== "object" || input === null) return issue.issues
  const kind = (input as { kind?: unknown }).kind
  const kinds = issue.ast.types.map(kindOf)
  const keep = issue.issues.filter((_, i) => {
    const k = kinds[i]
    if (k === undefined) return true
    return kind === undefined ? k.optional : k.literal === kind
  })
  return keep.length > 0 && issue.issues.length === issue.ast.types.length ? keep : issue.issues
}

const walk = (issue: SchemaIssue.Issue, path: ReadonlyArray<PropertyKey>, out: Array<Problem>): void => {
  if (issue._tag === "Pointer") return walk(issue.issue, [...path, ...issue.path], out)
  if (issue._tag === "Encoding") return walk(issue.issue, path, out)
  if (issue._tag === "Composite") {
    for (const i of issue.issues) walk(i, path, out)
    return
  }
  if (issue._tag === "AnyOf" && issue.issues.length > 0) {
    const kinds = issue.ast.types.map(kindOf)
    const input = issue.input
    const kind = typeof input === "object" && input !== null ? (input as { kind?: unknown }).kind : undefined
    if (kind !== undefined && kinds.every((k) => k !== undefined && k.literal !== kind)) {
      const expected = kinds.map((k) => k!.literal).join(", ")
      out.push({
        path: ClientConfig.formatPath([...path, "kind"]),
        message: `unknown kind ${JSON.stringify(kind)} (expected one of: ${expected})`
      })
      return
    }
    for (const i of narrow(issue)) walk(i, path, out)
    return
  }
  const last = path[path.length - 1]
  const secret = typeof last === "string" && secretKeys.has(last)
  for (const p of ClientConfig.problems(issue, path)) {
    out.push(secret ? { path: p.path, message: p.message.replace(/, got .*$/s, "") } : p)
  }
}

/**
 * Flattens a schema issue into problems with readable paths (`routers[0].client.loadBalancer.kind`).
 * For a union discriminated by `kind`, only the members with the given kind are reported; an unknown
 * kind is reported at its `kind` key with the kinds that would have been accepted.
 *
 * @since 0.1.0
 * @category errors
 */
export const problems = (issue: SchemaIssue.Issue): Array<Problem> => {
  const out: Array<Problem> = []
  walk(issue, [], out)
  return out
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
    servers = [Schema.decodeUnknownSync(Server)({ port: r.port, ...(r.ip !== undefined ? { ip: r.ip } : {}) })]
  } else {
    servers = []
    problems.push({ path: at("servers"), message: "missing required key (or the older router-level `port`)" })
  }
  if (r.servers !== undefined && r.servers.length === 0) {
    problems.push({ path: at("servers"), message: "at least one server is required" })
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
  if (r.dtab !== undefined && r.baseDtab !== undefined) {
    problems.push({ path: at("baseDtab"), message: "give either `dtab` or the older `baseDtab`, not both" })
  }
  const legacy = r.baseDtab !== undefined
  const identifiers = r.identifier === undefined
    ? legacy
      ? [{ kind: "io.l5d.methodAndHost" as const, httpUriInDst: false }]
      : [{ kind: "io.l5d.header.token" as const, header: "Host" }]
    : Array.isArray(r.identifier)
    ? r.identifier as ReadonlyArray<Identifier>
    : [r.identifier as Identifier]
  if (identifiers.length === 0) {
    problems.push({ path: at("identifier"), message: "at least one identifier is required" })
  }
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
    dtab: r.dtab ?? r.baseDtab ?? Dtab.empty,
    identifiers,
    dstPrefix: r.dstPrefix ?? Path.make(legacy ? "http" : "svc"),
    bindingTimeoutMs: r.bindingTimeoutMs,
    bindingCache: r.bindingCache,
    client: split<ClientParams>(r.client),
    service: split<ServiceParams>(r.service),
    interpreter: r.interpreter,
    originator: r.originator,
    experimental: r.experimental,
    maxHeadersKB: r.maxHeadersKB,
    maxInitialLineKB: r.maxInitialLineKB,
    streamAfterContentLengthKB: r.streamAfterContentLengthKB,
    maxErrResponseKB: r.maxErrResponseKB,
    streamingEnabled: r.streamingEnabled,
    ...(r.httpAccessLog !== undefined ? { httpAccessLog: r.httpAccessLog } : {}),
    httpAccessLogAppend: r.httpAccessLogAppend
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
  if (Result.isFailure(r)) return Result.fail(problems(r.failure.issue))
  const file = r.success
  const found: Array<Problem> = []
  const routers = file.routers.map((router, i) => normalizeRouter(router, i, found))
  file.namers.forEach((n, i) => {
    if (n.kind !== "io.l5d.dnssrv") return
    if (n.experimental !== true) {
      found.push({
        path: `namers[${i}].experimental`,
        message:
          "the namer io.l5d.dnssrv is experimental and must be explicitly enabled by setting `experimental: true`"
      })
    }
    n.dnsHosts.forEach((h, j) => {
      const problem = DnsSrv.dnsHostProblem(h)
      if (problem !== undefined) found.push({ path: `namers[${i}].dnsHosts[${j}]`, message: problem })
    })
  })
  if (found.length > 0) return Result.fail(found)
  return Result.succeed({
    admin: file.admin,
    namers: file.namers,
    routers,
    telemetry: file.telemetry,
    usage: file.usage
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
    doc = Yaml.parse(text)
  } catch (e) {
    return Result.fail([{ path: "", message: `invalid YAML: ${e instanceof Error ? e.message : String(e)}` }])
  }
  return decode(doc)
}

/**
 * Parses and decodes, failing with a `ConfigError` listing every problem.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseEffect = (text: string): Effect.Effect<Config, ConfigError> => {
  const r = parse(text)
  return Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(new ConfigError({ problems: r.failure }))
}

/**
 * The keys whose values are secrets: `/config.json` and logs show `<redacted>` instead.
 *
 * @since 0.1.0
 * @category constants
 */
export const secretKeys: ReadonlySet<string> = new Set(["token", "password", "auth", "authInfo", "clientAuth"])

/**
 * The normalized config as JSON for `/config.json`: durations in milliseconds, dtabs and paths in
 * their text form, secrets (see `secretKeys`) redacted.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toJson = (config: Config): unknown => {
  const convert = (v: unknown, key: string | undefined): unknown => {
    if (key !== undefined && secretKeys.has(key)) return "<redacted>"
    if (v === null || typeof v !== "object") return v
    if (Path.isPath(v)) return Path.show(v)
    if (Dtab.isDtab(v)) return Dtab.show(v)
    if (PathMatcher.isPathMatcher(v)) return v.pattern
    if (Duration.isDuration(v)) {
      return key !== undefined && (key.endsWith("Secs") || key === "window")
        ? Duration.toSeconds(v)
        : Duration.toMillis(v)
    }
    if (Array.isArray(v)) return v.map((x) => convert(x, undefined))
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) out[k] = convert(x, k)
    return out
  }
  return convert(config, undefined)
}

/**
 * The identifier configs in the HTTP router's terms.
 *
 * @since 0.1.0
 * @category model
 */
export const identifierConfigs = (router: RouterConfig): ReadonlyArray<Identifiers.Config> => router.identifiers
