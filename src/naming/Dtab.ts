/**
 * A `Dtab` (delegation table) is an ordered list of dentries that rewrites logical names. Looking
 * up a path collects every dentry whose prefix matches, **last first**, and rewrites each into its
 * tree with the unmatched suffix appended; several matches become an alternation, so later dentries
 * take precedence and earlier ones are fallbacks.
 *
 * Text form: `dentry (';' dentry)* ';'?`, whitespace and `#` comments allowed between tokens; shown
 * as Finagle prints it, `/a=>/b;/c=>/d`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Result from "effect/Result"
import * as Dentry from "./Dentry.js"
import * as Parser from "./internal/parser.js"
import * as NameTree from "./NameTree.js"
import { isParseError, type ParseError } from "./ParseError.js"
import * as Path from "./Path.js"

/**
 * A delegation table.
 *
 * @since 0.1.0
 * @category model
 */
export interface Dtab {
  readonly _tag: "Dtab"
  readonly dentries: ReadonlyArray<Dentry.Dentry>
}

/**
 * Whether a value is a `Dtab`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isDtab = (u: unknown): u is Dtab =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "Dtab"

/**
 * The empty dtab.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: Dtab = { _tag: "Dtab", dentries: [] }

/**
 * A dtab from dentries.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (dentries: ReadonlyArray<Dentry.Dentry>): Dtab =>
  dentries.length === 0 ? empty : { _tag: "Dtab", dentries }

/**
 * The longest text `parse` (and every other naming parser) accepts: `1048576` characters. Longer
 * input is a `ParseError` naming the limit. Name trees inside also nest at most `NameTree.maxDepth`
 * levels.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxLength: number = Parser.maxLength

/**
 * Parses a dtab. The empty string is the empty dtab; a trailing `;` is allowed. Input over a limit
 * (`maxLength`, `NameTree.maxDepth`) is a `ParseError` naming it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parse = (text: string): Result.Result<Dtab, ParseError> => {
  try {
    return Result.succeed(make(Parser.parseDentries(text)))
  } catch (e) {
    if (isParseError(e)) return Result.fail(e)
    throw e
  }
}

/**
 * Parses a dtab, throwing the `ParseError`. For literals in code and tests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseUnsafe = (text: string): Dtab => make(Parser.parseDentries(text))

/**
 * Shorthand for `parseUnsafe`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const read = parseUnsafe

const shown = new WeakMap<Dtab, string>()

/**
 * Renders the dtab: dentries joined by `;`, no spaces, no trailing `;`. Memoized per value for
 * dtabs of more than four dentries (a router's dtab is shown once).
 *
 * @since 0.1.0
 * @category rendering
 */
export const show = (self: Dtab): string => {
  if (self.dentries.length <= 4) return self.dentries.map(Dentry.show).join(";")
  let s = shown.get(self)
  if (s === undefined) {
    s = self.dentries.map(Dentry.show).join(";")
    shown.set(self, s)
  }
  return s
}

/**
 * `self` followed by `that` (so `that`'s dentries take precedence).
 *
 * @since 0.1.0
 * @category combinators
 */
export const concat = (self: Dtab, that: Dtab): Dtab =>
  that.dentries.length === 0
    ? self
    : self.dentries.length === 0
    ? that
    : { _tag: "Dtab", dentries: [...self.dentries, ...that.dentries] }

/**
 * Appends one dentry.
 *
 * @since 0.1.0
 * @category combinators
 */
export const append = (self: Dtab, dentry: Dentry.Dentry): Dtab => make([...self.dentries, dentry])

/**
 * One rewrite step: every matching dentry, last first, with the unmatched suffix of `path`
 * appended to each leaf of its tree. No match is `Neg`, one match its tree, several an `Alt`.
 *
 * @since 0.1.0
 * @category lookup
 */
export const lookup = (self: Dtab, path: Path.Path): NameTree.NameTree<Path.Path> => {
  const matches: Array<NameTree.NameTree<Path.Path>> = []
  for (let i = self.dentries.length - 1; i >= 0; i--) {
    const d = self.dentries[i]!
    const n = Dentry.matchLength(d, path)
    if (n < 0) continue
    const suffix = Path.drop(path, n)
    matches.push(suffix.labels.length === 0 ? d.dst : NameTree.map(d.dst, (p) => Path.concat(p, suffix)))
  }
  return matches.length === 0 ? NameTree.neg : matches.length === 1 ? matches[0]! : NameTree.alt(...matches)
}

/**
 * Like `lookup`, but keeps which dentry produced each alternative (for the delegator).
 *
 * @since 0.1.0
 * @category lookup
 */
export const lookupWithDentries = (
  self: Dtab,
  path: Path.Path
): Array<{ readonly dentry: Dentry.Dentry; readonly tree: NameTree.NameTree<Path.Path> }> => {
  const out: Array<{ readonly dentry: Dentry.Dentry; readonly tree: NameTree.NameTree<Path.Path> }> = []
  for (let i = self.dentries.length - 1; i >= 0; i--) {
    const d = self.dentries[i]!
    const n = Dentry.matchLength(d, path)
    if (n < 0) continue
    const suffix = Path.drop(path, n)
    out.push({
      dentry: d,
      tree: suffix.labels.length === 0 ? d.dst : NameTree.map(d.dst, (p) => Path.concat(p, suffix))
    })
  }
  return out
}

/**
 * Structural equality (same dentries in the same order).
 *
 * @since 0.1.0
 * @category equivalence
 */
export const equals = (a: Dtab, b: Dtab): boolean =>
  a === b || (a.dentries.length === b.dentries.length && a.dentries.every((d, i) => Dentry.equals(d, b.dentries[i]!)))

/**
 * The request-scoped local dtab (Finagle's `Dtab.local`): the `l5d-ctx-dtab` and `l5d-dtab` entries
 * of the request being served, appended after the router's dtab when binding. Defaults to empty.
 *
 * @since 0.1.0
 * @category params
 */
export const Local = Context.Reference<Dtab>("weir/naming/Dtab/Local", { defaultValue: () => empty })

/**
 * Runs `effect` with `dtab` as the local dtab (replacing the current one).
 *
 * @since 0.1.0
 * @category params
 */
export const withLocalDtab: {
  (dtab: Dtab): <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(effect: Effect.Effect<A, E, R>, dtab: Dtab): Effect.Effect<A, E, R>
} = dual(
  2,
  <A, E, R>(effect: Effect.Effect<A, E, R>, dtab: Dtab): Effect.Effect<A, E, R> =>
    Effect.provideService(effect, Local, dtab)
)

/**
 * The current local dtab.
 *
 * @since 0.1.0
 * @category params
 */
export const local: Effect.Effect<Dtab> = Effect.service(Local)
