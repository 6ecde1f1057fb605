/**
 * A sum over a sliding time window, kept in a fixed number of slices: a value added now counts until
 * the window has rolled past its slice, i.e. for between `window·(slices−1)/slices` and `window`.
 * Retry budgets, accrual's request counts and the deadline filter use it. Time is passed in by the
 * caller (milliseconds from Effect's `Clock`), so it is exact under `TestClock`.
 *
 * @since 0.1.0
 */

/**
 * A mutable windowed sum.
 *
 * @since 0.1.0
 * @category model
 */
export interface WindowedAdder {
  /** Adds `n` (may be negative) at time `now` (ms). */
  readonly add: (now: number, n: number) => void
  /** The sum of the values still in the window at time `now` (ms). */
  readonly sum: (now: number) => number
  /** Forgets everything. */
  readonly reset: () => void
}

/**
 * A windowed sum over `windowMs` in `slices` slices (default 10).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (windowMs: number, slices = 10): WindowedAdder => {
  const sliceMs = Math.max(1, windowMs / slices)
  const values = new Float64Array(slices)
  let current = Number.NEGATIVE_INFINITY
  let total = 0
  const roll = (now: number) => {
    const index = Math.floor(now / sliceMs)
    if (index === current) return
    if (index < current) return
    const steps = current === Number.NEGATIVE_INFINITY ? slices : Math.min(slices, index - current)
    for (let i = 1; i <= steps; i++) {
      const slot = (((index - steps + i) % slices) + slices) % slices
      total -= values[slot]!
      values[slot] = 0
    }
    current = index
  }
  return {
    add: (now, n) => {
      roll(now)
      const slot = ((current % slices) + slices) % slices
      values[slot] = values[slot]! + n
      total += n
    },
    sum: (now) => {
      roll(now)
      return total
    },
    reset: () => {
      values.fill(0)
      total = 0
      current = Number.NEGATIVE_INFINITY
    }
  }
}
