/**
 * The `io.l5d.zkLeader` namer's config, linkerd's keys: `zkAddrs` (required, `[{host, port}]`,
 * port default `2181`), plus the common `prefix` (default `/io.l5d.zkLeader`).
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.zkLeader
 *   zkAddrs: [{host: 127.0.0.1, port: 2181}]
 * ```
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Namer from "../naming/Namer.js"
import * as NamerConfig from "./NamerConfig.js"
import * as ZkClient from "./zk/Client.js"
import * as ZkLeader from "./ZkLeader.js"

/**
 * The config entry.
 *
 * @since 0.1.0
 * @category schemas
 */
export const schema = Schema.Struct({
  kind: Schema.Literal("io.l5d.zkLeader"),
  zkAddrs: NamerConfig.ZkAddrs,
  ...NamerConfig.namerCommon
})

/**
 * A decoded entry.
 *
 * @since 0.1.0
 * @category models
 */
export type Config = typeof schema.Type

/**
 * Builds the namer of an entry.
 *
 * @since 0.1.0
 * @category constructors
 */
export const build = (config: Config): Effect.Effect<Namer.Namer, never, Scope.Scope> =>
  ZkLeader.make({ connectString: ZkClient.connectString(config.zkAddrs), label: NamerConfig.label(config) })
