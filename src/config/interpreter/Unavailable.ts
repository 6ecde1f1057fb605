/**
 * Interpreter kinds linkerd has and this version of weir does not run, with the keys linkerd
 * documents for them: `io.l5d.fs` (`dtabFile` required). They decode and are rejected with
 * `interpreter kind … is not available in this version of weir`.
 *
 * @since 0.1.0
 */
import * as Plugin from "../Plugin.js"
import { NonEmptyString, unsupported } from "../Schemas.js"

/**
 * Every unavailable interpreter kind.
 *
 * @since 0.1.0
 * @category unavailable
 */
export const all: ReadonlyArray<Plugin.Unavailable> = [
  Plugin.unavailable("io.l5d.fs", { dtabFile: NonEmptyString, transformers: unsupported("interpreter transformers") })
]
