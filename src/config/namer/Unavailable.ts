/**
 * Namer kinds linkerd has and this version of weir does not run, with the keys linkerd documents
 * for them: a config naming one is decoded (its keys checked) and rejected with `namer kind … is not
 * available in this version of weir`. To make one available, give it its own file with a `Schema`
 * and a `plugin` (see `Fs.ts`) and move it from this list to the registry's plugins.
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, PathFromString, Port, PositiveInt, unsupported, withDefault } from "../Schemas.js"

const common = {
  prefix: S.optionalKey(PathFromString),
  experimental: S.optionalKey(S.Boolean),
  transformers: S.optionalKey(S.Unknown)
}

/**
 * `io.l5d.consul`: `host` (default `localhost`), `port` (default `8500`), `includeTag`,
 * `useHealthCheck`, `healthStatuses` (default `[passing]`), `token`, `setHost`, `consistencyMode`,
 * `failFast`, `preferServiceAddress` (default `true`), `weights`, `fixedLengthStreamedAfterKB`,
 * `transferMetadata`.
 *
 * @since 0.1.0
 * @category unavailable
 */
export const consul = Plugin.unavailable("io.l5d.consul", {
  host: S.optionalKey(NonEmptyString),
  port: S.optionalKey(Port),
  includeTag: S.optionalKey(S.Boolean),
  useHealthCheck: S.optionalKey(S.Boolean),
  healthStatuses: S.optionalKey(S.Array(S.Literals(["passing", "warning", "critical", "maintenance"]))),
  token: S.optionalKey(S.String),
  setHost: S.optionalKey(S.Boolean),
  consistencyMode: S.optionalKey(S.Literals(["default", "stale", "consistent"])),
  failFast: S.optionalKey(S.Boolean),
  preferServiceAddress: S.optionalKey(S.Boolean),
  weights: S.optionalKey(S.Array(S.Struct({ tag: NonEmptyString, weight: S.Finite }))),
  fixedLengthStreamedAfterKB: S.optionalKey(PositiveInt),
  transferMetadata: S.optionalKey(S.Boolean),
  tls: unsupported("consul TLS"),
  ...common
})

/**
 * `io.l5d.serversets`: ZooKeeper serversets; `zkAddrs: [{host, port}]` (port default `2181`) is
 * required.
 *
 * @since 0.1.0
 * @category unavailable
 */
export const serversets = Plugin.unavailable("io.l5d.serversets", {
  zkAddrs: S.Array(S.Struct({ host: NonEmptyString, port: Port.pipe(withDefault(2181)) })).check(S.isMinLength(1)),
  ...common
})

/**
 * Every unavailable namer kind.
 *
 * @since 0.1.0
 * @category unavailable
 */
export const all: ReadonlyArray<Plugin.Unavailable> = [consul, serversets]
