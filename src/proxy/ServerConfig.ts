/**
 * A router's `servers[]` entries in the proxy's config file: where a router listens and what it
 * adds to the requests it forwards (`timestampHeader`, `addForwardedHeader`). Keys and defaults are
 * linkerd's; the keys linkerd documents that weir does not implement (`serverSession`, …) are
 * rejected as not supported.
 *
 * ```yaml
 * servers:
 * - ip: 0.0.0.0
 *   port: 4140
 *   addForwardedHeader: { by: { kind: router }, for: { kind: ip } }
 * ```
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as H2Settings from "../config/H2Settings.js"
import { NonEmptyString, PathFromString, Port, PositiveInt, unsupported, withDefault } from "../config/Schemas.js"
import * as SocketOptions from "../config/SocketOptions.js"
import * as TlsConfig from "../config/Tls.js"
import * as Forwarded from "../http/Forwarded.js"

const Ip = NonEmptyString

/** A header name: one or more token characters (RFC 9110). */
const HeaderName = Schema.String.check(
  Schema.makeFilter((s: string) =>
    /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(s) || `invalid header name ${JSON.stringify(s)} (expected token characters)`
  )
)

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
 * `AddForwardedHeader`), `socketOptions` (default none: see `config/SocketOptions.ts`), `tls`
 * (default none: plaintext; see `config/Tls.ServerTls`).
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
  tls: Schema.optionalKey(TlsConfig.ServerTls),
  socketOptions: Schema.optionalKey(SocketOptions.Section),
  announce: Schema.optionalKey(Schema.Array(PathFromString)),
  serverSession: unsupported("servers[].serverSession"),
  addForwardedHeader: Schema.optionalKey(Schema.NullOr(AddForwardedHeader)),
  timestampHeader: Schema.optionalKey(HeaderName),
  ...H2Settings.serverFields
})

/**
 * A decoded server entry.
 *
 * @since 0.1.0
 * @category model
 */
export type Server = typeof Server.Type
