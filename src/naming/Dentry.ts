/**
 * A `Dentry` is one delegation rule of a dtab: `prefix => tree`. The prefix is a path whose
 * elements may be `*` (matching any one label); the tree says what a matching name is rewritten to.
 * Shown as Finagle does, with no spaces around `=>`: `/svc/*=>/#/io.l5d.fs | ~`.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Parser from "./internal/parser.js"
import * as NameTree from "./NameTree.js"
import { isParseError, type ParseError } from "./ParseError.js"
import * as Path from "./Path.js"

/**
 * One prefix element: a label, or the wildcard `*`.
 *
 * @since 0.1.0
 * @category model
 */
export type Elem = { readonly _tag: "Label"; readonly value: string } | { readonly _tag: "Any" }

/**
 * A delegation rule.
 *
 * @since 0.1.0
 * @category model
 */
export interface Dentry {
  readonly _tag: "Dentry"
  readonly prefix: ReadonlyArray<Elem>
  readonly dst: NameTree.NameTree<Path.Path>
}

/**
 * A dentry from a prefix (a `Path`, or elements) and a destination tree.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (prefix: Path.Path | ReadonlyArray<Elem>, dst: NameTree.NameTree<Path.Path>): Dentry => ({
  _tag: "Dentry",
  prefix: Path.isPath(prefix) ? prefix.labels.map((value) => ({ _tag: "Label", value })) : prefix,
  dst
})

/**
 * Parses `prefix => tree`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parse = (text: string): Result.Result<Dentry, ParseError> => {
  try {
    return Result.succeed(Parser.parseDentry(text))
  } catch (e) {
    if (isParseError(e)) return Result.fail(e)
    throw e
  }
}

/**
 * Parses a dentry, throwing the `ParseError`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseUnsafe = (text: string): Dentry => Parser.parseDentry(text)

/**
 * Renders the prefix: `/a/*` (`/` when empty).
 *
 * @since 0.1.0
 * @category rendering
 */
export const showPrefix = (prefix: ReadonlyArray<Elem>): string =>
  prefix.length === 0 ? "/" : prefix.map((e) => e._tag === "Any" ? "/*" : "/" + Path.showLabel(e.value)).join("")

/**
 * Renders `prefix=>tree`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const show = (self: Dentry): string => `${showPrefix(self.prefix)}=>${NameTree.show(self.dst)}`

/**
 * How many leading labels of `path` the prefix matches, or `-1` when it does not match.
 *
 * @since 0.1.0
 * @category matching
 */
export const matchLength = (self: Dentry, path: Path.Path): number => {
  const prefix = self.prefix
  if (prefix.length > path.labels.length) return -1
  for (let i = 0; i < prefix.length; i++) {
    const e = prefix[i]!
    if (e._tag === "Label" && e.value !== path.labels[i]) return -1
  }
  return prefix.length
}

/**
 * Structural equality.
 *
 * @since 0.1.0
 * @category equivalence
 */
export const equals = (a: Dentry, b: Dentry): boolean =>
  a.prefix.length === b.prefix.length &&
  a.prefix.every((e, i) => {
    const f = b.prefix[i]!
    return e._tag === f._tag && (e._tag === "Any" || e.value === (f as { value: string }).value)
  }) &&
  NameTree.equals(a.dst, b.dst)
