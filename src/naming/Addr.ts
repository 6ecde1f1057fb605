/**
 * An `Addr` is the current answer for one bound name: a set of addresses with metadata, `Neg` (the
 * name does not exist), `Pending` (not known yet) or `Failed`. A bound name carries a live stream of
 * these; the balancer consumes the addresses of the `Bound` ones.
 *
 * Union weights: when a bound name sits under a weighted union, binding records the weight in the
 * metadata key `namer_nametree_weight` (of the `Bound` and of each address).
 *
 * @since 0.1.0
 */
import * as Address from "../Address.js"

/**
 * A resolved set of addresses.
 *
 * @since 0.1.0
 * @category model
 */
export interface Bound {
  readonly _tag: "Bound"
  readonly addresses: ReadonlyArray<Address.Address>
  readonly meta: Readonly<Record<string, unknown>>
}

/**
 * The name does not exist.
 *
 * @since 0.1.0
 * @category model
 */
export interface Neg {
  readonly _tag: "Neg"
}

/**
 * Not resolved yet.
 *
 * @since 0.1.0
 * @category model
 */
export interface Pending {
  readonly _tag: "Pending"
}

/**
 * Resolution failed.
 *
 * @since 0.1.0
 * @category model
 */
export interface Failed {
  readonly _tag: "Failed"
  readonly cause: string
}

/**
 * The state of a bound name's addresses.
 *
 * @since 0.1.0
 * @category model
 */
export type Addr = Bound | Neg | Pending | Failed

/**
 * The metadata key under which a union's weight is recorded.
 *
 * @since 0.1.0
 * @category constants
 */
export const weightKey = "namer_nametree_weight"

/**
 * A bound set; metadata defaults to none.
 *
 * @since 0.1.0
 * @category constructors
 */
export const bound = (
  addresses: ReadonlyArray<Address.Address>,
  meta: Readonly<Record<string, unknown>> = {}
): Bound => ({ _tag: "Bound", addresses, meta })

/**
 * `Neg`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const neg: Neg = { _tag: "Neg" }

/**
 * `Pending`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const pending: Pending = { _tag: "Pending" }

/**
 * `Failed` with a readable cause.
 *
 * @since 0.1.0
 * @category constructors
 */
export const failed = (cause: string): Failed => ({ _tag: "Failed", cause })

/**
 * The addresses a load balancer should use for this state: a `Bound`'s addresses, none for `Neg`,
 * `undefined` (keep what you have) for `Pending` and `Failed`.
 *
 * @since 0.1.0
 * @category getters
 */
export const addresses = (self: Addr): ReadonlyArray<Address.Address> | undefined =>
  self._tag === "Bound" ? self.addresses : self._tag === "Neg" ? [] : undefined

/**
 * Records a union weight on a `Bound` (its metadata and each address's); other states unchanged.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withWeight = (self: Addr, weight: number): Addr =>
  self._tag !== "Bound" ? self : {
    _tag: "Bound",
    addresses: self.addresses.map((a) =>
      Address.make(a.host, a.port, { weight: a.weight, meta: { ...a.meta, [weightKey]: weight } })
    ),
    meta: { ...self.meta, [weightKey]: weight }
  }

/**
 * Structural equality (addresses in order).
 *
 * @since 0.1.0
 * @category equivalence
 */
export const equals = (a: Addr, b: Addr): boolean => {
  if (a === b) return true
  if (a._tag !== b._tag) return false
  if (a._tag === "Failed") return a.cause === (b as Failed).cause
  if (a._tag !== "Bound") return true
  const bb = b as Bound
  return a.addresses.length === bb.addresses.length &&
    a.addresses.every((x, i) => Address.equals(x, bb.addresses[i]!)) &&
    JSON.stringify(a.meta) === JSON.stringify(bb.meta)
}

/**
 * The delegator's JSON for an address state (linkerd's `/delegator.json` shape).
 *
 * @since 0.1.0
 * @category rendering
 */
export const toJson = (self: Addr): unknown => {
  switch (self._tag) {
    case "Bound":
      return {
        type: "bound",
        addrs: self.addresses.map((a) => ({ ip: a.host, port: a.port, meta: a.meta })),
        meta: self.meta
      }
    case "Neg":
      return { type: "neg" }
    case "Pending":
      return { type: "pending" }
    case "Failed":
      return { type: "failed", cause: self.cause }
  }
}
