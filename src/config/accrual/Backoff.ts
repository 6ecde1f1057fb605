/**
 * The `backoff` key every failure accrual kind shares: how long an endpoint marked dead waits
 * before it is probed. Absent: linkerd's equal-jittered 5 s … 300 s (`FailureAccrual.defaultBackoff`).
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import type * as Backoff from "../../resilience/Backoff.js"
import * as FailureAccrual from "../../resilience/FailureAccrual.js"
import * as Backoffs from "../backoff/index.js"

/**
 * `backoff`: a backoff object (`constant`, `jittered`), optional.
 *
 * @since 0.1.0
 * @category fields
 */
export const backoff = S.optionalKey(Backoffs.registry.schema)

/**
 * The backoff of a decoded `backoff` key, or the default.
 *
 * @since 0.1.0
 * @category constructors
 */
export const backoffOf = (config: Backoffs.Config | undefined): Backoff.Backoff =>
  config === undefined ? FailureAccrual.defaultBackoff : Backoffs.registry.make(config)
