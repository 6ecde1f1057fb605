/**
 * The failure accrual kind `io.l5d.successRateWindowed`: an endpoint is marked dead when its success
 * rate over the last `window` seconds drops below `successRate`.
 *
 * ```yaml
 * failureAccrual:
 *   kind: io.l5d.successRateWindowed
 *   successRate: 0.9
 *   window: 30
 *   backoff: { kind: jittered, minMs: 10, maxMs: 1000 }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as FailureAccrual from "../../resilience/FailureAccrual.js"
import * as Plugin from "../Plugin.js"
import { Probability, Seconds } from "../Schemas.js"
import { backoff, backoffOf } from "./Backoff.js"

/**
 * `{kind: io.l5d.successRateWindowed, successRate, window, backoff}`: `successRate` (0 … 1) and
 * `window` (whole seconds, 1 … 86400, decoded to a `Duration`) are required.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.successRateWindowed"),
  successRate: Probability,
  window: Seconds(1, 86_400),
  backoff
})

/**
 * The plugin: `FailureAccrual.successRateWindowed`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.successRateWindowed", successRate: 0.9, window: 30 },
  make: (config): FailureAccrual.Policy =>
    FailureAccrual.successRateWindowed(config.successRate, config.window, { backoff: backoffOf(config.backoff) })
})
