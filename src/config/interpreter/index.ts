/**
 * The interpreter family (`routers[].interpreter`): `default` (the configured namers),
 * `io.l5d.namerd` (namerd over Thrift), `io.l5d.namerd.http` and `io.l5d.mesh` (namerd over gRPC);
 * linkerd's file interpreter decodes and is reported as not available (`Unavailable.ts`).
 *
 * @since 0.1.0
 */
import * as Plugin from "../Plugin.js"
import * as Default from "./Default.js"
import * as Mesh from "./Mesh.js"
import * as Namerd from "./Namerd.js"
import * as NamerdHttp from "./NamerdHttp.js"
import * as Unavailable from "./Unavailable.js"

/**
 * The interpreter registry: `schema` decodes `interpreter`, `make` gives the interpreter's
 * constructor over the built namers.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = Plugin.registry(
  "interpreter",
  [Default.plugin, Namerd.plugin, NamerdHttp.plugin, Mesh.plugin],
  Unavailable.all
)

/**
 * A decoded interpreter.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof registry.schema.Type
