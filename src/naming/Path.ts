/**
 * A `Path` is a logical name: a sequence of labels, written `/a/b/c` (the empty path is `/`).
 * Labels are byte strings (each character a byte, 0–255): the characters `0-9 A-Z a-z _ : . # $ % -`
 * are written as they are, any byte may be written `\xHH`. A label with a byte outside that set is
 * shown with every byte escaped (`/\x61\x20\x62` for the label `a b`), as Finagle does.
 *
 * Paths under `/$/` are system names, `/#/` configured-namer names, `/%/` transformer ids.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Parser from "./internal/parser.js"
import { isParseError, type ParseError } from "./ParseError.js"

/**
 * A path: its labels, outermost first.
 *
 * @since 0.1.0
 * @category model
 */
export interface Path {
  readonly _tag: "Path"
  readonly labels: ReadonlyArray<string>
}

/**
 * Whether a value is a `Path`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isPath = (u: unknown): u is Path =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "Path" &&
  Array.isArray((u as { labels?: unknown }).labels)

/**
 * The empty path `/`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: Path = { _tag: "Path", labels: [] }

/**
 * A path from its labels: `make("svc", "users")` is `/svc/users`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (...labels: ReadonlyArray<string>): Path => ({ _tag: "Path", labels })

/**
 * A path from an array of labels.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromLabels = (labels: ReadonlyArray<string>): Path => ({ _tag: "Path", labels })

/**
 * Parses `/a/b` (whitespace around is skipped). A trailing slash, an empty label or a character
 * outside the label set is a `ParseError` with the position marked.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parse = (text: string): Result.Result<Path, ParseError> => {
  try {
    return Result.succeed(Parser.parsePath(text))
  } catch (e) {
    if (isParseError(e)) return Result.fail(e)
    throw e
  }
}

/**
 * Parses a path, throwing the `ParseError` on bad input. For literals in code and tests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseUnsafe = (text: string): Path => Parser.parsePath(text)

/**
 * Shorthand for `parseUnsafe`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const read = parseUnsafe

const hex = (n: number) => (n < 16 ? "\\x0" : "\\x") + n.toString(16)

/**
 * Renders one label: raw if every byte is showable, otherwise every byte as `\xhh`. Characters
 * above `\xff` are escaped as their UTF-8 bytes.
 *
 * @since 0.1.0
 * @category rendering
 */
export const showLabel = (label: string): string => {
  let plain = label.length > 0
  for (let i = 0; i < label.length; i++) {
    if (!Parser.isShowable(label.charCodeAt(i))) {
      plain = false
      break
    }
  }
  if (plain) return label
  let out = ""
  for (let i = 0; i < label.length; i++) {
    const code = label.charCodeAt(i)
    if (code < 256) out += hex(code)
    else for (const b of Buffer.from(label[i]!, "utf8")) out += hex(b)
  }
  return out
}

/**
 * Renders a path: `/a/b`, or `/` for the empty path.
 *
 * @since 0.1.0
 * @category rendering
 */
export const show = (self: Path): string => {
  const labels = self.labels
  if (labels.length === 0) return "/"
  let out = ""
  for (let i = 0; i < labels.length; i++) out += "/" + showLabel(labels[i]!)
  return out
}

/**
 * Number of labels.
 *
 * @since 0.1.0
 * @category getters
 */
export const size = (self: Path): number => self.labels.length

/**
 * Whether the path has no labels.
 *
 * @since 0.1.0
 * @category getters
 */
export const isEmpty = (self: Path): boolean => self.labels.length === 0

/**
 * Whether `self` begins with every label of `prefix`.
 *
 * @since 0.1.0
 * @category predicates
 */
export const startsWith = (self: Path, prefix: Path): boolean => {
  if (prefix.labels.length > self.labels.length) return false
  for (let i = 0; i < prefix.labels.length; i++) if (self.labels[i] !== prefix.labels[i]) return false
  return true
}

/**
 * The path without its first `n` labels.
 *
 * @since 0.1.0
 * @category combinators
 */
export const drop = (self: Path, n: number): Path => n <= 0 ? self : fromLabels(self.labels.slice(n))

/**
 * The first `n` labels.
 *
 * @since 0.1.0
 * @category combinators
 */
export const take = (self: Path, n: number): Path =>
  n >= self.labels.length ? self : fromLabels(self.labels.slice(0, Math.max(0, n)))

/**
 * `self` followed by `that`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const concat = (self: Path, that: Path): Path =>
  that.labels.length === 0 ? self : self.labels.length === 0 ? that : fromLabels([...self.labels, ...that.labels])

/**
 * Structural equality.
 *
 * @since 0.1.0
 * @category equivalence
 */
export const equals = (a: Path, b: Path): boolean => {
  if (a === b) return true
  if (a.labels.length !== b.labels.length) return false
  for (let i = 0; i < a.labels.length; i++) if (a.labels[i] !== b.labels[i]) return false
  return true
}
