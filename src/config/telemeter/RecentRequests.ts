/**
 * The telemeter `io.l5d.recentRequests`: keeps a sample of the requests every router serves, the
 * newest `capacity` of them, for the admin server's `/requests` page and `/requests.json` (see
 * `telemetry/RecentRequests.ts` for what is kept and `http/RequestCapture.ts` for how). `sampleRate`
 * is required, as in linkerd: the share of requests kept, 0 … 1.
 *
 * ```yaml
 * telemetry:
 * - kind: io.l5d.recentRequests
 *   sampleRate: 1.0
 *   capacity: 10        # the default
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import * as RecentRequests from "../../telemetry/RecentRequests.js"
import type * as Telemeter from "../../telemetry/Telemeter.js"
import * as Plugin from "../Plugin.js"
import { PositiveInt, Probability, withDefault } from "../Schemas.js"

/**
 * The most requests a ring keeps.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxCapacity = 10_000

/**
 * `{kind: io.l5d.recentRequests, sampleRate, capacity}`: `sampleRate` (0 … 1) is required,
 * `capacity` (1 … 10000) defaults to `10`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.recentRequests"),
  sampleRate: Probability,
  capacity: PositiveInt.check(S.isLessThanOrEqualTo(maxCapacity)).pipe(withDefault(10))
})

/**
 * The plugin: a ring of sampled requests, which the admin server shows at `/requests` and
 * `/requests.json`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.recentRequests", sampleRate: 1 },
  make: (config): Telemeter.Make => () =>
    Effect.map(
      RecentRequests.make({ sampleRate: config.sampleRate, capacity: config.capacity }),
      (ring) => ({ endpoints: [], recentRequests: ring })
    )
})
