/**
 * The backoff family (`failureAccrual.backoff`, `retries.backoff`): `constant` and `jittered`.
 * Each kind is one file next to this one exporting its `Schema` and its `plugin`; the registry
 * lists them.
 *
 * @since 0.1.0
 */
import * as Plugin from "../Plugin.js"
import * as Constant from "./Constant.js"
import * as Jittered from "./Jittered.js"

/**
 * The backoff registry: `schema` decodes a backoff object, `make` builds the `Backoff.Backoff`.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = Plugin.registry("backoff", [Constant.plugin, Jittered.plugin])

/**
 * A decoded backoff.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof registry.schema.Type
