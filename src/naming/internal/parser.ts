/**
 * The recursive-descent parser shared by `Path`, `Dentry`, `Dtab` and `NameTree`. It follows
 * Finagle's grammar: whitespace and `#` comments between tokens, `\xHH` escapes in labels, `*`
 * wildcards in prefixes, `&` binding tighter than `|`.
 *
 * Two limits keep hostile input (an `l5d-dtab` header, a fuzzed string) from exhausting the stack or
 * the heap: parentheses nest at most `maxDepth` levels and an input has at most `maxLength`
 * characters. Either is a `ParseError` naming the limit, never a `RangeError`: the nesting counter is
 * checked before each descent, so the limit holds whatever the stack size or JIT state.
 *
 * @internal
 */
import type { Dentry, Elem } from "../Dentry.js"
import type { NameTree, Weighted } from "../NameTree.js"
import { ParseError } from "../ParseError.js"
import type { Path } from "../Path.js"

/** @internal */
export const maxDepth = 256

/** @internal */
export const maxLength = 1_048_576

const showable = new Uint8Array(256)
for (const c of "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_:.#$%-") showable[c.charCodeAt(0)] = 1

/** @internal */
export const isShowable = (code: number): boolean => code < 256 && showable[code] === 1

const isWhitespace = (c: string): boolean => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f"
const isDigit = (c: string): boolean => c >= "0" && c <= "9"
const isHex = (c: string): boolean => isDigit(c) || (c >= "a" && c <= "f") || (c >= "A" && c <= "F")

class Parser {
  i = 0
  depth = 0
  constructor(readonly input: string) {}

  get atEnd(): boolean {
    return this.i >= this.input.length
  }
  get peek(): string {
    return this.input[this.i] ?? ""
  }

  fail(expected: string): never {
    const found = this.atEnd ? "end of input" : `'${this.peek}'`
    throw new ParseError({ input: this.input, position: this.i, expected, found })
  }

  limit(reason: string, position: number): never {
    throw new ParseError({ input: this.input, position, expected: "", found: "", reason })
  }

  eatWhitespace(): void {
    while (!this.atEnd) {
      const c = this.peek
      if (isWhitespace(c)) this.i++
      else if (c === "#") {
        while (!this.atEnd && this.peek !== "\n") this.i++
      } else return
    }
  }

  eat(token: string): void {
    if (this.input.startsWith(token, this.i)) this.i += token.length
    else this.fail(`'${token}'`)
  }

  maybeEat(c: string): boolean {
    if (this.peek === c) {
      this.i++
      return true
    }
    return false
  }

  isLabelStart(): boolean {
    const c = this.peek
    return c === "\\" || (c.length > 0 && isShowable(c.charCodeAt(0)))
  }

  label(): string {
    let out = ""
    for (;;) {
      const c = this.peek
      if (c === "\\") {
        this.i++
        this.eat("x")
        const h1 = this.peek
        if (!isHex(h1)) this.fail("hex char")
        this.i++
        const h2 = this.peek
        if (!isHex(h2)) this.fail("hex char")
        this.i++
        out += String.fromCharCode(parseInt(h1 + h2, 16))
      } else if (c.length > 0 && isShowable(c.charCodeAt(0))) {
        out += c
        this.i++
      } else break
    }
    if (out.length === 0) this.fail("label char")
    return out
  }

  path(): Path {
    this.eatWhitespace()
    this.eat("/")
    const labels: Array<string> = []
    if (!this.isLabelStart()) return { _tag: "Path", labels }
    for (;;) {
      labels.push(this.label())
      if (!this.maybeEat("/")) return { _tag: "Path", labels }
    }
  }

  prefix(): ReadonlyArray<Elem> {
    this.eatWhitespace()
    this.eat("/")
    const elems: Array<Elem> = []
    if (!this.isLabelStart() && this.peek !== "*") return elems
    for (;;) {
      if (this.maybeEat("*")) elems.push({ _tag: "Any" })
      else elems.push({ _tag: "Label", value: this.label() })
      if (!this.maybeEat("/")) return elems
    }
  }

  number(): number {
    const start = this.i
    let dot = false
    let digits = 0
    while (!this.atEnd) {
      const c = this.peek
      if (isDigit(c)) digits++
      else if (c === "." && !dot) dot = true
      else break
      this.i++
    }
    if (digits === 0) {
      this.i = start
      this.fail("weight")
    }
    const weight = Number(this.input.slice(start, this.i))
    if (!Number.isFinite(weight)) this.limit(`weight larger than ${Number.MAX_VALUE}`, start)
    return weight
  }

  simple(): NameTree<Path> {
    this.eatWhitespace()
    const c = this.peek
    if (c === "(") {
      if (this.depth >= maxDepth) this.limit(`name tree nested deeper than ${maxDepth} levels`, this.i)
      this.i++
      this.depth++
      const t = this.tree()
      this.eatWhitespace()
      this.eat(")")
      this.depth--
      return t
    }
    if (c === "!") {
      this.i++
      return { _tag: "Fail" }
    }
    if (c === "~") {
      this.i++
      return { _tag: "Neg" }
    }
    if (c === "$") {
      this.i++
      return { _tag: "Empty" }
    }
    if (c === "/") return { _tag: "Leaf", value: this.path() }
    return this.fail("'/', '!', '~', '$' or '('")
  }

  weighted(): Weighted<Path> {
    this.eatWhitespace()
    const c = this.peek
    if (isDigit(c) || c === ".") {
      const weight = this.number()
      this.eatWhitespace()
      this.eat("*")
      return { weight, tree: this.simple() }
    }
    return { weight: 1, tree: this.simple() }
  }

  tree1(): NameTree<Path> {
    const trees = [this.weighted()]
    for (;;) {
      this.eatWhitespace()
      if (!this.maybeEat("&")) break
      trees.push(this.weighted())
    }
    return trees.length === 1 ? trees[0]!.tree : { _tag: "Union", trees }
  }

  tree(): NameTree<Path> {
    const trees = [this.tree1()]
    for (;;) {
      this.eatWhitespace()
      if (!this.maybeEat("|")) break
      trees.push(this.tree1())
    }
    return trees.length === 1 ? trees[0]! : { _tag: "Alt", trees }
  }

  dentry(): Dentry {
    const prefix = this.prefix()
    this.eatWhitespace()
    this.eat("=>")
    const dst = this.tree()
    return { _tag: "Dentry", prefix, dst }
  }

  dentries(): Array<Dentry> {
    const out: Array<Dentry> = []
    this.eatWhitespace()
    while (!this.atEnd) {
      out.push(this.dentry())
      this.eatWhitespace()
      if (this.maybeEat(";")) {
        this.eatWhitespace()
        continue
      }
      if (!this.atEnd) this.fail("';'")
    }
    return out
  }

  end(): void {
    this.eatWhitespace()
    if (!this.atEnd) this.fail("end of input")
  }
}

/** @internal */
export const run = <A>(input: string, f: (p: Parser) => A): A => {
  const p = new Parser(input)
  if (input.length > maxLength) p.limit(`input longer than ${maxLength} characters`, maxLength)
  const out = f(p)
  p.end()
  return out
}

/** @internal */
export const parsePath = (input: string): Path => run(input, (p) => p.path())
/** @internal */
export const parseTree = (input: string): NameTree<Path> => run(input, (p) => p.tree())
/** @internal */
export const parseDentry = (input: string): Dentry => run(input, (p) => p.dentry())
/** @internal */
export const parseDentries = (input: string): Array<Dentry> => run(input, (p) => p.dentries())
