/**
 * What the ZooKeeper plugins (the serversets, curator and zkLeader namers, the serversets
 * announcer) share: linkerd's `zkAddrs` list, and the schema building blocks they use.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Schemas from "../Schemas.js"

/**
 * `withDefault`, `Port`, `NonEmptyString`, `unsupported`, `PathFromString`: see `config/Schemas.ts`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const { NonEmptyString, PathFromString, Port, unsupported, withDefault } = Schemas

/**
 * `zkAddrs`: the ZooKeeper ensemble, `[{host, port}]` with `port` defaulting to `2181`; at least one.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ZkAddrs = Schema.Array(Schema.Struct({ host: NonEmptyString, port: Port.pipe(withDefault(2181)) })).check(
  Schema.isMinLength(1)
)
