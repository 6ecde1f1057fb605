/**
 * The balancer `aperture`: p2c over a random window of nodes that widens or narrows to keep the
 * load per node between `lowLoad` and `highLoad`. Built with `loadbalancer/Aperture.ts`.
 *
 * ```yaml
 * loadBalancer:
 *   kind: aperture
 *   maxEffort: 5
 *   smoothWindowMs: 5000
 *   lowLoad: 0.5
 *   highLoad: 2.0
 *   minAperture: 1
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Aperture from "../../loadbalancer/Aperture.js"
import type * as Balancer from "../../loadbalancer/Balancer.js"
import * as Plugin from "../Plugin.js"
import { Millis, PositiveFinite, PositiveInt, withDefault } from "../Schemas.js"
import { enableProbation, maxEffort } from "./Fields.js"

/**
 * `{kind: aperture, …}`. Defaults (linkerd's): `maxEffort` 5, `smoothWindowMs` 5000, `lowLoad` 0.5,
 * `highLoad` 2.0, `minAperture` 1; `lowLoad` must be below `highLoad`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("aperture"),
  maxEffort,
  smoothWindowMs: Millis().pipe(withDefault(5_000)),
  lowLoad: PositiveFinite.pipe(withDefault(0.5)),
  highLoad: PositiveFinite.pipe(withDefault(2.0)),
  minAperture: PositiveInt.pipe(withDefault(1)),
  enableProbation
}).check(
  S.makeFilter((a) =>
    a.lowLoad < a.highLoad ? undefined : { path: ["highLoad"], issue: "highLoad must be greater than lowLoad" }
  )
)

/**
 * The plugin: `Aperture.factory`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "aperture" },
  make: (config): Balancer.Factory =>
    Aperture.factory({
      maxEffort: config.maxEffort,
      smoothWindow: config.smoothWindowMs,
      lowLoad: config.lowLoad,
      highLoad: config.highLoad,
      minAperture: config.minAperture
    })
})
