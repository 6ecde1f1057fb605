/**
 * The identifier `io.l5d.static`: always `/svc` followed by `path`. Built with
 * `http/Identifiers.ts`.
 *
 * ```yaml
 * identifier: { kind: io.l5d.static, path: /books }   # path is required
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Identifiers from "../../http/Identifiers.js"
import type * as Path from "../../naming/Path.js"
import * as Plugin from "../Plugin.js"
import { PathFromString } from "../Schemas.js"

/**
 * `{kind: io.l5d.static, path}`: `path` (dtab syntax) is required.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({ kind: S.Literal("io.l5d.static"), path: PathFromString })

/**
 * The plugin: `Identifiers.constant` under the router's `dstPrefix`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.static", path: "/books" },
  make: (config) => (prefix: Path.Path): Identifiers.Identifier => Identifiers.constant(prefix, config.path)
})
