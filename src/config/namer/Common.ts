/**
 * The keys every namer kind shares, and where a namer answers.
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Path from "../../naming/Path.js"
import { PathFromString, unsupported, withDefault } from "../Schemas.js"

/**
 * The shared keys: `prefix` (where the namer answers under `/#`; defaults to `/<kind>`, given here
 * as `defaultPrefix`), `experimental` (default `false`) and `transformers` (not supported).
 *
 * @since 0.1.0
 * @category fields
 */
export const fields = (defaultPrefix: string) => ({
  prefix: PathFromString.pipe(withDefault(defaultPrefix)),
  experimental: S.Boolean.pipe(withDefault(false)),
  transformers: unsupported("namer transformers")
})

/**
 * The stats label of a namer with `prefix` (`#/io.l5d.fs`): its metrics are under `namer/<label>/`.
 *
 * @since 0.1.0
 * @category naming
 */
export const label = (config: { readonly prefix: Path.Path }): string => Path.show(config.prefix).replace(/^\//, "#/")
