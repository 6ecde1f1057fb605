/**
 * The telemeter family (`telemetry:`): `io.l5d.prometheus`; linkerd's other telemeters decode and
 * are reported as not available (`Unavailable.ts`).
 *
 * @since 0.1.0
 */
import * as Plugin from "../Plugin.js"
import * as Prometheus from "./Prometheus.js"
import * as Unavailable from "./Unavailable.js"

/**
 * The telemeter registry: `schema` decodes one entry of `telemetry`, `make` what it runs with.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = Plugin.registry("telemeter", [Prometheus.plugin], Unavailable.all)

/**
 * A decoded telemeter.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof registry.schema.Type
