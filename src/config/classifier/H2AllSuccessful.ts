/**
 * The h2 response classifier `io.l5d.h2.allSuccessful`: every response is a success (an error is still a failure).
 * See `http/h2/Classifiers.ts` for the classification itself.
 *
 * ```yaml
 * responseClassifier: { kind: io.l5d.h2.allSuccessful }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import type * as H2Classifiers from "../../http/h2/Classifiers.js"
import * as Plugin from "../Plugin.js"

/**
 * `{kind: io.l5d.h2.allSuccessful}`: no other keys.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.h2.allSuccessful")
})

/**
 * The plugin: the h2 classifier `io.l5d.h2.allSuccessful`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.h2.allSuccessful" },
  make: (config): H2Classifiers.Config => config
})
