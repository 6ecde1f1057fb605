/**
 * The balancer family (`client.loadBalancer`): `p2c` (the default), `ewma`, `aperture`, `heap`,
 * `roundRobin`. Each kind is one file next to this one exporting its `Schema` and its `plugin`
 * (which builds a `Balancer.Factory`); the registry lists them.
 *
 * @since 0.1.0
 */
import * as Plugin from "../Plugin.js"
import * as Aperture from "./Aperture.js"
import * as Ewma from "./Ewma.js"
import * as Heap from "./Heap.js"
import * as P2C from "./P2C.js"
import * as RoundRobin from "./RoundRobin.js"

/**
 * The balancer registry: `schema` decodes a `loadBalancer` object, `make` builds the
 * `Balancer.Factory`.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = Plugin.registry("balancer", [
  P2C.plugin,
  Ewma.plugin,
  Aperture.plugin,
  Heap.plugin,
  RoundRobin.plugin
])

/**
 * A decoded `loadBalancer`.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof registry.schema.Type
