/**
 * The failure accrual family (`client.failureAccrual`): `io.l5d.consecutiveFailures` (the default,
 * 5 failures), `io.l5d.successRate`, `io.l5d.successRateWindowed`, `none`. Each kind is one file next
 * to this one exporting its `Schema` and its `plugin` (which builds a `FailureAccrual.Policy`).
 *
 * @since 0.1.0
 */
import * as Plugin from "../Plugin.js"
import * as ConsecutiveFailures from "./ConsecutiveFailures.js"
import * as None from "./None.js"
import * as SuccessRate from "./SuccessRate.js"
import * as SuccessRateWindowed from "./SuccessRateWindowed.js"

/**
 * The failure accrual registry: `schema` decodes a `failureAccrual` object, `make` builds the
 * `FailureAccrual.Policy`.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = Plugin.registry("failure accrual", [
  ConsecutiveFailures.plugin,
  SuccessRate.plugin,
  SuccessRateWindowed.plugin,
  None.plugin
])

/**
 * A decoded `failureAccrual`.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof registry.schema.Type
