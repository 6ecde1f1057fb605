/**
 * The transformer `io.l5d.localhost`: keeps the addresses of this machine (its network interfaces'
 * addresses). No keys besides `prefix` (default `/io.l5d.localhost`).
 *
 * ```yaml
 * transformers:
 * - kind: io.l5d.localhost
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import * as Hosts from "../../naming/transformers/Hosts.js"
import * as Plugin from "../Plugin.js"
import * as Common from "./Common.js"

/**
 * `{kind: io.l5d.localhost, prefix}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({ kind: S.Literal("io.l5d.localhost"), ...Common.fields })

/**
 * The plugin: `Hosts.localhost`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.localhost" },
  make: (config): Common.Build => Effect.sync(() => Hosts.localhost({ prefix: config.prefix }))
})
