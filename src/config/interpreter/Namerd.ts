/**
 * The interpreter `io.l5d.namerd`: the router binds names through namerd's Thrift interface
 * (`io.l5d.thriftNameInterpreter`: `bind` and `addr` long polls), so the routing state lives in
 * namerd's store; the router keeps the last answers while namerd is unreachable and resumes the
 * polls when it returns (see `namers/namerd/ThriftInterpreter.ts`).
 *
 * ```yaml
 * interpreter:
 *   kind: io.l5d.namerd
 *   dst: /$/inet/127.0.0.1/4100     # required: where namerd's thriftNameInterpreter listens
 *   namespace: default              # the default
 *   retry: { baseSeconds: 5, maxSeconds: 600 }   # the defaults
 *   tls: { commonName: namerd.example.com, trustCerts: [ca.pem] }   # optional: Thrift over TLS
 * ```
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import * as Tls from "../../http/transport/Tls.js"
import * as NamerdHttp from "../../namers/namerd/HttpInterpreter.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, PathFromString, PositiveInt, unsupported, withDefault } from "../Schemas.js"
import * as TlsConfig from "../Tls.js"
import * as Transformers from "../transformer/index.js"
import type * as Interpreters from "./Default.js"

/**
 * `{kind: io.l5d.namerd, dst, namespace, retry, tls, root, experimental}`: `dst` (a path naming
 * namerd's address) is required; `namespace` defaults to `default`, `retry` to 5 s … 600 s
 * (`baseSeconds` at most `maxSeconds`); `tls` is a client `tls` section (`commonName`,
 * `trustCerts`, `trustCertsBundle`, `disableValidation`, `clientAuth`, and linkerd's own key for
 * this interpreter, `caCert`: one CA file, added to `trustCerts`) for framed Thrift over TLS to
 * namerd. `root` and `experimental` are accepted and have no effect; `transformers` rewrite the
 * addresses namerd returns, as on `default`; `failureThreshold` is not supported.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.namerd"),
  dst: PathFromString,
  namespace: NonEmptyString.pipe(withDefault("default")),
  root: S.optionalKey(PathFromString),
  experimental: S.optionalKey(S.Boolean),
  retry: S.Struct({
    baseSeconds: PositiveInt.pipe(withDefault(5)),
    maxSeconds: PositiveInt.pipe(withDefault(600))
  }).check(
    S.makeFilter((r) =>
      r.baseSeconds <= r.maxSeconds || `retry.baseSeconds (${r.baseSeconds}) exceeds maxSeconds (${r.maxSeconds})`
    )
  ).pipe(withDefault({})),
  transformers: Transformers.List,
  tls: S.optionalKey(S.Struct({ ...TlsConfig.ClientTls.fields, caCert: S.optionalKey(NonEmptyString) })),
  failureThreshold: unsupported("io.l5d.namerd failureThreshold")
})

/**
 * The plugin: a namerd Thrift interpreter, namerd's address bound through the router's own namers.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.namerd", dst: "/$/inet/127.0.0.1/4100" },
  make: (config): Interpreters.Make => (context) =>
    Effect.gen(function*() {
      const t = config.tls
      const tls = t === undefined ? undefined : yield* Tls.client({
        ...TlsConfig.clientOptions(t),
        trustCerts: t.caCert === undefined ? t.trustCerts : [...(t.trustCerts ?? []), t.caCert]
      })
      const addresses = yield* NamerdHttp.dstAddresses(context.base, config.dst)
      // loaded when the interpreter is built, not with the config: a proxy without one does not carry
      // the thrift library in its memory
      const NamerdThrift = yield* Effect.promise(() => import("../../namers/namerd/ThriftInterpreter.js"))
      return yield* NamerdThrift.make({
        addresses,
        namespace: config.namespace,
        retryBase: Duration.seconds(config.retry.baseSeconds),
        retryMax: Duration.seconds(config.retry.maxSeconds),
        stats: context.stats,
        openTls: tls === undefined
          ? undefined
          : (host, port) => Tls.open(tls.connect(config.tls?.commonName), host, port)
      })
    })
})
