/**
 * The interpreter `io.l5d.mesh`: the router binds names through namerd's gRPC mesh API
 * (`StreamBoundTree` and `StreamReplicas` over one HTTP/2 connection), so the routing state lives
 * in namerd's store; the router keeps the last answers while namerd is unreachable and makes the
 * calls again when it returns (see `namers/namerd/MeshInterpreter.ts`).
 *
 * ```yaml
 * interpreter:
 *   kind: io.l5d.mesh
 *   dst: /$/inet/127.0.0.1/4321     # required: where namerd's io.l5d.mesh interface listens
 *   root: /default                  # the default: the namespace, as a one-element path
 *   retry: { baseSeconds: 1, maxSeconds: 600 }   # the defaults
 *   tls: { commonName: namerd.example.com, trustCerts: [ca.pem] }
 * ```
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import * as Tls from "../../http/transport/Tls.js"
import * as NamerdHttp from "../../namers/namerd/HttpInterpreter.js"
import * as MeshInterpreter from "../../namers/namerd/MeshInterpreter.js"
import type * as Path from "../../naming/Path.js"
import * as Plugin from "../Plugin.js"
import { Millis, PathFromString, PositiveInt, withDefault } from "../Schemas.js"
import * as TlsConfig from "../Tls.js"
import * as Transformers from "../transformer/index.js"
import type * as Interpreters from "./Default.js"

const Root = PathFromString.check(
  S.makeFilter((p: Path.Path) =>
    (p.labels.length === 1 && /^[A-Za-z0-9._-]{1,256}$/.test(p.labels[0]!)) ||
    "`root` must be one namespace, a single path element like /default"
  )
)

/**
 * `{kind: io.l5d.mesh, dst, root, retry, tls, initialStreamWindowSizeKB, failureThreshold,
 * experimental}`: `dst` (a path naming namerd's mesh address) is required; `root` defaults to
 * `/default`, `retry` to 1 s … 600 s (linkerd's), `initialStreamWindowSizeKB` to node's HTTP/2
 * window (64 KiB); `tls` is a client `tls` section (`commonName`, `trustCerts`, `trustCertsBundle`,
 * `disableValidation`, `clientAuth`); `failureThreshold` (`minPeriodMs` default 5000,
 * `closeTimeoutMs` default 6000, linkerd's) pings the connection and closes it when a ping goes
 * unanswered; without it only a connection that closes is noticed. `experimental` is accepted and
 * has no effect; `transformers` rewrite the addresses namerd returns, as on `default`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.mesh"),
  dst: PathFromString,
  root: Root.pipe(withDefault("/default")),
  experimental: S.optionalKey(S.Boolean),
  retry: S.Struct({
    baseSeconds: PositiveInt.pipe(withDefault(1)),
    maxSeconds: PositiveInt.pipe(withDefault(600))
  }).pipe(withDefault({})),
  tls: S.optionalKey(TlsConfig.ClientTls),
  initialStreamWindowSizeKB: S.optionalKey(PositiveInt.check(S.isLessThanOrEqualTo(2_097_151))),
  failureThreshold: S.optionalKey(S.Struct({
    minPeriodMs: Millis({ positive: true }).pipe(withDefault(5000)),
    closeTimeoutMs: Millis({ positive: true }).pipe(withDefault(6000))
  })),
  transformers: Transformers.List
})

/**
 * The plugin: a mesh interpreter, namerd's address bound through the router's own namers.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.mesh", dst: "/$/inet/127.0.0.1/4321" },
  make: (config): Interpreters.Make => (context) =>
    Effect.gen(function*() {
      const tls = config.tls === undefined ? undefined : yield* Tls.client(TlsConfig.clientOptions(config.tls))
      const addresses = yield* NamerdHttp.dstAddresses(context.base, config.dst)
      return yield* MeshInterpreter.make({
        addresses,
        root: config.root,
        retryBase: Duration.seconds(config.retry.baseSeconds),
        retryMax: Duration.seconds(config.retry.maxSeconds),
        stats: context.stats,
        openTls: tls === undefined
          ? undefined
          : (host, port) => Tls.open(tls.connect(config.tls?.commonName), host, port, ["h2"]),
        initialWindowSize: config.initialStreamWindowSizeKB === undefined
          ? undefined
          : config.initialStreamWindowSizeKB * 1024,
        failureDetector: config.failureThreshold === undefined ? undefined : {
          minPeriod: config.failureThreshold.minPeriodMs,
          closeTimeout: config.failureThreshold.closeTimeoutMs
        }
      })
    })
})
