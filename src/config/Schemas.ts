/**
 * The building blocks of weir's config schemas, in linkerd's units: milliseconds and seconds
 * decoded to `Duration`s, ports, non-empty strings, dtab-syntax paths and dtabs, and `withDefault`
 * (a key that may be absent, with the default documented next to it). Plugin files and the proxy's
 * file schema are written with them.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import * as SchemaTransformation from "effect/SchemaTransformation"
import * as Dtab from "../naming/Dtab.js"
import * as Path from "../naming/Path.js"

/**
 * Makes a key optional: when it is absent, `value` (in the encoded form, as written in YAML) is
 * decoded in its place.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withDefault = <S extends Schema.Top>(value: S["Encoded"]) => (self: S) =>
  Schema.withDecodingDefaultKey<S>(Effect.succeed(value))(self)

/**
 * A number of milliseconds (finite, `>= 0`, or `> 0` when `positive`), decoded to a `Duration`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Millis = (options?: { readonly positive?: boolean | undefined }) =>
  Schema.Finite.check(
    options?.positive === true ? Schema.isGreaterThan(0) : Schema.isGreaterThanOrEqualTo(0)
  ).pipe(Schema.decodeTo(Schema.Duration, SchemaTransformation.durationFromMillis))

/**
 * A whole number of seconds in `[minimum, maximum]`, decoded to a `Duration`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Seconds = (minimum: number, maximum: number) =>
  Schema.Int.check(Schema.isBetween({ minimum, maximum })).pipe(
    Schema.decodeTo(
      Schema.Duration,
      SchemaTransformation.transform<Duration.Duration, number>({
        decode: (s) => Duration.seconds(s),
        encode: (d) => Duration.toSeconds(d)
      })
    )
  )

/**
 * An integer `>= 0`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const NonNegativeInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * An integer `>= 1`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PositiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

/**
 * A finite number in `[0, 1]`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Probability = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))

/**
 * A finite number `> 0`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PositiveFinite = Schema.Finite.check(Schema.isGreaterThan(0))

/**
 * A TCP port, `0` … `65535`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Port = Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 65535 }))

/**
 * A string of at least one character.
 *
 * @since 0.1.0
 * @category schemas
 */
export const NonEmptyString = Schema.String.check(Schema.isMinLength(1))

/**
 * A key that linkerd documents but this version of weir does not implement: decoding it fails with
 * a message saying so, instead of ignoring it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const unsupported = (what: string) =>
  Schema.optionalKey(
    Schema.Unknown.check(
      Schema.makeFilter(() => `${what} is not supported by this version of weir`)
    )
  )

/**
 * A value written as text in the config, decoded with its own parser: `parse` gives the value or
 * the message of a located problem (`prefix` goes in front of it), `show` writes it back.
 *
 * @since 0.1.0
 * @category schemas
 */
export const fromString = <A>(options: {
  readonly is: (u: unknown) => u is A
  readonly expected: string
  readonly parse: (s: string) => Result.Result<A, string>
  readonly show: (a: A) => string
}) =>
  Schema.String.pipe(
    Schema.decodeTo(
      Schema.declare(options.is, { expected: options.expected }),
      SchemaTransformation.transformEffect({
        decode: (s, parseOptions) => {
          const r = options.parse(s)
          return Result.isSuccess(r)
            ? Effect.succeed(r.success)
            : Effect.fail(new SchemaIssue.InvalidValue({ message: r.failure }, s, parseOptions))
        },
        encode: (a) => Effect.succeed(options.show(a))
      })
    )
  )

/**
 * A path in dtab syntax (`/svc/books`), decoded to a `Path`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PathFromString = fromString({
  is: Path.isPath,
  expected: "a path",
  parse: (s) => Result.mapError(Path.parse(s), (e) => `invalid path: ${e.message}`),
  show: Path.show
})

/**
 * A dtab in linkerd syntax (`/svc => /#/io.l5d.fs;`), decoded to a `Dtab`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DtabFromString = fromString({
  is: Dtab.isDtab,
  expected: "a dtab",
  parse: (s) => Result.mapError(Dtab.parse(s), (e) => `invalid dtab: ${e.message}`),
  show: Dtab.show
})
