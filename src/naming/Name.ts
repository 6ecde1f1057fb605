/**
 * A `Name` is a leaf of a name tree: either a `Path` still to be resolved, or a `Bound` name — the
 * result of a namer: an `id` (the client identity, e.g. `/#/io.l5d.fs/users`), a live stream of its
 * `Addr`, and the `residual` path the namer did not consume.
 *
 * A consumer turns a bound name into what a load balancer wants with `addresses`:
 * `Stream<ReadonlyArray<Address>>`, emitting each new address set.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import type * as Address from "../Address.js"
import * as Addr from "./Addr.js"
import * as Path from "./Path.js"

/**
 * A bound name.
 *
 * @since 0.1.0
 * @category model
 */
export interface Bound {
  readonly _tag: "Bound"
  /** The client identity: a path (`/$/inet/127.0.0.1/8080`) or any string. */
  readonly id: Path.Path | string
  /** Live address states; emits the current state first. Never fails. */
  readonly addr: Stream.Stream<Addr.Addr>
  /** What the namer did not consume; `/` when nothing is left. */
  readonly residual: Path.Path
}

/**
 * A name: an unresolved path or a bound name.
 *
 * @since 0.1.0
 * @category model
 */
export type Name = Path.Path | Bound

/**
 * Whether a name is bound.
 *
 * @since 0.1.0
 * @category guards
 */
export const isBound = (u: Name): u is Bound => u._tag === "Bound"

/**
 * A bound name. Residual defaults to `/`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const bound = (
  id: Path.Path | string,
  addr: Stream.Stream<Addr.Addr>,
  residual: Path.Path = Path.empty
): Bound => ({
  _tag: "Bound",
  id,
  addr,
  residual
})

/**
 * A bound name whose address state never changes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const boundConstant = (id: Path.Path | string, addr: Addr.Addr, residual: Path.Path = Path.empty): Bound =>
  bound(id, constant(addr), residual)

/**
 * A stream that emits `value` and then stays open (a live value that never changes).
 *
 * @since 0.1.0
 * @category constructors
 */
export const constant = <A>(value: A): Stream.Stream<A> => Stream.concat(Stream.succeed(value), Stream.never)

/**
 * The id as a string (a path id is shown).
 *
 * @since 0.1.0
 * @category getters
 */
export const idString = (self: Bound): string => typeof self.id === "string" ? self.id : Path.show(self.id)

/**
 * Renders a name: a path, or its id for a bound name.
 *
 * @since 0.1.0
 * @category rendering
 */
export const show = (self: Name): string => self._tag === "Path" ? Path.show(self) : idString(self)

/**
 * Two names are the same when they are equal paths, or bound with the same id and residual.
 *
 * @since 0.1.0
 * @category equivalence
 */
export const equals = (a: Name, b: Name): boolean =>
  a === b ||
  (a._tag === "Path"
    ? b._tag === "Path" && Path.equals(a, b)
    : b._tag === "Bound" && idString(a) === idString(b) && Path.equals(a.residual, b.residual))

/**
 * The live address sets of a bound name, for a load balancer: each `Bound` state's addresses,
 * the empty set on `Neg`; `Pending` and `Failed` keep the previous set (stale while error).
 * Consecutive equal sets are emitted once.
 *
 * @since 0.1.0
 * @category getters
 */
export const addresses = (self: Bound): Stream.Stream<ReadonlyArray<Address.Address>> =>
  self.addr.pipe(
    Stream.filterMap((a) => {
      const xs = Addr.addresses(a)
      return xs === undefined ? Result.failVoid : Result.succeed(xs)
    }),
    Stream.changesWith((x, y) => x.length === y.length && Addr.equals(Addr.bound(x), Addr.bound(y)))
  )

/**
 * Records a union weight on the bound name's address states (see `Addr.withWeight`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const withWeight = (self: Bound, weight: number): Bound =>
  bound(self.id, Stream.map(self.addr, (a) => Addr.withWeight(a, weight)), self.residual)
