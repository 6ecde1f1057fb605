/**
 * The HTTP identifier family (`routers[].identifier`, one or a list): `io.l5d.header.token` (the
 * default, on `Host`), `io.l5d.methodAndHost`, `io.l5d.path`, `io.l5d.header`, `io.l5d.static`,
 * `io.l5d.header.path`, `io.l5d.ingress`. Each kind is one file next to this one; its plugin builds,
 * for a router's `dstPrefix`, the `Identifiers.Identifier` — or, for a kind that watches something
 * (`io.l5d.ingress` watches the Kubernetes API), an effect that starts the watch in the router's
 * scope and gives the identifier.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Identifiers from "../../http/Identifiers.js"
import type * as Path from "../../naming/Path.js"
import * as Plugin from "../Plugin.js"
import * as Header from "./Header.js"
import * as HeaderPath from "./HeaderPath.js"
import * as HeaderToken from "./HeaderToken.js"
import * as Ingress from "./Ingress.js"
import * as MethodAndHost from "./MethodAndHost.js"
import * as PathSegments from "./PathSegments.js"
import * as Static from "./Static.js"

/**
 * The identifier registry: `schema` decodes one identifier, `make` gives its constructor by prefix.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = Plugin.registry("identifier", [
  HeaderToken.plugin,
  MethodAndHost.plugin,
  PathSegments.plugin,
  Header.plugin,
  Static.plugin,
  HeaderPath.plugin,
  Ingress.plugin
])

/**
 * A decoded identifier.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof registry.schema.Type

/**
 * The identifier of a router's decoded list, under `prefix` (its `dstPrefix`): the first that
 * identifies a request wins. What an identifier watches runs in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const build = (
  configs: ReadonlyArray<Config>,
  prefix: Path.Path
): Effect.Effect<Identifiers.Identifier, never, Scope.Scope> =>
  Effect.map(
    Effect.forEach(configs, (c) => {
      const made = registry.make(c)(prefix)
      return Effect.isEffect(made) ? made : Effect.succeed(made)
    }),
    Identifiers.firstOf
  )
