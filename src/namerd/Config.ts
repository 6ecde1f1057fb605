/**
 * namerd's configuration file, linkerd 1.x namerd's: `admin`, `storage` (where the dtabs live),
 * `namers` (the same namer kinds as the proxy's, decoded by the proxy's schema) and `interfaces`
 * (how linkers and operators reach namerd). Unknown keys are errors; every problem has its location.
 *
 * ```yaml
 * admin: { ip: 127.0.0.1, port: 9991 }
 * storage:
 *   kind: io.l5d.etcd
 *   host: 127.0.0.1
 *   port: 2379
 * namers:
 * - kind: io.l5d.fs
 *   rootDir: disco
 * interfaces:
 * - kind: io.l5d.httpController
 *   port: 4180
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Yaml from "effect/encoding/Yaml"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as ClientConfig from "../config/Client.js"
import * as Problems from "../config/Problems.js"
import * as Schemas from "../config/Schemas.js"
import * as TlsConfig from "../config/Tls.js"
import * as ProxyConfig from "../proxy/Config.js"
import { isValidNamespace } from "./DtabStore.js"

const withDefault = <S extends Schema.Top>(value: S["Encoded"]) => (self: S) =>
  self.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

const Port = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 }))
const NonEmptyString = Schema.String.check(Schema.isMinLength(1))
const PathPrefix = NonEmptyString.check(
  Schema.makeFilter((s: string) =>
    (s.startsWith("/") && !s.endsWith("/") && !s.includes("//")) ||
    `invalid pathPrefix ${JSON.stringify(s)} (expected /a/b: a leading slash, no trailing or double slash)`
  )
)

/**
 * `admin`: `ip` (default `127.0.0.1`), `port` (default `9991`, namerd's), `shutdownGraceMs`
 * (default `10000`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Admin = Schema.Struct({
  ip: NonEmptyString.pipe(withDefault("127.0.0.1")),
  port: Port.pipe(withDefault(9991)),
  shutdownGraceMs: ClientConfig.Millis().pipe(withDefault(10_000))
})

/**
 * `io.l5d.inMemory`: `namespaces`, a map from namespace to dtab text (default none).
 *
 * @since 0.1.0
 * @category schemas
 */
export const InMemoryStorage = Schema.Struct({
  kind: Schema.Literal("io.l5d.inMemory"),
  namespaces: Schema.Record(Schema.String, Schemas.DtabFromString).pipe(withDefault({})),
  experimental: Schema.optionalKey(Schema.Boolean)
})

/**
 * `io.l5d.etcd`: `host` (default `localhost`), `port` (default `2379`), `pathPrefix` (default
 * `/namerd/dtabs`), linkerd's keys, served over etcd's v3 API (the v2 keys API linkerd used is gone
 * from current etcd): each namespace is the key `<pathPrefix>/<ns>`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EtcdStorage = Schema.Struct({
  kind: Schema.Literal("io.l5d.etcd"),
  host: NonEmptyString.pipe(withDefault("localhost")),
  port: Port.pipe(withDefault(2379)),
  pathPrefix: PathPrefix.pipe(withDefault("/namerd/dtabs")),
  experimental: Schema.optionalKey(Schema.Boolean),
  tls: Schemas.unsupported("etcd TLS")
})

/**
 * `io.l5d.zk`: `zkAddrs` (required, `[{host, port}]`, port default `2181`), `pathPrefix` (default
 * `/dtabs`), `sessionTimeoutMs` (default `10000`), `authInfo` (`{scheme, auth}`, e.g. `digest` and
 * `user:password`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ZkStorage = Schema.Struct({
  kind: Schema.Literal("io.l5d.zk"),
  zkAddrs: Schema.Array(Schema.Struct({ host: NonEmptyString, port: Port.pipe(withDefault(2181)) })).check(
    Schema.isMinLength(1)
  ),
  pathPrefix: PathPrefix.pipe(withDefault("/dtabs")),
  sessionTimeoutMs: ClientConfig.Millis({ positive: true }).pipe(withDefault(10_000)),
  authInfo: Schema.optionalKey(Schema.Struct({ scheme: NonEmptyString, auth: Schema.String })),
  experimental: Schema.optionalKey(Schema.Boolean)
})

/**
 * `io.l5d.k8s` (dtabs as `dtabs.l5d.io` custom resources, through `kubectl proxy`): `host`
 * (default `localhost`), `port` (default `8001`), `namespace` (default `default`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const K8sStorage = Schema.Struct({
  kind: Schema.Literal("io.l5d.k8s"),
  host: NonEmptyString.pipe(withDefault("localhost")),
  port: Port.pipe(withDefault(8001)),
  namespace: NonEmptyString.pipe(withDefault("default")),
  experimental: Schema.optionalKey(Schema.Boolean)
})

/**
 * `io.l5d.consul` (dtabs in Consul's KV store): `host` (default `localhost`), `port` (default
 * `8500`), `pathPrefix` (default `/namerd/dtabs`), `token`, `datacenter`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConsulStorage = Schema.Struct({
  kind: Schema.Literal("io.l5d.consul"),
  host: NonEmptyString.pipe(withDefault("localhost")),
  port: Port.pipe(withDefault(8500)),
  pathPrefix: PathPrefix.pipe(withDefault("/namerd/dtabs")),
  token: Schema.optionalKey(Schema.String),
  datacenter: Schema.optionalKey(NonEmptyString),
  experimental: Schema.optionalKey(Schema.Boolean)
})

/**
 * `storage`, by kind.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Storage = Schema.Union([InMemoryStorage, EtcdStorage, ZkStorage, K8sStorage, ConsulStorage])

/**
 * A decoded `storage`.
 *
 * @since 0.1.0
 * @category model
 */
export type Storage = typeof Storage.Type

const Capacity = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

/**
 * `io.l5d.thriftNameInterpreter` (namerd's Thrift `Namer` service): `ip` (default `127.0.0.1`),
 * `port` (default `4100`), `retryBaseSecs` (default `600`) and `retryJitterSecs` (default `60`),
 * sent as a failure's `retryInSeconds`, and `cache` (linkerd's keys: `bindingCacheActive` and
 * `addrCacheActive` default `1000`, `bindingCacheInactive` and `addrCacheInactive` default `100`,
 * `bindingCacheInactiveTTLSecs` and `addrCacheInactiveTTLSecs` default `600`), and an optional
 * server `tls` (framed Thrift over TLS; the proxy's `servers[].tls` keys).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ThriftInterface = Schema.Struct({
  kind: Schema.Literal("io.l5d.thriftNameInterpreter"),
  ip: NonEmptyString.pipe(withDefault("127.0.0.1")),
  port: Port.pipe(withDefault(4100)),
  retryBaseSecs: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(withDefault(600)),
  retryJitterSecs: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(withDefault(60)),
  cache: Schema.Struct({
    bindingCacheActive: Capacity.pipe(withDefault(1000)),
    bindingCacheInactive: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(withDefault(100)),
    bindingCacheInactiveTTLSecs: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(withDefault(600)),
    addrCacheActive: Capacity.pipe(withDefault(1000)),
    addrCacheInactive: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(withDefault(100)),
    addrCacheInactiveTTLSecs: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)).pipe(withDefault(600))
  }).pipe(withDefault({})),
  tls: Schema.optionalKey(TlsConfig.ServerTls)
})

/**
 * One entry of `interfaces`, by kind: `io.l5d.httpController` (`ip` default `127.0.0.1`, `port`
 * default `4180`), `io.l5d.mesh` (port `4321`) and `io.l5d.thriftNameInterpreter` (port `4100`,
 * see `ThriftInterface`), each with an optional server `tls` (the proxy's `servers[].tls` keys:
 * `certPath`, `keyPath`, `caCertPath`, `requireClientAuth`, …).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Interface = Schema.Union([
  Schema.Struct({
    kind: Schema.Literal("io.l5d.httpController"),
    ip: NonEmptyString.pipe(withDefault("127.0.0.1")),
    port: Port.pipe(withDefault(4180)),
    tls: Schema.optionalKey(TlsConfig.ServerTls)
  }),
  ThriftInterface,
  Schema.Struct({
    kind: Schema.Literal("io.l5d.mesh"),
    ip: NonEmptyString.pipe(withDefault("127.0.0.1")),
    port: Port.pipe(withDefault(4321)),
    tls: Schema.optionalKey(TlsConfig.ServerTls)
  })
])

/**
 * A decoded interface.
 *
 * @since 0.1.0
 * @category model
 */
export type Interface = typeof Interface.Type

/**
 * The whole namerd file: `admin` (defaults), `storage` (required), `namers` (default none),
 * `interfaces` (required, at least one).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConfigFile = Schema.Struct({
  admin: Admin.pipe(withDefault({})),
  storage: Storage,
  namers: Schema.Array(ProxyConfig.Namer).pipe(withDefault([])),
  interfaces: Schema.Array(Interface).check(Schema.isMinLength(1, { message: "at least one interface is required" }))
})

/**
 * A decoded namerd config.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof ConfigFile.Type

/**
 * The storage kinds this version can run.
 *
 * @since 0.1.0
 * @category constants
 */
export const availableStorage: { readonly [K in Storage["kind"]]: boolean } = {
  "io.l5d.inMemory": true,
  "io.l5d.etcd": true,
  "io.l5d.zk": true,
  "io.l5d.k8s": true,
  "io.l5d.consul": true
}

/**
 * The interface kinds this version can run.
 *
 * @since 0.1.0
 * @category constants
 */
export const availableInterfaces: { readonly [K in Interface["kind"]]: boolean } = {
  "io.l5d.httpController": true,
  "io.l5d.thriftNameInterpreter": true,
  "io.l5d.mesh": true
}

const available = (table: Readonly<Record<string, boolean>>): string =>
  Object.entries(table).filter(([, ok]) => ok).map(([k]) => k).join(", ")

/**
 * Problems decoding cannot see: kinds this version cannot run, namespaces that are not valid names.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (config: Config): Array<ProxyConfig.Problem> => {
  const problems: Array<ProxyConfig.Problem> = []
  if (!availableStorage[config.storage.kind]) {
    problems.push({
      path: "storage.kind",
      message: `storage kind ${config.storage.kind} is not available in this version of weir (available: ${
        available(availableStorage)
      })`
    })
  }
  if (config.storage.kind === "io.l5d.inMemory") {
    for (const ns of Object.keys(config.storage.namespaces)) {
      if (!isValidNamespace(ns)) {
        problems.push({
          path: `storage.namespaces.${ns}`,
          message: "a namespace is 1 to 256 letters, digits, '.', '_' or '-'"
        })
      }
    }
  }
  config.interfaces.forEach((iface, i) => {
    if (!availableInterfaces[iface.kind]) {
      problems.push({
        path: `interfaces[${i}].kind`,
        message: `interface kind ${iface.kind} is not available in this version of weir (available: ${
          available(availableInterfaces)
        })`
      })
    }
  })
  return problems
}

/**
 * Decodes a parsed document and validates it: the config, or every problem with its location.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (input: unknown): Result.Result<Config, Array<ProxyConfig.Problem>> => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return Result.fail([{ path: "", message: "the namerd config must be an object with `storage` and `interfaces`" }])
  }
  const r = Schema.decodeUnknownResult(ConfigFile)(input, ProxyConfig.parseOptions)
  if (Result.isFailure(r)) return Result.fail(Problems.problems(r.failure.issue))
  const problems = validate(r.success)
  return problems.length > 0 ? Result.fail(problems) : Result.succeed(r.success)
}

/**
 * Parses YAML (or JSON) and decodes it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parse = (text: string): Result.Result<Config, Array<ProxyConfig.Problem>> => {
  let doc: unknown
  try {
    doc = Yaml.parse(text)
  } catch (e) {
    return Result.fail([{ path: "", message: `invalid YAML: ${e instanceof Error ? e.message : String(e)}` }])
  }
  return decode(doc)
}
