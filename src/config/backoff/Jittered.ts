/**
 * The backoff `jittered`: decorrelated jitter between `minMs` and `maxMs` (each delay random between
 * `minMs` and three times the previous one, capped at `maxMs`), linkerd's "jittered".
 *
 * ```yaml
 * backoff: { kind: jittered, minMs: 10, maxMs: 1000 }   # both required, 0 < minMs <= maxMs
 * ```
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as S from "effect/Schema"
import * as Backoff from "../../resilience/Backoff.js"
import * as Plugin from "../Plugin.js"
import { Millis } from "../Schemas.js"

/**
 * `{kind: jittered, minMs, maxMs}`: both required, `minMs > 0`, `minMs <= maxMs`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("jittered"),
  minMs: Millis({ positive: true }),
  maxMs: Millis({ positive: true })
}).check(
  S.makeFilter((b) =>
    Duration.isLessThanOrEqualTo(b.minMs, b.maxMs) ? undefined : { path: ["maxMs"], issue: "maxMs must be >= minMs" }
  )
)

/**
 * The plugin: `Backoff.decorrelatedJittered(minMs, maxMs)`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "jittered", minMs: 10, maxMs: 1000 },
  make: (config): Backoff.Backoff => Backoff.decorrelatedJittered(config.minMs, config.maxMs)
})
