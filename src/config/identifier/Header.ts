/**
 * The identifier `io.l5d.header`: the value of `header` parsed as a path, `/svc` followed by it.
 * Built with `http/Identifiers.ts`.
 *
 * ```yaml
 * identifier: { kind: io.l5d.header, header: l5d-name }   # header defaults to l5d-name
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Identifiers from "../../http/Identifiers.js"
import type * as Path from "../../naming/Path.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, withDefault } from "../Schemas.js"

/**
 * `{kind: io.l5d.header, header}`: `header` defaults to `l5d-name`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.header"),
  header: NonEmptyString.pipe(withDefault("l5d-name"))
})

/**
 * The plugin: `Identifiers.header` under the router's `dstPrefix`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.header" },
  make: (config) => (prefix: Path.Path): Identifiers.Identifier => Identifiers.header(prefix, config.header)
})
