/**
 * Telemeter kinds linkerd has and this version of weir does not run, with the keys linkerd
 * documents for them: `io.l5d.tracelog`, `io.l5d.zipkin`. They decode and are rejected with
 * `telemeter kind … is not available in this version of weir`.
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, Port } from "../Schemas.js"

/**
 * Every unavailable telemeter kind.
 *
 * @since 0.1.0
 * @category unavailable
 */
export const all: ReadonlyArray<Plugin.Unavailable> = [
  Plugin.unavailable("io.l5d.tracelog", {
    host: S.optionalKey(NonEmptyString),
    sampleRate: S.optionalKey(S.Finite),
    level: S.optionalKey(NonEmptyString)
  }),
  Plugin.unavailable("io.l5d.zipkin", {
    host: S.optionalKey(NonEmptyString),
    port: S.optionalKey(Port),
    sampleRate: S.optionalKey(S.Finite)
  })
]
