/**
 * The `tls` sections of the proxy's config file (linkerd 1.x's keys): a server's (`servers[].tls`,
 * `admin.tls`) and a client's (a router's `client` section, global or per prefix). Paths only: the
 * files are read when the proxy starts and on `SIGHUP` (`http/transport/Tls.ts`); `keyPath` is a secret key
 * (never shown in problems or `/config.json`).
 *
 * ```yaml
 * servers:
 * - port: 4143
 *   tls: { certPath: /certs/weir.pem, keyPath: /certs/weir.key, caCertPath: /certs/ca.pem, requireClientAuth: true }
 * client:
 *   kind: io.l5d.static
 *   configs:
 *   - prefix: /#/io.l5d.fs/{service}
 *     tls: { commonName: "{service}.example.com", trustCerts: [/certs/ca.pem] }
 * ```
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Tls from "../http/transport/Tls.js"
import { NonEmptyString, unsupported, withDefault } from "./Schemas.js"

const Protocol = Schema.String.check(
  Schema.makeFilter((s: string) =>
    Tls.isProtocol(s) || `unknown TLS protocol ${JSON.stringify(s)} (expected TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)`
  )
)

/**
 * A server's `tls`: `certPath` and `keyPath` (required, PEM), `intermediateCertsPath` (PEM
 * certificates sent after `certPath`'s, the chain to the CA), `caCertPath` (the CA client
 * certificates must chain to), `requireClientAuth` (default `false`; needs `caCertPath`), `ciphers`
 * (OpenSSL names; default node's), `protocols` (e.g. `[TLSv1.2, TLSv1.3]`; default node's). ALPN
 * is not configured: an `h2` router's servers and clients offer `h2` by themselves, an `http`
 * router's none, so `alpnProtocols` is rejected as not supported.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServerTls = Schema.Struct({
  certPath: NonEmptyString,
  intermediateCertsPath: Schema.optionalKey(NonEmptyString),
  keyPath: NonEmptyString,
  caCertPath: Schema.optionalKey(NonEmptyString),
  requireClientAuth: Schema.Boolean.pipe(withDefault(false)),
  ciphers: Schema.optionalKey(Schema.Array(NonEmptyString).check(Schema.isMaxLength(200))),
  protocols: Schema.optionalKey(Schema.Array(Protocol).check(Schema.isMinLength(1), Schema.isMaxLength(4))),
  alpnProtocols: unsupported("tls.alpnProtocols (h2 routers offer ALPN h2 by themselves)")
}).check(
  Schema.makeFilter((t: { readonly requireClientAuth: boolean; readonly caCertPath?: string }) =>
    !t.requireClientAuth || t.caCertPath !== undefined ||
    { path: ["caCertPath"], issue: "requireClientAuth needs caCertPath (the CA client certificates must chain to)" }
  )
)

/**
 * A decoded server `tls` section.
 *
 * @since 0.1.0
 * @category model
 */
export type ServerTls = typeof ServerTls.Type

/**
 * A client's `tls`: `commonName` (the name the backend's certificate must carry, also sent as SNI;
 * `{var}` is replaced by the capture of the same name in the config's `prefix`), `trustCerts` (CA
 * files; default node's bundled CAs), `trustCertsBundle` (one file of CAs), `disableValidation`
 * (default `false`), `clientAuth` (`certPath`, `keyPath`: the certificate presented to backends;
 * `intermediateCertsPath`: its chain), `protocols` (e.g. `[TLSv1.2]`; default node's), `enabled`
 * (default `true`; `false` turns TLS off for the names this config matches, after an earlier config
 * turned it on, as linkerd's `enabled: false`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ClientTls = Schema.Struct({
  enabled: Schema.Boolean.pipe(withDefault(true)),
  commonName: Schema.optionalKey(NonEmptyString),
  trustCerts: Schema.optionalKey(Schema.Array(NonEmptyString).check(Schema.isMaxLength(100))),
  trustCertsBundle: Schema.optionalKey(NonEmptyString),
  disableValidation: Schema.Boolean.pipe(withDefault(false)),
  clientAuth: Schema.optionalKey(Schema.Struct({
    certPath: NonEmptyString,
    intermediateCertsPath: Schema.optionalKey(NonEmptyString),
    keyPath: NonEmptyString
  })),
  protocols: Schema.optionalKey(Schema.Array(Protocol).check(Schema.isMinLength(1), Schema.isMaxLength(4)))
})

/**
 * A decoded client `tls` section.
 *
 * @since 0.1.0
 * @category model
 */
export type ClientTls = typeof ClientTls.Type

/**
 * A server section in the transport's terms.
 *
 * @since 0.1.0
 * @category conversions
 */
export const serverOptions = (t: ServerTls): Tls.ServerOptions => ({
  certPath: t.certPath,
  intermediateCertsPath: t.intermediateCertsPath,
  keyPath: t.keyPath,
  caCertPath: t.caCertPath,
  requireClientAuth: t.requireClientAuth,
  ciphers: t.ciphers,
  protocols: t.protocols
})

/**
 * A client section in the transport's terms (`commonName` is substituted per client).
 *
 * @since 0.1.0
 * @category conversions
 */
export const clientOptions = (t: ClientTls): Tls.ClientOptions => ({
  commonName: t.commonName,
  trustCerts: t.trustCerts,
  trustCertsBundle: t.trustCertsBundle,
  disableValidation: t.disableValidation,
  clientAuth: t.clientAuth,
  protocols: t.protocols
})
