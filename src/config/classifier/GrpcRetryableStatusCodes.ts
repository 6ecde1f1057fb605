/**
 * The h2 response classifier `io.l5d.h2.grpc.retryableStatusCodes`: a gRPC status other than the success codes is a failure, retried when it is in `retryableStatusCodes`.
 * See `http/h2/Classifiers.ts` for the classification itself.
 *
 * ```yaml
 * responseClassifier: { kind: io.l5d.h2.grpc.retryableStatusCodes, retryableStatusCodes: [14, 8] }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import type * as H2Classifiers from "../../http/h2/Classifiers.js"
import * as Plugin from "../Plugin.js"

const StatusCodes = S.Array(S.Int.check(S.isGreaterThanOrEqualTo(0), S.isLessThanOrEqualTo(999)))

/**
 * `{kind: io.l5d.h2.grpc.retryableStatusCodes}`: `retryableStatusCodes` (required), `successStatusCodes` (default `[0]`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.h2.grpc.retryableStatusCodes"),
  retryableStatusCodes: StatusCodes,
  successStatusCodes: S.optionalKey(StatusCodes)
})

/**
 * The plugin: the h2 classifier `io.l5d.h2.grpc.retryableStatusCodes`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.h2.grpc.retryableStatusCodes", retryableStatusCodes: [14] },
  make: (config): H2Classifiers.Config => config
})
