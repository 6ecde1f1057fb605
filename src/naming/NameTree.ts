/**
 * A `NameTree` is what a dtab rewrites a name into and what binding produces: leaves (paths, or
 * bound names), alternatives `a | b` (use the first that is not negative), weighted unions
 * `2 * a & b` (split traffic), and the three constants `~` (Neg: no such name, fall back), `!`
 * (Fail: stop, do not fall back) and `$` (Empty: the name exists but has no addresses).
 *
 * The text form is Finagle's: `&` binds tighter than `|`, weights default to `1` and print with two
 * decimals when not `1` (`0.30*` before a member of weight 0.3) and that is exact; other weights print
 * as their shortest decimal without exponent (`0.001*`, `100000000000000000000000*`), so every
 * finite non-negative weight reads back as the same number. Parentheses nest at most `maxDepth`
 * levels.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Parser from "./internal/parser.js"
import { isParseError, type ParseError } from "./ParseError.js"
import * as Path from "./Path.js"

/**
 * How deep parentheses may nest in a name tree's text: `256`. Deeper input is a `ParseError`
 * (`name tree nested deeper than 256 levels at offset N`), so parsing, printing and binding a
 * parsed tree stay far inside the stack of a fresh process.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxDepth: number = Parser.maxDepth

/**
 * A leaf holding a value (a `Path` in dtabs, a bound name after binding).
 *
 * @since 0.1.0
 * @category model
 */
export interface Leaf<A> {
  readonly _tag: "Leaf"
  readonly value: A
}

/**
 * Alternation: the first child that does not bind to `Neg`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Alt<A> {
  readonly _tag: "Alt"
  readonly trees: ReadonlyArray<NameTree<A>>
}

/**
 * One weighted member of a union.
 *
 * @since 0.1.0
 * @category model
 */
export interface Weighted<A> {
  readonly weight: number
  readonly tree: NameTree<A>
}

/**
 * A weighted split between children.
 *
 * @since 0.1.0
 * @category model
 */
export interface Union<A> {
  readonly _tag: "Union"
  readonly trees: ReadonlyArray<Weighted<A>>
}

/**
 * No such name: alternation falls back past it.
 *
 * @since 0.1.0
 * @category model
 */
export interface Neg {
  readonly _tag: "Neg"
}

/**
 * A failure: alternation stops at it.
 *
 * @since 0.1.0
 * @category model
 */
export interface Fail {
  readonly _tag: "Fail"
}

/**
 * The name exists with no addresses: alternation stops at it.
 *
 * @since 0.1.0
 * @category model
 */
export interface Empty {
  readonly _tag: "Empty"
}

/**
 * A name tree over leaf values `A`.
 *
 * @since 0.1.0
 * @category model
 */
export type NameTree<A> = Leaf<A> | Alt<A> | Union<A> | Neg | Fail | Empty

/**
 * The `~` constant.
 *
 * @since 0.1.0
 * @category constructors
 */
export const neg: Neg = { _tag: "Neg" }

/**
 * The `!` constant.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fail: Fail = { _tag: "Fail" }

/**
 * The `$` constant.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: Empty = { _tag: "Empty" }

/**
 * A leaf.
 *
 * @since 0.1.0
 * @category constructors
 */
export const leaf = <A>(value: A): Leaf<A> => ({ _tag: "Leaf", value })

/**
 * An alternation of the given trees (kept as given, even with fewer than two children).
 *
 * @since 0.1.0
 * @category constructors
 */
export const alt = <A>(...trees: ReadonlyArray<NameTree<A>>): Alt<A> => ({ _tag: "Alt", trees })

/**
 * A union of weighted trees.
 *
 * @since 0.1.0
 * @category constructors
 */
export const union = <A>(...trees: ReadonlyArray<Weighted<A>>): Union<A> => ({ _tag: "Union", trees })

/**
 * A weighted member; weight defaults to `1`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const weighted = <A>(tree: NameTree<A>, weight = 1): Weighted<A> => ({ weight, tree })

/**
 * Parses a name tree over paths, e.g. `/a | 3 * /b & /c | ~`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parse = (text: string): Result.Result<NameTree<Path.Path>, ParseError> => {
  try {
    return Result.succeed(Parser.parseTree(text))
  } catch (e) {
    if (isParseError(e)) return Result.fail(e)
    throw e
  }
}

/**
 * Parses a name tree, throwing the `ParseError`. For literals in code and tests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseUnsafe = (text: string): NameTree<Path.Path> => Parser.parseTree(text)

/**
 * Shorthand for `parseUnsafe`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const read = parseUnsafe

/**
 * Maps every leaf value.
 *
 * @since 0.1.0
 * @category combinators
 */
export const map = <A, B>(self: NameTree<A>, f: (a: A) => B): NameTree<B> => {
  switch (self._tag) {
    case "Leaf":
      return leaf(f(self.value))
    case "Alt":
      return { _tag: "Alt", trees: self.trees.map((t) => map(t, f)) }
    case "Union":
      return { _tag: "Union", trees: self.trees.map((w) => ({ weight: w.weight, tree: map(w.tree, f) })) }
    default:
      return self
  }
}

/**
 * Every leaf value, left to right.
 *
 * @since 0.1.0
 * @category getters
 */
export const leaves = <A>(self: NameTree<A>): Array<A> => {
  const out: Array<A> = []
  const go = (t: NameTree<A>): void => {
    if (t._tag === "Leaf") out.push(t.value)
    else if (t._tag === "Alt") t.trees.forEach(go)
    else if (t._tag === "Union") t.trees.forEach((w) => go(w.tree))
  }
  go(self)
  return out
}

/**
 * A number in positional notation (no exponent), with the digits of its shortest round-trip form:
 * `1e+23` is `100000000000000000000000`, `5e-7` is `0.0000005`. Reading it back gives the same
 * number. Non-finite numbers are shown as `String` shows them.
 *
 * @since 0.1.0
 * @category rendering
 */
export const showDecimal = (n: number): string => {
  const s = String(n)
  const e = s.indexOf("e")
  if (e < 0) return s
  const sign = s.startsWith("-") ? "-" : ""
  const mantissa = s.slice(sign.length, e)
  const dot = mantissa.indexOf(".")
  const digits = mantissa.replace(".", "")
  const intLength = (dot < 0 ? mantissa.length : dot) + Number(s.slice(e + 1))
  if (intLength <= 0) return `${sign}0.${"0".repeat(-intLength)}${digits}`
  if (intLength >= digits.length) return sign + digits + "0".repeat(intLength - digits.length)
  return `${sign}${digits.slice(0, intLength)}.${digits.slice(intLength)}`
}

/**
 * Renders a weight: nothing for `1`, two decimals and `*` when two decimals are exact (`0.30*`, as
 * Finagle prints it), otherwise `showDecimal` and `*` (`0.001*`), so `parse(show(t))` gives back
 * every finite non-negative weight.
 *
 * @since 0.1.0
 * @category rendering
 */
export const showWeight = (weight: number): string => {
  if (weight === 1) return ""
  const fixed = weight.toFixed(2)
  return (Number(fixed) === weight && !fixed.includes("e") ? fixed : showDecimal(weight)) + "*"
}

/**
 * Renders a tree with a custom leaf renderer (Finagle's format).
 *
 * @since 0.1.0
 * @category rendering
 */
export const showWith = <A>(self: NameTree<A>, showLeaf: (a: A) => string): string => {
  const go = (t: NameTree<A>, ctx: "top" | "alt" | "union"): string => {
    switch (t._tag) {
      case "Leaf":
        return showLeaf(t.value)
      case "Neg":
        return "~"
      case "Fail":
        return "!"
      case "Empty":
        return "$"
      case "Alt": {
        const s = t.trees.map((c) => go(c, "alt")).join(" | ")
        return ctx === "top" ? s : `(${s})`
      }
      case "Union": {
        const s = t.trees.map((w) => showWeight(w.weight) + go(w.tree, "union")).join(" & ")
        return ctx === "union" ? `(${s})` : s
      }
    }
  }
  return go(self, "top")
}

/**
 * Renders a tree of paths (Finagle's format, weights as `0.30*`). Leaves that are not paths
 * are rendered with `String`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const show = <A>(self: NameTree<A>): string => showWith(self, (a) => Path.isPath(a) ? Path.show(a) : String(a))

/**
 * Simplifies a tree without changing its meaning: `Alt()` and `Union()` become `Neg`; one child
 * becomes that child (a union's weight is dropped); `Neg` children are dropped from both; an
 * alternation is cut after its first `Fail`; `Fail` children are dropped from unions.
 *
 * @since 0.1.0
 * @category combinators
 */
export const simplify = <A>(self: NameTree<A>): NameTree<A> => {
  switch (self._tag) {
    case "Alt": {
      const kept: Array<NameTree<A>> = []
      for (const child of self.trees) {
        const s = simplify(child)
        if (s._tag === "Neg") continue
        kept.push(s)
        if (s._tag === "Fail") break
      }
      return kept.length === 0 ? neg : kept.length === 1 ? kept[0]! : { _tag: "Alt", trees: kept }
    }
    case "Union": {
      const kept: Array<Weighted<A>> = []
      for (const w of self.trees) {
        const s = simplify(w.tree)
        if (s._tag === "Neg" || s._tag === "Fail") continue
        kept.push({ weight: w.weight, tree: s })
      }
      return kept.length === 0 ? neg : kept.length === 1 ? kept[0]!.tree : { _tag: "Union", trees: kept }
    }
    default:
      return self
  }
}

/**
 * Static evaluation to the set of leaves traffic could reach: `Alt` takes its first child that is
 * not `Neg` (a `Fail` stops it), `Union` joins its children that are neither `Neg` nor `Fail`,
 * `Empty` is the empty set. `undefined` when the whole tree is `Neg` or `Fail`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const evaluate = <A>(self: NameTree<A>): ReadonlyArray<A> | undefined => {
  switch (self._tag) {
    case "Neg":
    case "Fail":
      return undefined
    case "Empty":
      return []
    case "Leaf":
      return [self.value]
    case "Alt": {
      for (const child of self.trees) {
        if (child._tag === "Fail") return undefined
        const r = evaluate(child)
        if (r !== undefined) return r
        if (simplify(child)._tag === "Fail") return undefined
      }
      return undefined
    }
    case "Union": {
      let out: Array<A> | undefined
      for (const w of self.trees) {
        const r = evaluate(w.tree)
        if (r === undefined) continue
        out = out === undefined ? [...r] : out.concat(r.filter((x) => !out!.includes(x)))
      }
      return out
    }
  }
}

/**
 * Alias of `evaluate` (Finagle's `eval`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const eval_ = evaluate

/**
 * Structural equality, with a leaf equivalence (defaults to `===`, or `Path.equals` for paths).
 *
 * @since 0.1.0
 * @category equivalence
 */
export const equals = <A>(a: NameTree<A>, b: NameTree<A>, eq?: (x: A, y: A) => boolean): boolean => {
  const leafEq = eq ?? ((x: A, y: A) => x === y || (Path.isPath(x) && Path.isPath(y) && Path.equals(x, y)))
  const go = (x: NameTree<A>, y: NameTree<A>): boolean => {
    if (x === y) return true
    if (x._tag !== y._tag) return false
    switch (x._tag) {
      case "Leaf":
        return leafEq(x.value, (y as Leaf<A>).value)
      case "Alt": {
        const ys = (y as Alt<A>).trees
        return x.trees.length === ys.length && x.trees.every((t, i) => go(t, ys[i]!))
      }
      case "Union": {
        const ys = (y as Union<A>).trees
        return x.trees.length === ys.length &&
          x.trees.every((w, i) => w.weight === ys[i]!.weight && go(w.tree, ys[i]!.tree))
      }
      default:
        return true
    }
  }
  return go(a, b)
}
