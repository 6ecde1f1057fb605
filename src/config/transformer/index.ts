/**
 * The transformer family (`interpreter.transformers` and `namers[].transformers`): linkerd's seven
 * kinds, `io.l5d.localhost`, `io.l5d.specificHost`, `io.l5d.port`, `io.l5d.k8s.daemonset`,
 * `io.l5d.k8s.localnode`, `io.l5d.replace` and `io.l5d.const`. One file per kind (schema with
 * linkerd's keys and defaults, and constructor); the cores are in `naming/transformers/`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Transformer from "../../naming/transformers/Transformer.js"
import * as Plugin from "../Plugin.js"
import type * as Common from "./Common.js"
import * as K8s from "./K8s.js"
import * as Localhost from "./Localhost.js"
import * as Port from "./Port.js"
import * as Replace from "./Replace.js"
import * as SpecificHost from "./SpecificHost.js"

/**
 * The transformer registry: `schema` decodes one entry of a `transformers` list, `make` builds it.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = Plugin.registry("transformer", [
  Localhost.plugin,
  SpecificHost.plugin,
  Port.plugin,
  K8s.daemonset,
  K8s.localnode,
  Replace.replace,
  Replace.constant
])

/**
 * A decoded transformer entry.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof registry.schema.Type

/**
 * The `transformers` key of an interpreter or a namer: an optional list (absent: none).
 *
 * @since 0.1.0
 * @category schemas
 */
export const List = S.optionalKey(S.Array(registry.schema))

/**
 * Builds the transformers of a list, in order, in the current scope; the first failure says which
 * entry (`transformers[1]: …`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const buildAll = (
  configs: ReadonlyArray<Config>
): Effect.Effect<ReadonlyArray<Transformer.Transformer>, { readonly message: string }, Scope.Scope> =>
  Effect.forEach(configs, (c, i) =>
    (registry.make(c) as Common.Build).pipe(
      Effect.mapError((e) => ({ message: `transformers[${i}]: ${e.message}` }))
    ))
