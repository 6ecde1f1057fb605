/**
 * Long polling over live values, as namerd's Thrift interface serves it: an `Observer` follows one
 * stream (a binding, an address set, a dtab) and stamps each distinct value it sees; a poll with
 * the stamp the client last got is held until the value changes, a poll with any other stamp (an
 * empty one, a stamp from another namerd) is answered at once with the current value.
 *
 * The `ObserverCache` keeps one observer per key (linkerd's two-level cache): an observer with a
 * poll held on it is *active*; at most `activeCapacity` are, and past that a poll that would have
 * to wait (on an observer that is not active yet, or on a new key before its first value) is
 * refused. The others are *inactive* and closed after `inactiveTtl` without a poll or when more
 * than `inactiveCapacity` of them wait (least recently polled first).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import * as Stats from "../Stats.js"

/**
 * A stamped value (or failure).
 *
 * @since 0.1.0
 * @category model
 */
export interface Observation<A> {
  readonly stamp: Uint8Array
  readonly value: Result.Result<A, string>
}

/**
 * Capacities of a cache; the defaults are linkerd's (`1000`, `100`, 10 minutes).
 *
 * @since 0.1.0
 * @category model
 */
export interface Capacity {
  readonly activeCapacity: number
  readonly inactiveCapacity: number
  readonly inactiveTtlMillis: number
}

interface Entry<A> {
  current: Observation<A> | undefined
  readonly waiters: Set<(o: Observation<A>) => void>
  lastUsed: number
  fiber: Fiber.Fiber<void> | undefined
}

/**
 * A poll could not be served: the cache is full of held polls.
 *
 * @since 0.1.0
 * @category errors
 */
export const full = (capacity: number): string =>
  `The maximum number of concurrent observations has been reached (${capacity})`

let counter = randomBytes(8).readBigUInt64BE(0)

/**
 * A fresh stamp: 8 bytes of a process-wide counter started at a random value, so stamps of two
 * namerds are unlikely to collide (as linkerd's).
 *
 * @since 0.1.0
 * @category constructors
 */
export const nextStamp = (): Uint8Array => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64BE(counter)
  counter = (counter + 1n) & 0xffff_ffff_ffff_ffffn
  return new Uint8Array(b)
}

const sameStamp = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))

/**
 * A cache of observers over `K`.
 *
 * @since 0.1.0
 * @category model
 */
export interface ObserverCache<K, A> {
  /**
   * The next observation for a client that last saw `stamp`; `cancel` drops the poll (the client
   * went away). Answers at once with the current value if its stamp differs.
   */
  readonly poll: (
    key: K,
    stamp: Uint8Array,
    cancel: (drop: () => void) => void
  ) => Promise<Observation<A>>
  /** Closes every observer. */
  readonly close: () => void
  /** Closes observers idle past their time to live; run by the interface's timer. */
  readonly sweep: () => void
}

/**
 * A cache whose observer for `key` follows `values(key)`; `show` identifies equal values so a
 * repeated value keeps its stamp. A stream that ends is answered as a failure and dropped.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <K, A>(options: {
  readonly keyOf: (key: K) => string
  readonly values: (key: K) => Stream.Stream<Result.Result<A, string>>
  readonly show: (value: Result.Result<A, string>) => string
  readonly capacity: Capacity
  readonly stats?: Stats.StatsReceiver | undefined
  readonly now?: () => number
}): ObserverCache<K, A> => {
  const now = options.now ?? Date.now
  const entries = new Map<string, Entry<A>>()
  const stats = options.stats ?? Stats.noop
  const isActive = (e: Entry<A>) => e.waiters.size > 0
  const count = (active: boolean) => [...entries.values()].filter((e) => isActive(e) === active).length
  const unregister = [stats.gauge(["active"], () => count(true)), stats.gauge(["inactive"], () => count(false))]

  const close = (key: string, e: Entry<A>) => {
    entries.delete(key)
    if (e.fiber !== undefined) Effect.runFork(Fiber.interrupt(e.fiber))
  }

  const sweep = () => {
    const t = now()
    const inactive = [...entries.entries()].filter(([, e]) => !isActive(e)).sort((a, b) =>
      a[1].lastUsed - b[1].lastUsed
    )
    let excess = inactive.length - options.capacity.inactiveCapacity
    for (const [key, e] of inactive) {
      if (excess > 0 || t - e.lastUsed > options.capacity.inactiveTtlMillis) {
        close(key, e)
        excess--
      }
    }
  }

  const open = (key: K, k: string): Entry<A> => {
    const entry: Entry<A> = { current: undefined, waiters: new Set(), lastUsed: now(), fiber: undefined }
    entries.set(k, entry)
    let last: string | undefined
    const update = (value: Result.Result<A, string>) => {
      const shown = options.show(value)
      if (shown === last) return
      last = shown
      const o: Observation<A> = { stamp: nextStamp(), value }
      entry.current = o
      const waiters = [...entry.waiters]
      entry.waiters.clear()
      for (const w of waiters) w(o)
    }
    entry.fiber = Effect.runFork(
      Stream.runForEach(options.values(key), (v) => Effect.sync(() => update(v))).pipe(
        Effect.andThen(Effect.sync(() => {
          if (entries.get(k) === entry) entries.delete(k)
          update(Result.fail("the watch ended"))
        }))
      )
    )
    return entry
  }

  return {
    poll: (key, stamp, cancel) => {
      const k = options.keyOf(key)
      let entry = entries.get(k)
      if (entry?.current !== undefined && !sameStamp(entry.current.stamp, stamp)) {
        entry.lastUsed = now()
        return Promise.resolve(entry.current)
      }
      if ((entry === undefined || !isActive(entry)) && count(true) >= options.capacity.activeCapacity) {
        return Promise.reject(new Error(full(options.capacity.activeCapacity)))
      }
      if (entry === undefined) {
        entry = open(key, k)
        if (entry.current !== undefined && !sameStamp(entry.current.stamp, stamp)) return Promise.resolve(entry.current)
      }
      const e = entry
      e.lastUsed = now()
      return new Promise((resolve) => {
        const waiter = (o: Observation<A>) => {
          e.lastUsed = now()
          resolve(o)
        }
        e.waiters.add(waiter)
        cancel(() => {
          e.waiters.delete(waiter)
          e.lastUsed = now()
        })
      })
    },
    close: () => {
      for (const [k, e] of [...entries]) close(k, e)
      unregister.forEach((u) => u())
    },
    sweep
  }
}
