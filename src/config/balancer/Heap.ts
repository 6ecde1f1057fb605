/**
 * The balancer `heap`: the least loaded node from a min-heap of outstanding requests. linkerd's heap
 * takes no `maxEffort` (its pick already falls back to a down node). Built with
 * `loadbalancer/Heap.ts`.
 *
 * ```yaml
 * loadBalancer: { kind: heap }
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import type * as Balancer from "../../loadbalancer/Balancer.js"
import * as Heap from "../../loadbalancer/Heap.js"
import * as Plugin from "../Plugin.js"
import { enableProbation } from "./Fields.js"

/**
 * `{kind: heap, enableProbation}`: no other keys.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({ kind: S.Literal("heap"), enableProbation })

/**
 * The plugin: `Heap.factory()`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "heap" },
  make: (_config): Balancer.Factory => Heap.factory()
})
