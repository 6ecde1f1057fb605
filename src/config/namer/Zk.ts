/**
 * Building blocks of the namer and announcer config schemas kept next to their namers
 * (`ServersetsConfig.ts`, `ConsulConfig.ts`, …): linkerd's common namer keys (`prefix`,
 * `experimental`, `transformers`), ports, ZooKeeper addresses, and the label a namer's metrics
 * and logs use (`#/<prefix>`).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import * as SchemaTransformation from "effect/SchemaTransformation"
import * as Path from "../../naming/Path.js"

/**
 * A key with a default when absent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const withDefault = <S extends Schema.Top>(value: S["Encoded"]) => (self: S) =>
  self.pipe(Schema.withDecodingDefaultKey(Effect.succeed(value)))

/**
 * A TCP port (0..65535).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Port = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 }))

/**
 * A non-empty string.
 *
 * @since 0.1.0
 * @category schemas
 */
export const NonEmptyString = Schema.String.check(Schema.isMinLength(1))

/**
 * A key linkerd documents that this version does not implement: decoding fails saying so.
 *
 * @since 0.1.0
 * @category schemas
 */
export const unsupported = (what: string) =>
  Schema.optionalKey(
    Schema.Unknown.check(Schema.makeFilter(() => `${what} is not supported by this version of weir`))
  )

const PathSchema = Schema.declare(Path.isPath, { expected: "a path" })

/**
 * A path in dtab syntax, decoded to a `Path`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PathFromString = Schema.String.pipe(
  Schema.decodeTo(
    PathSchema,
    SchemaTransformation.transformEffect({
      decode: (s, options) => {
        const r = Path.parse(s)
        return Result.isSuccess(r)
          ? Effect.succeed(r.success)
          : Effect.fail(new SchemaIssue.InvalidValue({ message: `invalid path: ${r.failure.message}` }, s, options))
      },
      encode: (p) => Effect.succeed(Path.show(p))
    })
  )
)

/**
 * The keys every namer has: `prefix` (default `/<kind>`), `experimental`, `transformers` (not supported).
 *
 * @since 0.1.0
 * @category schemas
 */
export const namerCommon = {
  prefix: Schema.optionalKey(PathFromString),
  experimental: Schema.optionalKey(Schema.Boolean),
  transformers: unsupported("namer transformers")
}

/**
 * `zkAddrs`: ZooKeeper servers, `[{host, port}]` (port default `2181`), at least one.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ZkAddrs = Schema.Array(Schema.Struct({ host: NonEmptyString, port: Port.pipe(withDefault(2181)) })).check(
  Schema.isMinLength(1)
)

/**
 * The label of a namer's metrics and logs: `#/<prefix>`, the prefix defaulting to the kind.
 *
 * @since 0.1.0
 * @category constructors
 */
export const label = (config: { readonly kind: string; readonly prefix?: Path.Path | undefined }): string =>
  Path.show(config.prefix ?? Path.make(config.kind)).replace(/^\//, "#/")
