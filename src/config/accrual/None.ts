/**
 * The failure accrual kind `none`: endpoints are never marked dead.
 *
 * ```yaml
 * failureAccrual: { kind: none }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as FailureAccrual from "../../resilience/FailureAccrual.js"
import * as Plugin from "../Plugin.js"

/**
 * `{kind: none}`: no other keys.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({ kind: S.Literal("none") })

/**
 * The plugin: `FailureAccrual.none`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "none" },
  make: (_config): FailureAccrual.Policy => FailureAccrual.none
})
