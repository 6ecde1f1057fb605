/**
 * The namer family (`namers:`). Available: `io.l5d.fs`, `io.l5d.k8s`, `io.l5d.experimental.k8s`,
 * `io.l5d.dnssrv`, `io.l5d.rewrite`, `io.l5d.k8s.ns`, `io.l5d.k8s.external`, `io.l5d.serversets`,
 * `io.l5d.curator`, `io.l5d.zkLeader`, `io.l5d.consul`, `io.l5d.marathon`; linkerd's other kinds
 * (`io.l5d.rancher`) decode and are reported as not available (`Unavailable.ts`).
 *
 * A namer plugin is one file here (see `Fs.ts`):
 *
 * ```ts
 * export const Schema = S.Struct({
 *   kind: S.Literal("io.l5d.example"),
 *   hosts: S.Array(NonEmptyString),                  // linkerd's keys and defaults
 *   ...Common.fields("/io.l5d.example")               // prefix, experimental, transformers
 * })
 * export const plugin = Plugin.make({
 *   schema: Schema,
 *   example: { kind: "io.l5d.example", hosts: ["127.0.0.1:2181"] },   // smallest accepted config
 *   make: (config) => Example.make({ hosts: config.hosts, label: Common.label(config) })
 * })
 * ```
 *
 * `make` returns the namer in a `Scope` (`Effect<Namer, E, Scope>`, `E` a failure with a `message`,
 * or `never`); its metrics go under `namer/<Common.label(config)>/`. Then add `Example.plugin` to
 * the list below (and remove the kind from `Unavailable.ts` if it was there).
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Namer from "../../naming/Namer.js"
import * as Path from "../../naming/Path.js"
import * as Plugin from "../Plugin.js"
import * as Consul from "./Consul.js"
import * as Curator from "./Curator.js"
import * as DnsSrv from "./DnsSrv.js"
import * as ExperimentalK8s from "./ExperimentalK8s.js"
import * as Fs from "./Fs.js"
import * as K8s from "./K8s.js"
import * as K8sExternal from "./K8sExternal.js"
import * as K8sNs from "./K8sNs.js"
import * as Marathon from "./Marathon.js"
import * as Rewrite from "./Rewrite.js"
import * as Serversets from "./Serversets.js"
import * as Unavailable from "./Unavailable.js"
import * as ZkLeader from "./ZkLeader.js"

/**
 * The namer registry: `schema` decodes one entry of `namers`, `make` builds the namer.
 *
 * @since 0.1.0
 * @category registry
 */
export const registry = Plugin.registry(
  "namer",
  [
    Fs.plugin,
    K8s.plugin,
    ExperimentalK8s.plugin,
    DnsSrv.plugin,
    Rewrite.plugin,
    K8sNs.plugin,
    K8sExternal.plugin,
    Serversets.plugin,
    Curator.plugin,
    ZkLeader.plugin,
    Consul.plugin,
    Marathon.plugin
  ],
  Unavailable.all
)

/**
 * A decoded namer entry.
 *
 * @since 0.1.0
 * @category model
 */
export type Config = typeof registry.schema.Type

/**
 * A namer being built: a failure says why, in its `message`.
 *
 * @since 0.1.0
 * @category model
 */
export type Build = Effect.Effect<Namer.Namer, { readonly message: string }, Scope.Scope>

/**
 * Builds the namer of a decoded entry in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const build = (config: Config): Build => registry.make(config)

/**
 * Where a configured namer answers: under `/#/<prefix>` (linkerd 1.x), and at `/<prefix>` itself, the
 * linkerd 0.x form the seed talk's dtabs use (`/srv => /io.l5d.k8s/default/http`).
 *
 * @since 0.1.0
 * @category naming
 */
export const mounts = (config: { readonly prefix: Path.Path }): ReadonlyArray<Path.Path> => [
  Path.concat(Path.make("#"), config.prefix),
  config.prefix
]
