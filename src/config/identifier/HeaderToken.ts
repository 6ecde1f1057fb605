/**
 * The identifier `io.l5d.header.token` (the default): the value of `header` as one label,
 * `/svc/<value>`. Built with `http/Identifiers.ts`.
 *
 * ```yaml
 * identifier: { kind: io.l5d.header.token, header: Host }   # header defaults to Host
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
 * `{kind: io.l5d.header.token, header}`: `header` defaults to `Host`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.header.token"),
  header: NonEmptyString.pipe(withDefault("Host"))
})

/**
 * The plugin: `Identifiers.headerToken` under the router's `dstPrefix`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.header.token" },
  make: (config) => (prefix: Path.Path): Identifiers.Identifier => Identifiers.headerToken(prefix, config.header)
})
