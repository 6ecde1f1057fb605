/**
 * The failure accrual kind `io.l5d.successRate`: an endpoint is marked dead when its success rate,
 * an exponentially weighted average over about the last `requests` requests, drops below
 * `successRate`.
 *
 * ```yaml
 * failureAccrual:
 *   kind: io.l5d.successRate
 *   successRate: 0.9
 *   requests: 20
 *   backoff: { kind: constant, ms: 10000 }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as FailureAccrual from "../../resilience/FailureAccrual.js"
import * as Plugin from "../Plugin.js"
import { PositiveInt, Probability } from "../Schemas.js"
import { backoff, backoffOf } from "./Backoff.js"

/**
 * `{kind: io.l5d.successRate, successRate, requests, backoff}`: `successRate` (0 … 1) and `requests`
 * (`>= 1`) are required.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.successRate"),
  successRate: Probability,
  requests: PositiveInt,
  backoff
})

/**
 * The plugin: `FailureAccrual.successRate`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.successRate", successRate: 0.9, requests: 20 },
  make: (config): FailureAccrual.Policy =>
    FailureAccrual.successRate(config.successRate, config.requests, { backoff: backoffOf(config.backoff) })
})
