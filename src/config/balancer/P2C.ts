/**
 * The balancer `p2c` (the default): power of two choices, the less loaded of two random nodes
 * (outstanding requests). Built with `loadbalancer/P2C.ts`.
 *
 * ```yaml
 * loadBalancer: { kind: p2c, maxEffort: 5 }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import type * as Balancer from "../../loadbalancer/Balancer.js"
import * as P2C from "../../loadbalancer/P2C.js"
import * as Plugin from "../Plugin.js"
import { enableProbation, maxEffort } from "./Fields.js"

/**
 * `{kind: p2c, maxEffort, enableProbation}`: `maxEffort` defaults to `5`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({ kind: S.Literal("p2c"), maxEffort, enableProbation })

/**
 * The plugin: `P2C.factory`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "p2c" },
  make: (config): Balancer.Factory => P2C.factory({ maxEffort: config.maxEffort })
})
