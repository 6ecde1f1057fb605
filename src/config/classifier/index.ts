/**
 * The HTTP response classifier family (`service.responseClassifier`):
 * `io.l5d.http.nonRetryable5XX` (the default), `io.l5d.http.retryableRead5XX`,
 * `io.l5d.http.retryableIdempotent5XX`, `io.l5d.http.retryableAll5XX`, `io.l5d.http.allSuccessful`
 * (each also under its older `io.l5d.*` spelling). Each kind is one file next to this one; its
 * plugin builds the `Classifiers.Kind` the path stack classifies with.
 *
 * @since 0.1.0
 */
import * as Plugin from "../Plugin.js"
import * as AllSuccessful from "./AllSuccessful.js"
import * as NonRetryable5XX from "./NonRetryable5XX.js"
import * as RetryableAll5XX from "./RetryableAll5XX.js"
import * as RetryableIdempotent5XX from "./RetryableIdempotent5XX.js"
import * as RetryableRead5XX from "./RetryableRead5XX.js"

/**
 * The classifier registry: `schema` decodes a `responseClassifier` object, `make` gives the
 * canonical `Classifiers.Kind`.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = Plugin.registry("response classifier", [
  NonRetryable5XX.plugin,
  RetryableRead5XX.plugin,
  RetryableIdempotent5XX.plugin,
  RetryableAll5XX.plugin,
  AllSuccessful.plugin
])

/**
 * A decoded `responseClassifier`.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof registry.schema.Type
