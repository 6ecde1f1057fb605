/**
 * The balancer `ewma`: power of two choices over peak EWMA latency × outstanding requests. Built
 * with `loadbalancer/P2CEwma.ts`.
 *
 * ```yaml
 * loadBalancer: { kind: ewma, maxEffort: 5, decayTimeMs: 10000 }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import type * as Balancer from "../../loadbalancer/Balancer.js"
import * as P2CEwma from "../../loadbalancer/P2CEwma.js"
import * as Plugin from "../Plugin.js"
import { Millis, withDefault } from "../Schemas.js"
import { enableProbation, maxEffort } from "./Fields.js"

/**
 * `{kind: ewma, maxEffort, decayTimeMs, enableProbation}`: `maxEffort` defaults to `5`,
 * `decayTimeMs` (`> 0`) to `10000`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("ewma"),
  maxEffort,
  decayTimeMs: Millis({ positive: true }).pipe(withDefault(10_000)),
  enableProbation
})

/**
 * The plugin: `P2CEwma.factory`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "ewma" },
  make: (config): Balancer.Factory => P2CEwma.factory({ maxEffort: config.maxEffort, decayTime: config.decayTimeMs })
})
