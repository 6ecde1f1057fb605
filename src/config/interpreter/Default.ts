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
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Interpreter from "../../naming/Interpreter.js"
import type * as Stats from "../../Stats.js"
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
 * What an interpreter plugin is given: the interpreter of the configured namers (and the `/$` system
 * namers) and the router's stats scope for the interpreter's own metrics.
 *
 * @since 0.1.0
 * @category model
 */
export interface Context {
  readonly base: Interpreter.NameInterpreter
  readonly stats: Stats.StatsReceiver
}

/**
 * Builds a router's interpreter in the proxy's scope; fails when something it needs cannot be
 * loaded (a TLS file).
 *
 * @since 0.1.0
 * @category model
 */
export type Make = (
  context: Context
) => Effect.Effect<Interpreter.NameInterpreter, { readonly message: string }, Scope.Scope>

/**
 * The plugin: the interpreter of the configured namers, as it is (its `transformers` are applied by
 * the proxy around whichever interpreter a router has).
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "default" },
  make: (_config): Make => (context) => Effect.succeed(context.base)
})
