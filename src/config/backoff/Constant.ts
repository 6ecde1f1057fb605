/**
 * The backoff `constant`: the same delay before every retry (or every probe, for failure accrual).
 *
 * ```yaml
 * backoff: { kind: constant, ms: 10000 }   # ms defaults to 0
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Backoff from "../../resilience/Backoff.js"
import * as Plugin from "../Plugin.js"
import { Millis, withDefault } from "../Schemas.js"

/**
 * `{kind: constant, ms}`: `ms` (`>= 0`) defaults to `0`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("constant"),
  ms: Millis().pipe(withDefault(0))
})

/**
 * The plugin: `Backoff.constant(ms)`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "constant" },
  make: (config): Backoff.Backoff => Backoff.constant(config.ms)
})
