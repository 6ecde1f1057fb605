/**
 * The state of a live value that may not have answered yet or may have failed: Finagle's
 * `Activity.State`. Namer watches and bindings are streams of these states; the public `bind` and
 * `lookup` streams drop `Pending` and turn `Failed` into a stream failure.
 *
 * @since 0.1.0
 */

/**
 * Not answered yet.
 *
 * @since 0.1.0
 * @category model
 */
export interface Pending {
  readonly _tag: "Pending"
}

/**
 * Answered with a value.
 *
 * @since 0.1.0
 * @category model
 */
export interface Ok<A> {
  readonly _tag: "Ok"
  readonly value: A
  /** Set when the source failed after this answer: the answer is stale, this is why. */
  readonly stale?: string | undefined
}

/**
 * Failed (and never answered, or the failure is not masked by a previous answer).
 *
 * @since 0.1.0
 * @category model
 */
export interface Failed {
  readonly _tag: "Failed"
  readonly cause: string
}

/**
 * One state of a live value.
 *
 * @since 0.1.0
 * @category model
 */
export type State<A> = Pending | Ok<A> | Failed

/**
 * The pending state.
 *
 * @since 0.1.0
 * @category constructors
 */
export const pending: Pending = { _tag: "Pending" }

/**
 * An answer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const ok = <A>(value: A, stale?: string): Ok<A> =>
  stale === undefined ? { _tag: "Ok", value } : { _tag: "Ok", value, stale }

/**
 * A failure with a readable cause.
 *
 * @since 0.1.0
 * @category constructors
 */
export const failed = (cause: string): Failed => ({ _tag: "Failed", cause })

/**
 * Maps the value of an `Ok` state.
 *
 * @since 0.1.0
 * @category combinators
 */
export const map = <A, B>(self: State<A>, f: (a: A) => B): State<B> =>
  self._tag === "Ok" ? ok(f(self.value), self.stale) : self

/**
 * Equality of states given an equality of values (staleness is not compared).
 *
 * @since 0.1.0
 * @category equivalence
 */
export const equals = <A>(eq: (a: A, b: A) => boolean) => (x: State<A>, y: State<A>): boolean =>
  x._tag === "Ok"
    ? y._tag === "Ok" && eq(x.value, y.value)
    : x._tag === "Failed"
    ? y._tag === "Failed" && x.cause === y.cause
    : y._tag === "Pending"
