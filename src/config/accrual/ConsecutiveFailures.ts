/**
 * The failure accrual kind `io.l5d.consecutiveFailures` (linkerd's default, with 5 failures): an
 * endpoint is marked dead after `failures` failures in a row, and probed again after `backoff`.
 *
 * ```yaml
 * failureAccrual:
 *   kind: io.l5d.consecutiveFailures
 *   failures: 5
 *   backoff: { kind: jittered, minMs: 5000, maxMs: 300000 }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as FailureAccrual from "../../resilience/FailureAccrual.js"
import * as Plugin from "../Plugin.js"
import { PositiveInt, withDefault } from "../Schemas.js"
import { backoff, backoffOf } from "./Backoff.js"

/**
 * `{kind: io.l5d.consecutiveFailures, failures, backoff}`: `failures` (`>= 1`) defaults to `5`,
 * `backoff` to equal jitter 5 s … 300 s.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.consecutiveFailures"),
  failures: PositiveInt.pipe(withDefault(5)),
  backoff
})

/**
 * The plugin: `FailureAccrual.consecutiveFailures`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.consecutiveFailures" },
  make: (config): FailureAccrual.Policy =>
    FailureAccrual.consecutiveFailures({ failures: config.failures, backoff: backoffOf(config.backoff) })
})
