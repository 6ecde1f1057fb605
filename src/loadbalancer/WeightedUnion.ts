/**
 * The weighted picker for NameTree unions (`0.9 * /s/v1 & 0.1 * /s/v2` in a dtab): each request
 * goes to one branch, chosen at random in proportion to the branch weights. Branches whose status
 * is not `Open` are passed over while some branch is `Open` (the union fails open when none is),
 * and branches of weight 0 get nothing. It is the per-request choice Finagle's `NameTreeFactory`
 * makes; each branch is typically a balancer over one bound name.
 *
 * Randomness comes from Effect's `Random`, read when the union is built (seed it for tests).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import { NoBrokersAvailable } from "../Failure.js"
import type { Service, Status } from "../Service.js"
import { bestOfAll } from "../Service.js"

/**
 * One branch of a union.
 *
 * @since 0.1.0
 * @category model
 */
export interface Branch<in Req, out Rep, out E = never, out R = never> {
  readonly weight: number
  readonly service: Service<Req, Rep, E, R>
}

/**
 * Index of the branch a uniform draw `u` in [0, 1) selects among branches with positive weight,
 * preferring `Open` ones; `-1` when no branch has positive weight.
 *
 * @since 0.1.0
 * @category picking
 */
export const pick = (branches: ReadonlyArray<Branch<never, unknown, unknown, unknown>>, u: number): number => {
  const usable = (i: number) => branches[i]!.weight > 0 && Number.isFinite(branches[i]!.weight)
  let total = 0
  let openTotal = 0
  for (let i = 0; i < branches.length; i++) {
    if (!usable(i)) continue
    total += branches[i]!.weight
    if (branches[i]!.service.status === "Open") openTotal += branches[i]!.weight
  }
  if (total === 0) return -1
  const onlyOpen = openTotal > 0
  let target = u * (onlyOpen ? openTotal : total)
  let last = -1
  for (let i = 0; i < branches.length; i++) {
    if (!usable(i) || (onlyOpen && branches[i]!.service.status !== "Open")) continue
    last = i
    target -= branches[i]!.weight
    if (target < 0) return i
  }
  return last
}

/**
 * A service that sends each request to one branch, chosen by weight. With no branch of positive
 * weight every request fails with `NoBrokersAvailable` naming `label` (default `"union"`). Status is
 * the best status among branches of positive weight.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R>(
  branches: ReadonlyArray<Branch<Req, Rep, E, R>>,
  options?: { readonly label?: string | undefined }
): Effect.Effect<Service<Req, Rep, E | NoBrokersAvailable, R>> =>
  Effect.map(Effect.service(Random.Random), (random) => {
    const all = [...branches]
    const none = new NoBrokersAvailable({ name: options?.label ?? "union" })
    if (all.length === 1 && all[0]!.weight > 0) {
      const only = all[0]!.service
      return {
        call: only.call,
        get status() {
          return only.status
        }
      }
    }
    return {
      call: (request: Req): Effect.Effect<Rep, E | NoBrokersAvailable, R> =>
        Effect.suspend((): Effect.Effect<Rep, E | NoBrokersAvailable, R> => {
          const i = pick(all as ReadonlyArray<Branch<never, unknown, unknown, unknown>>, random.nextDoubleUnsafe())
          return i < 0 ? Effect.fail(none) : all[i]!.service.call(request)
        }),
      get status(): Status {
        return bestOfAll(all.filter((b) => b.weight > 0).map((b) => b.service.status))
      }
    }
  })
