/**
 * The keys every namer kind shares, and where a namer answers.
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Path from "../../naming/Path.js"
import { PathFromString, withDefault } from "../Schemas.js"
import * as Transformers from "../transformer/index.js"

/**
 * The shared keys: `prefix` (where the namer answers under `/#`; defaults to `/<kind>`, given here
 * as `defaultPrefix`), `experimental` (default `false`) and `transformers` (applied to
 * what the namer binds, in order; see `config/transformer/`).
 *
 * @since 0.1.0
 * @category fields
 */
export const fields = (defaultPrefix: string) => ({
  prefix: PathFromString.pipe(withDefault(defaultPrefix)),
  experimental: S.Boolean.pipe(withDefault(false)),
  transformers: Transformers.List
})

/**
 * The stats label of a namer with `prefix` (`#/io.l5d.fs`): its metrics are under `namer/<label>/`.
 *
 * @since 0.1.0
 * @category naming
 */
export const label = (config: { readonly prefix: Path.Path }): string => Path.show(config.prefix).replace(/^\//, "#/")
