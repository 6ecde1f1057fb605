/**
 * The HTTP response classifier `io.l5d.http.allSuccessful` (older spelling `io.l5d.allSuccessful`):
 * every response is a success (an error is still a failure).
 * See `http/Classifiers.ts` for the classification itself.
 *
 * ```yaml
 * responseClassifier: { kind: io.l5d.http.allSuccessful }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import type * as Classifiers from "../../http/Classifiers.js"
import * as Plugin from "../Plugin.js"

/**
 * `{kind: io.l5d.http.allSuccessful}` (or `io.l5d.allSuccessful`): no other keys.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({ kind: S.Literals(["io.l5d.http.allSuccessful", "io.l5d.allSuccessful"]) })

/**
 * The plugin: the classifier kind `io.l5d.http.allSuccessful`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.http.allSuccessful" },
  make: (_config): Classifiers.Kind => "io.l5d.http.allSuccessful"
})
