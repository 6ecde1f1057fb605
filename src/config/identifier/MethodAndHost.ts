/**
 * The identifier `io.l5d.methodAndHost`: `/svc/1.1/<METHOD>/<host>` (HTTP/1.1) or
 * `/svc/1.0/<METHOD>` (HTTP/1.0), followed by the URI path with `httpUriInDst`. Built with
 * `http/Identifiers.ts`.
 *
 * ```yaml
 * identifier: { kind: io.l5d.methodAndHost, httpUriInDst: false }   # the default
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Identifiers from "../../http/Identifiers.js"
import type * as Path from "../../naming/Path.js"
import * as Plugin from "../Plugin.js"
import { withDefault } from "../Schemas.js"

/**
 * `{kind: io.l5d.methodAndHost, httpUriInDst}`: `httpUriInDst` defaults to `false`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.methodAndHost"),
  httpUriInDst: S.Boolean.pipe(withDefault(false))
})

/**
 * The plugin: `Identifiers.methodAndHost` under the router's `dstPrefix`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.methodAndHost" },
  make: (config) => (prefix: Path.Path): Identifiers.Identifier =>
    Identifiers.methodAndHost(prefix, config.httpUriInDst)
})
