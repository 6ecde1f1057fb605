/**
 * The `io.l5d.serversets` announcer's config (a router's `announcers` entry), linkerd's keys:
 * `zkAddrs` (required), `pathPrefix` (default `/discovery`: the ZooKeeper path announcements go
 * under) and `prefix` (default `/io.l5d.serversets`: the names in `servers[].announce` it serves,
 * `/#/<prefix>/<name…>`). `/#/io.l5d.serversets/web` is announced at `/discovery/web`, where the
 * `io.l5d.serversets` namer finds it as `/#/io.l5d.serversets/discovery/web`.
 *
 * ```yaml
 * routers:
 * - protocol: http
 *   announcers:
 *   - kind: io.l5d.serversets
 *     zkAddrs: [{host: 127.0.0.1, port: 2181}]
 *   servers:
 *   - port: 4140
 *     announce: [/#/io.l5d.serversets/web]
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as ServersetsAnnouncer from "../../namers/ServersetsAnnouncer.js"
import * as Path from "../../naming/Path.js"
import * as NamerConfig from "../namer/Zk.js"

/**
 * The config entry.
 *
 * @since 0.1.0
 * @category schemas
 */
export const schema = Schema.Struct({
  kind: Schema.Literal("io.l5d.serversets"),
  prefix: Schema.optionalKey(NamerConfig.PathFromString),
  zkAddrs: NamerConfig.ZkAddrs,
  pathPrefix: Schema.optionalKey(NamerConfig.PathFromString)
})

/**
 * A decoded entry.
 *
 * @since 0.1.0
 * @category models
 */
export type Config = typeof schema.Type

/**
 * The names an announcer serves: `/#/<prefix>`.
 *
 * @since 0.1.0
 * @category models
 */
export const namePrefix = (config: Config): Path.Path =>
  Path.concat(Path.make("#"), config.prefix ?? Path.make("io.l5d.serversets"))

/**
 * The ZooKeeper path a name (under `namePrefix`) is announced at, or `undefined` when the name is
 * not this announcer's.
 *
 * @since 0.1.0
 * @category models
 */
export const zkPathOf = (config: Config, name: Path.Path): string | undefined => {
  const prefix = namePrefix(config).labels
  if (name.labels.length <= prefix.length || prefix.some((l, i) => name.labels[i] !== l)) return undefined
  const base = (config.pathPrefix ?? Path.make("discovery")).labels
  return "/" + [...base, ...name.labels.slice(prefix.length)].join("/")
}

/**
 * Builds the announcer of an entry.
 *
 * @since 0.1.0
 * @category constructors
 */
export const build = (config: Config): Effect.Effect<ServersetsAnnouncer.Announcer, never, Scope.Scope> =>
  // loaded when the announcer is built, not with the config: a proxy without one does not carry the ZooKeeper
  // client in its memory
  Effect.flatMap(
    Effect.promise(() =>
      Promise.all([import("../../namers/zk/Client.js"), import("../../namers/ServersetsAnnouncer.js")])
    ),
    ([ZkClient, ServersetsAnnouncer]) =>
      ServersetsAnnouncer.make({ connectString: ZkClient.connectString(config.zkAddrs) })
  )
