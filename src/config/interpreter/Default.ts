/**
 * The interpreter `default`: names are bound by the router's own namers (the configured `namers`,
 * then the `/$` system namers). Built with `naming/Interpreter.ts`.
 *
 * ```yaml
 * interpreter: { kind: default }   # the default
 * ```
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Interpreter from "../../naming/Interpreter.js"
import type * as Namer from "../../naming/Namer.js"
import type * as Path from "../../naming/Path.js"
import * as Plugin from "../Plugin.js"
import * as Transformers from "../transformer/index.js"

/**
 * `{kind: default, transformers}`: `transformers` rewrite what the router binds, in order (see
 * `config/transformer/`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({ kind: S.Literal("default"), transformers: Transformers.List })

/**
 * The plugin: given the built namers and where each is mounted, `Interpreter.make`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "default" },
  make: (_config) =>
  (
    namers: ReadonlyArray<readonly [Path.Path, Namer.Namer]>
  ): Effect.Effect<Interpreter.NameInterpreter, never, Scope.Scope> => Interpreter.make({ namers })
})
