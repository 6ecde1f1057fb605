/**
 * The HTTP response classifier `io.l5d.http.retryableAll5XX` (older spelling
 * `io.l5d.retryableAll5XX`): a 5XX response, a timeout or a connection failure is a failure,
 * retried whatever the method.
 * See `http/Classifiers.ts` for the classification itself.
 *
 * ```yaml
 * responseClassifier: { kind: io.l5d.http.retryableAll5XX }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import type * as Classifiers from "../../http/Classifiers.js"
import * as Plugin from "../Plugin.js"

/**
 * `{kind: io.l5d.http.retryableAll5XX}` (or `io.l5d.retryableAll5XX`): no other keys.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({ kind: S.Literals(["io.l5d.http.retryableAll5XX", "io.l5d.retryableAll5XX"]) })

/**
 * The plugin: the classifier kind `io.l5d.http.retryableAll5XX`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.http.retryableAll5XX" },
  make: (_config): Classifiers.Kind => "io.l5d.http.retryableAll5XX"
})
