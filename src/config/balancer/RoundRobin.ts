/**
 * The balancer `roundRobin`: nodes in turn, skipping unavailable ones for up to `maxEffort` picks.
 * Built with `loadbalancer/RoundRobin.ts`.
 *
 * ```yaml
 * loadBalancer: { kind: roundRobin, maxEffort: 5 }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import type * as Balancer from "../../loadbalancer/Balancer.js"
import * as RoundRobin from "../../loadbalancer/RoundRobin.js"
import * as Plugin from "../Plugin.js"
import { enableProbation, maxEffort } from "./Fields.js"

/**
 * `{kind: roundRobin, maxEffort, enableProbation}`: `maxEffort` defaults to `5`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({ kind: S.Literal("roundRobin"), maxEffort, enableProbation })

/**
 * The plugin: `RoundRobin.factory`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "roundRobin" },
  make: (config): Balancer.Factory => RoundRobin.factory({ maxEffort: config.maxEffort })
})
