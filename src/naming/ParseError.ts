/**
 * The error every naming parser (`Path`, `Dtab`, `Dentry`, `NameTree`) returns: what was
 * expected, what was found, and where, with the input shown and the offending character in
 * brackets, as Finagle prints it: `'/' expected but 'i' found at '[i]nvalid-param'`.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * A syntax error in a path, dentry, dtab or name tree. `position` is the 0-based offset of the
 * offending character (equal to the input length at end of input).
 *
 * @since 0.1.0
 * @category errors
 */
export class ParseError extends Data.TaggedError("NamingParseError")<{
  readonly input: string
  readonly position: number
  readonly expected: string
  readonly found: string
}> {
  /** Never retryable: the same text fails the same way. */
  readonly retryable = false
  override get message(): string {
    return `${this.expected} expected but ${this.found} found at '${marked(this.input, this.position)}'`
  }
}

/**
 * The input with the character at `position` wrapped in brackets (`[]` at end of input).
 *
 * @since 0.1.0
 * @category utils
 */
export const marked = (input: string, position: number): string =>
  `${input.slice(0, position)}[${input.slice(position, position + 1)}]${input.slice(position + 1)}`

/**
 * Whether a value is a `ParseError`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isParseError = (u: unknown): u is ParseError => u instanceof ParseError
