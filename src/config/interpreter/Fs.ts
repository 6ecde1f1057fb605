/**
 * The interpreter `io.l5d.fs`: the router's namers under a dtab read from a file, watched so it can
 * be edited live (linkerd's file-system interpreter). Built with `namers/FsInterpreter.ts`.
 *
 * ```yaml
 * interpreter:
 *   kind: io.l5d.fs
 *   dtabFile: /etc/weir/routing.dtab   # required
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as FsInterpreter from "../../namers/FsInterpreter.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString } from "../Schemas.js"
import * as Transformers from "../transformer/index.js"
import type * as Interpreters from "./Default.js"

/**
 * `{kind: io.l5d.fs, dtabFile, transformers}`: `dtabFile` is required; `transformers` rewrite what
 * the router binds, as on the default interpreter.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.fs"),
  dtabFile: NonEmptyString,
  transformers: Transformers.List
})

/**
 * The plugin: the configured namers' interpreter under the file's dtab.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.fs", dtabFile: "examples/dtabs/canary.dtab" },
  make: (config): Interpreters.Make => (context) => FsInterpreter.make(context.base, { dtabFile: config.dtabFile })
})
