/**
 * A retry budget as linkerd configures it (`client.requeueBudget`, `service.retries.budget`): no
 * `kind`, one shape. Decodes to the `RetryBudget.Options` the resilience core takes.
 *
 * ```yaml
 * requeueBudget: { ttlSecs: 10, minRetriesPerSec: 10, percentCanRetry: 0.2 }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import type * as RetryBudget from "../resilience/RetryBudget.js"
import { NonNegativeInt, Seconds, withDefault } from "./Schemas.js"

/**
 * `{ttlSecs, minRetriesPerSec, percentCanRetry}`: `ttlSecs` (whole seconds, 1 … 60) defaults to
 * `10`, `minRetriesPerSec` (`>= 0`) to `10`, `percentCanRetry` (0 … 1000, Finagle's bound) to `0.2`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  ttlSecs: Seconds(1, 60).pipe(withDefault(10)),
  minRetriesPerSec: NonNegativeInt.pipe(withDefault(10)),
  percentCanRetry: S.Finite.check(S.isBetween({ minimum: 0, maximum: 1000 })).pipe(withDefault(0.2))
})

/**
 * A decoded budget.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof Schema.Type

/**
 * The `RetryBudget` options of a decoded budget.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (config: Config): RetryBudget.Options => ({
  ttl: config.ttlSecs,
  minRetriesPerSec: config.minRetriesPerSec,
  percentCanRetry: config.percentCanRetry
})
