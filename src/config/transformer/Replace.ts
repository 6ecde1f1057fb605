/**
 * The transformers `io.l5d.replace` and `io.l5d.const`: route to what `path` (required) binds to
 * through the system namers (`/$/inet/<host>/<port>`). `replace` keeps a `Neg` tree `Neg`; `const`
 * answers `path` whatever the tree.
 *
 * ```yaml
 * transformers:
 * - kind: io.l5d.replace
 *   path: /$/inet/127.0.0.1/4141
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as S from "effect/Schema"
import type * as Path from "../../naming/Path.js"
import * as Replace from "../../naming/transformers/Replace.js"
import * as Plugin from "../Plugin.js"
import * as Common from "./Common.js"

const bound = (kind: string, path: Path.Path) => {
  const r = Replace.bindFixed(path)
  return Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(Common.failure(kind, r.failure))
}

/**
 * `{kind: io.l5d.replace, path, prefix}`: `path` is required.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ReplaceSchema = S.Struct({
  kind: S.Literal("io.l5d.replace"),
  path: Common.PathFromString,
  ...Common.fields
})

/**
 * The plugin `io.l5d.replace`: `Replace.replace`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const replace = Plugin.make({
  schema: ReplaceSchema,
  example: { kind: "io.l5d.replace", path: "/$/inet/127.0.0.1/4141" },
  make: (config): Common.Build => Effect.map(bound("io.l5d.replace", config.path), Replace.replace)
})

/**
 * `{kind: io.l5d.const, path, prefix}`: `path` is required.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConstSchema = S.Struct({
  kind: S.Literal("io.l5d.const"),
  path: Common.PathFromString,
  ...Common.fields
})

/**
 * The plugin `io.l5d.const`: `Replace.constant`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const constant = Plugin.make({
  schema: ConstSchema,
  example: { kind: "io.l5d.const", path: "/$/inet/127.0.0.1/4141" },
  make: (config): Common.Build => Effect.map(bound("io.l5d.const", config.path), Replace.constant)
})
