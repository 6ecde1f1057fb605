/**
 * The interpreter `io.l5d.namerd.http`: the router binds names through a namerd's HTTP API
 * (`/api/1/bind` and `/api/1/addr` watches), so the routing state lives in namerd's store; the
 * router keeps the last answers while namerd is unreachable and resumes the watches when it
 * returns (see `namers/namerd/HttpInterpreter.ts`).
 *
 * ```yaml
 * interpreter:
 *   kind: io.l5d.namerd.http
 *   dst: /$/inet/127.0.0.1/4180     # required: where namerd's httpController listens
 *   namespace: default              # the default
 *   retry: { baseSeconds: 5, maxSeconds: 600 }   # the defaults
 *   tls: { commonName: namerd.example.com, trustCerts: [ca.pem] }   # optional: HTTPS to namerd
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
import { NonEmptyString, PathFromString, PositiveInt, withDefault } from "../Schemas.js"
import * as TlsConfig from "../Tls.js"
import * as Transformers from "../transformer/index.js"
import type * as Interpreters from "./Default.js"

/**
 * `{kind: io.l5d.namerd.http, dst, namespace, retry, tls, root, experimental}`: `dst` (a path
 * naming namerd's address) is required; `namespace` defaults to `default`, `retry` to 5 s … 600 s;
 * `tls` is a client `tls` section (`commonName`, `trustCerts`, `trustCertsBundle`,
 * `disableValidation`, `clientAuth`) for HTTPS to namerd. `root` and `experimental` are accepted and
 * have no effect; `transformers` rewrite the addresses namerd returns, as on `default`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.namerd.http"),
  dst: PathFromString,
  namespace: NonEmptyString.pipe(withDefault("default")),
  root: S.optionalKey(PathFromString),
  experimental: S.optionalKey(S.Boolean),
  retry: S.Struct({
    baseSeconds: PositiveInt.pipe(withDefault(5)),
    maxSeconds: PositiveInt.pipe(withDefault(600))
  }).pipe(withDefault({})),
  transformers: Transformers.List,
  tls: S.optionalKey(TlsConfig.ClientTls)
})

/**
 * The plugin: a namerd HTTP interpreter, namerd's address bound through the router's own namers.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.namerd.http", dst: "/$/inet/127.0.0.1/4180" },
  make: (config): Interpreters.Make => (context) =>
    Effect.gen(function*() {
      const tls = config.tls === undefined ? undefined : yield* Tls.client(TlsConfig.clientOptions(config.tls))
      const addresses = yield* NamerdHttp.dstAddresses(context.base, config.dst)
      return yield* NamerdHttp.make({
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
