/**
 * What every transformer kind shares: the optional `prefix` (where its transformed ids live under
 * `/%`; each kind has its default), and the shape of a transformer being built. The small schemas
 * the transformer kinds need are here too.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Transformer from "../../naming/transformers/Transformer.js"
import * as Schemas from "../Schemas.js"

/**
 * A transformer being built: a failure says why, in its `message`.
 *
 * @since 0.1.0
 * @category model
 */
export type Build = Effect.Effect<Transformer.Transformer, { readonly message: string }, Scope.Scope>

/**
 * A TCP port, `0` … `65535`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Port = S.Int.check(S.isBetween({ minimum: 0, maximum: 65535 }))

/**
 * A string of at least one character.
 *
 * @since 0.1.0
 * @category schemas
 */
export const NonEmptyString = Schemas.NonEmptyString

/**
 * A path in dtab syntax (`/$/inet/127.0.0.1/4141`), decoded to a `Path`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PathFromString = Schemas.PathFromString

/**
 * The shared key: `prefix` (default: the kind's own, e.g. `/io.l5d.port/<port>`).
 *
 * @since 0.1.0
 * @category fields
 */
export const fields = {
  prefix: S.optionalKey(PathFromString)
}

/**
 * A failure while building a transformer.
 *
 * @since 0.1.0
 * @category errors
 */
export const failure = (kind: string, message: string): { readonly message: string } => ({
  message: `transformer ${kind}: ${message}`
})
