/**
 * Interpreter kinds linkerd has and this version of weir does not run, with the keys linkerd
 * documents for them: `io.l5d.namerd` (Thrift), `io.l5d.mesh` (gRPC) (`dst` required,
 * `namespace`, `root`, `experimental`, `retry`). They decode
 * and are rejected with `interpreter kind … is not available in this version of weir`.
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, PathFromString, PositiveInt, unsupported } from "../Schemas.js"

const namerd = {
  dst: PathFromString,
  namespace: S.optionalKey(NonEmptyString),
  root: S.optionalKey(PathFromString),
  experimental: S.optionalKey(S.Boolean),
  retry: S.optionalKey(S.Struct({
    baseSeconds: S.optionalKey(PositiveInt),
    maxSeconds: S.optionalKey(PositiveInt)
  })),
  transformers: unsupported("interpreter transformers"),
  tls: unsupported("interpreter TLS")
}

/**
 * Every unavailable interpreter kind.
 *
 * @since 0.1.0
 * @category unavailable
 */
export const all: ReadonlyArray<Plugin.Unavailable> = [
  Plugin.unavailable("io.l5d.namerd", namerd),
  Plugin.unavailable("io.l5d.mesh", namerd)
]
