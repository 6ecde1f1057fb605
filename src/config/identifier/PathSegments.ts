/**
 * The identifier `io.l5d.path`: the first `segments` URI path segments, `/svc/<segments>`; with
 * `consume` they are removed from the forwarded URI. Built with `http/Identifiers.ts`.
 *
 * ```yaml
 * identifier: { kind: io.l5d.path, segments: 1, consume: false }   # the defaults
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Identifiers from "../../http/Identifiers.js"
import type * as Path from "../../naming/Path.js"
import * as Plugin from "../Plugin.js"
import { PositiveInt, withDefault } from "../Schemas.js"

/**
 * `{kind: io.l5d.path, segments, consume}`: `segments` (`>= 1`) defaults to `1`, `consume` to
 * `false`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.path"),
  segments: PositiveInt.pipe(withDefault(1)),
  consume: S.Boolean.pipe(withDefault(false))
})

/**
 * The plugin: `Identifiers.path` under the router's `dstPrefix`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.path" },
  make: (config) => (prefix: Path.Path): Identifiers.Identifier =>
    Identifiers.path(prefix, config.segments, config.consume)
})
