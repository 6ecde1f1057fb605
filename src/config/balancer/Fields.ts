/**
 * The keys every linkerd balancer kind shares (`heap` has no `maxEffort`).
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import { NonNegativeInt, withDefault } from "../Schemas.js"

/**
 * `maxEffort`: picks tried for an available node before sending anyway. Defaults to `5`.
 *
 * @since 0.1.0
 * @category fields
 */
export const maxEffort = NonNegativeInt.pipe(withDefault(5))

/**
 * `enableProbation`: accepted for linkerd compatibility (default `false`); weir removes endpoints a
 * namer removes at once.
 *
 * @since 0.1.0
 * @category fields
 */
export const enableProbation = S.Boolean.pipe(withDefault(false))
