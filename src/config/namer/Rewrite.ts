/**
 * The namer `io.l5d.rewrite`: rewrites the path it receives into another name, resolved again
 * through the dtab. Built with `namers/Rewrite.ts`.
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.rewrite
 *   prefix: /rewrite            # required: this namer has no default prefix
 *   pattern: "/{service}/api"   # required
 *   name: "/srv/{service}"      # required
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as S from "effect/Schema"
import * as Rewrite from "../../namers/Rewrite.js"
import * as PathMatcher from "../../naming/PathMatcher.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, PathFromString } from "../Schemas.js"
import * as Common from "./Common.js"

const Pattern = NonEmptyString.check(
  S.makeFilter((p: string) => {
    const r = PathMatcher.parse(p)
    return Result.isSuccess(r) || r.failure
  })
)

/**
 * `{kind: io.l5d.rewrite, prefix, pattern, name}`: all three required (`pattern` in linkerd's
 * prefix-pattern syntax, `name` a path with `{var}` placeholders), and the keys every namer shares.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.rewrite"),
  pattern: Pattern,
  name: NonEmptyString,
  ...Common.fields("/io.l5d.rewrite"),
  prefix: PathFromString
})

/**
 * The plugin: `Rewrite.make`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.rewrite", prefix: "/rewrite", pattern: "/{service}/api", name: "/srv/{service}" },
  make: (config) =>
    Effect.succeed(Rewrite.make({ pattern: PathMatcher.parseUnsafe(config.pattern), name: config.name }))
})
