/**
 * Namer kinds linkerd has and this version of weir does not run, with the keys linkerd documents
 * for them: a config naming one is decoded (its keys checked) and rejected with `namer kind … is not
 * available in this version of weir`. To make one available, give it its own file with a `Schema`
 * and a `plugin` (see `Fs.ts`) and move it from this list to the registry's plugins.
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Plugin from "../Plugin.js"
import { Millis, PathFromString } from "../Schemas.js"

const common = {
  prefix: S.optionalKey(PathFromString),
  experimental: S.optionalKey(S.Boolean),
  transformers: S.optionalKey(S.Unknown)
}

/**
 * `io.l5d.rancher` (experimental in linkerd): Rancher's metadata service, `refreshIntervalMs`.
 *
 * @since 0.1.0
 * @category unavailable
 */
export const rancher = Plugin.unavailable("io.l5d.rancher", {
  refreshIntervalMs: S.optionalKey(Millis({ positive: true })),
  ...common
})

/**
 * Every unavailable namer kind.
 *
 * @since 0.1.0
 * @category unavailable
 */
export const all: ReadonlyArray<Plugin.Unavailable> = [rancher]
