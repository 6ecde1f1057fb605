/**
 * The HTTP response classifier family (`service.responseClassifier`):
 * `io.l5d.http.nonRetryable5XX` (the default), `io.l5d.http.retryableRead5XX`,
 * `io.l5d.http.retryableIdempotent5XX`, `io.l5d.http.retryableAll5XX`, `io.l5d.http.allSuccessful`
 * (each also under its older `io.l5d.*` spelling), and for h2 routers the `io.l5d.h2.*` and
 * `io.l5d.h2.grpc.*` kinds (`H2Plugins.ts`). Each kind is one file next to this one; its plugin
 * builds what the path stack classifies with: an HTTP `Classifiers.Kind`, or an h2 classifier's
 * config (`http/h2/Classifiers.ts`).
 *
 * @since 0.1.0
 */
import * as Plugin from "../Plugin.js"
import * as AllSuccessful from "./AllSuccessful.js"
import * as H2Plugins from "./H2Plugins.js"
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
  AllSuccessful.plugin,
  ...H2Plugins.plugins
])

/**
 * A decoded `responseClassifier`.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof registry.schema.Type
