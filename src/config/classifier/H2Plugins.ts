/**
 * The h2 response classifier kinds (`io.l5d.h2.*`, `io.l5d.h2.grpc.*`), one plugin file each next to
 * this one: their plugins (for the classifier registry) and the union of their schemas.
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as GrpcAlwaysRetryable from "./GrpcAlwaysRetryable.js"
import * as GrpcCompliant from "./GrpcCompliant.js"
import * as GrpcDefault from "./GrpcDefault.js"
import * as GrpcNeverRetryable from "./GrpcNeverRetryable.js"
import * as GrpcRetryableStatusCodes from "./GrpcRetryableStatusCodes.js"
import * as H2AllSuccessful from "./H2AllSuccessful.js"
import * as H2NonRetryable5XX from "./H2NonRetryable5XX.js"
import * as H2RetryableIdempotent5XX from "./H2RetryableIdempotent5XX.js"
import * as H2RetryableRead5XX from "./H2RetryableRead5XX.js"

/**
 * The h2 classifier plugins, in the order linkerd documents them.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugins = [
  H2NonRetryable5XX.plugin,
  H2RetryableRead5XX.plugin,
  H2RetryableIdempotent5XX.plugin,
  H2AllSuccessful.plugin,
  GrpcDefault.plugin,
  GrpcRetryableStatusCodes.plugin,
  GrpcCompliant.plugin,
  GrpcNeverRetryable.plugin,
  GrpcAlwaysRetryable.plugin
] as const

/**
 * A `responseClassifier` of one of the h2 kinds.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Union([
  H2NonRetryable5XX.Schema,
  H2RetryableRead5XX.Schema,
  H2RetryableIdempotent5XX.Schema,
  H2AllSuccessful.Schema,
  GrpcDefault.Schema,
  GrpcRetryableStatusCodes.Schema,
  GrpcCompliant.Schema,
  GrpcNeverRetryable.Schema,
  GrpcAlwaysRetryable.Schema
])
