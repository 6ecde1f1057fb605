/**
 * The interpreter family (`routers[].interpreter`): `default` (the configured namers),
 * `io.l5d.namerd.http`, `io.l5d.fs` (the configured namers under a dtab file); linkerd's namerd and
 * mesh interpreters decode and are reported as not available (`Unavailable.ts`).
 *
 * @since 0.1.0
 */
import * as Plugin from "../Plugin.js"
import * as Default from "./Default.js"
import * as Fs from "./Fs.js"
import * as NamerdHttp from "./NamerdHttp.js"
import * as Unavailable from "./Unavailable.js"

/**
 * The interpreter registry: `schema` decodes `interpreter`, `make` gives the interpreter's
 * constructor over the built namers.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = Plugin.registry("interpreter", [Default.plugin, NamerdHttp.plugin, Fs.plugin], Unavailable.all)

/**
 * A decoded interpreter.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof registry.schema.Type
