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
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Namer from "../../naming/Namer.js"
import * as Plugin from "../Plugin.js"
import * as Common from "./Common.js"
import * as NamerConfig from "./Zk.js"

/**
 * The config entry.
 *
 * @since 0.1.0
 * @category schemas
 */
export const schema = Schema.Struct({
  kind: Schema.Literal("io.l5d.zkLeader"),
  zkAddrs: NamerConfig.ZkAddrs,
  ...Common.fields("/io.l5d.zkLeader")
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
  // loaded when the namer is built, not with the config: a proxy without one does not carry the ZooKeeper
  // client in its memory
  Effect.flatMap(
    Effect.promise(() => Promise.all([import("../../namers/zk/Client.js"), import("../../namers/ZkLeader.js")])),
    ([ZkClient, ZkLeader]) =>
      ZkLeader.make({ connectString: ZkClient.connectString(config.zkAddrs), label: Common.label(config) })
  )

/**
 * The plugin: `build`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema,
  example: { kind: "io.l5d.zkLeader", zkAddrs: [{ host: "127.0.0.1" }] },
  make: build
})
