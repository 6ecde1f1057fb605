/**
 * The HTTP response classifier `io.l5d.http.retryableIdempotent5XX` (older spelling
 * `io.l5d.retryableIdempotent5XX`): as `retryableRead5XX`, and PUT and DELETE are retried too.
 * See `http/Classifiers.ts` for the classification itself.
 *
 * ```yaml
 * responseClassifier: { kind: io.l5d.http.retryableIdempotent5XX }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import type * as Classifiers from "../../http/Classifiers.js"
import * as Plugin from "../Plugin.js"

/**
 * `{kind: io.l5d.http.retryableIdempotent5XX}` (or `io.l5d.retryableIdempotent5XX`): no other keys.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literals(["io.l5d.http.retryableIdempotent5XX", "io.l5d.retryableIdempotent5XX"])
})

/**
 * The plugin: the classifier kind `io.l5d.http.retryableIdempotent5XX`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.http.retryableIdempotent5XX" },
  make: (_config): Classifiers.Kind => "io.l5d.http.retryableIdempotent5XX"
})
