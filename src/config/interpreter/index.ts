/**
 * The interpreter family (`routers[].interpreter`): `default` (the configured namers),
 * `io.l5d.fs` (the configured namers under a dtab file), and namerd's: `io.l5d.namerd` (Thrift),
 * `io.l5d.namerd.http` and `io.l5d.mesh` (gRPC). An unknown kind is reported with the kinds available.
 *
 * @since 0.1.0
 */
import * as Plugin from "../Plugin.js"
import * as Default from "./Default.js"
import * as Fs from "./Fs.js"
import * as Mesh from "./Mesh.js"
import * as Namerd from "./Namerd.js"
import * as NamerdHttp from "./NamerdHttp.js"

/**
 * The interpreter registry: `schema` decodes `interpreter`, `make` gives the interpreter's
 * constructor over the built namers.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = Plugin.registry(
  "interpreter",
  [Default.plugin, Fs.plugin, Namerd.plugin, NamerdHttp.plugin, Mesh.plugin]
)

/**
 * A decoded interpreter.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof registry.schema.Type
