/**
 * The transformer `io.l5d.port`: every address gets `port` (required).
 *
 * ```yaml
 * interpreter:
 *   kind: default
 *   transformers:
 *   - kind: io.l5d.port
 *     port: 4141
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import * as Port from "../../naming/transformers/Port.js"
import * as Plugin from "../Plugin.js"
import * as Common from "./Common.js"

/**
 * `{kind: io.l5d.port, port, prefix}`: `port` is required; `prefix` defaults to `/io.l5d.port/<port>`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({ kind: S.Literal("io.l5d.port"), port: Common.Port, ...Common.fields })

/**
 * The plugin: `Port.make`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.port", port: 4141 },
  make: (config): Common.Build => Effect.succeed(Port.make({ port: config.port, prefix: config.prefix }))
})
