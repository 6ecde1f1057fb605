/**
 * The error every naming parser (`Path`, `Dtab`, `Dentry`, `NameTree`) returns: what was
 * expected, what was found, and where, with the input shown and the offending character in
 * brackets, as Finagle prints it: `'/' expected but 'i' found at '[i]nvalid-param'`. An input over
 * one of the parsers' limits (nesting depth, length) says which, and where:
 * `name tree nested deeper than 256 levels at offset 256`.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * A syntax error in a path, dentry, dtab or name tree. `position` is the 0-based offset of the
 * offending character (equal to the input length at end of input). `reason`, when present, names
 * the limit the input went over (then `expected` and `found` are empty).
 *
 * @since 0.1.0
 * @category errors
 */
export class ParseError extends Data.TaggedError("NamingParseError")<{
  readonly input: string
  readonly position: number
  readonly expected: string
  readonly found: string
  readonly reason?: string | undefined
}> {
  /** Never retryable: the same text fails the same way. */
  readonly retryable = false
  override get message(): string {
    if (this.reason !== undefined) return `${this.reason} at offset ${this.position}`
    return `${this.expected} expected but ${this.found} found at '${marked(this.input, this.position)}'`
  }
}

const context = 80

/**
 * The input with the character at `position` wrapped in brackets (`[]` at end of input). Inputs
 * longer than 161 characters are cut to 80 characters either side of `position`, the cuts shown as `…`.
 *
 * @since 0.1.0
 * @category utils
 */
export const marked = (input: string, position: number): string => {
  const from = input.length > 2 * context + 1 ? Math.max(0, position - context) : 0
  const to = input.length > 2 * context + 1 ? Math.min(input.length, position + 1 + context) : input.length
  return `${from > 0 ? "…" : ""}${input.slice(from, position)}[${input.slice(position, position + 1)}]${
    input.slice(position + 1, to)
  }${to < input.length ? "…" : ""}`
}

/**
 * Whether a value is a `ParseError`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isParseError = (u: unknown): u is ParseError => u instanceof ParseError
