/**
 * The identifier `io.l5d.header.path`: a path read from `header` (default `:path`, the request
 * target), `/svc` followed by its first `segments` segments (all of them when `segments` is not
 * given). linkerd offers it on h2 routers (for gRPC's `/<service>/<method>`); weir accepts it on
 * every HTTP router. Built with `http/HeaderPathIdentifier.ts`.
 *
 * ```yaml
 * identifier: { kind: io.l5d.header.path, segments: 1 }   # header defaults to :path
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as HeaderPathIdentifier from "../../http/HeaderPathIdentifier.js"
import type * as Identifiers from "../../http/Identifiers.js"
import type * as Path from "../../naming/Path.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, PositiveInt, withDefault } from "../Schemas.js"

/**
 * `{kind: io.l5d.header.path, header, segments}`: `header` defaults to `:path`, `segments` (`>= 1`)
 * to none (the whole path).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.header.path"),
  header: NonEmptyString.pipe(withDefault(HeaderPathIdentifier.pathHeader)),
  segments: S.optionalKey(PositiveInt)
})

/**
 * The plugin: `HeaderPathIdentifier.make` under the router's `dstPrefix`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.header.path" },
  make: (config) => (prefix: Path.Path): Identifiers.Identifier =>
    HeaderPathIdentifier.make(prefix, config.header, config.segments)
})
