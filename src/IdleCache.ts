/**
 * A cache of scoped values built on first use and closed after they have gone unused for an idle
 * time-to-live: the router's per-name path stacks and per-bound-id clients, and the binding cache's
 * live bindings. It plays the role of an
 * `RcMap` with `idleTimeToLive`, tuned for the request path: a hit is a `Map` lookup and a flag
 * write, with no per-request `Scope` (an `RcMap.get` needs one). A value is closed only after a
 * whole idle period without use (between 1× and 2× the TTL), and the clients it closes drain their
 * requests in flight first.
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"

/**
 * A cache from string ids to scoped values: the mechanism under `make` and the naming layer's
 * binding cache.
 *
 * @since 0.1.0
 * @category model
 */
export interface Keyed<V> {
  /** The value for `id`, built with `build` (in its own scope, uninterruptibly) on a miss. */
  readonly get: (id: string, build: () => Effect.Effect<V, never, Scope.Scope>) => Effect.Effect<V>
  /** The value for `id` if it is already built (marking it used), else `undefined`; builds nothing. */
  readonly getNow: (id: string) => V | undefined
  /** The value for `id` if it is already built, without marking it used. */
  readonly peek: (id: string) => V | undefined
  /** The values currently open. */
  readonly values: () => ReadonlyArray<V>
  /** Number of entries (built or being built). */
  readonly size: () => number
}

/**
 * A cache from keys to scoped values.
 *
 * @since 0.1.0
 * @category model
 */
export interface IdleCache<K, V> {
  /** The value for `key`, built (in its own scope) on a miss. */
  readonly get: (key: K) => Effect.Effect<V>
  /** The value for `key` if it is already built (marking it used), else `undefined`; builds nothing. */
  readonly getNow: (key: K) => V | undefined
  /** The values currently open. */
  readonly values: () => ReadonlyArray<V>
  /** Number of open values. */
  readonly size: () => number
}

interface Entry<V> {
  value: V | undefined
  used: boolean
  readonly scope: Scope.Closeable
  readonly ready: Deferred.Deferred<V>
}

/**
 * A string-keyed cache living in the current scope (closing it closes every value);
 * `idleTimeToLive` defaults to 10 minutes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeKeyed = <V>(options?: {
  readonly idleTimeToLive?: Duration.Input | undefined
}): Effect.Effect<Keyed<V>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const parent = yield* Effect.scope
    const entries = new Map<string, Entry<V>>()
    const ttl = Duration.fromInputUnsafe(options?.idleTimeToLive ?? Duration.minutes(10))
    const reap = Effect.suspend(() => {
      const closing: Array<Scope.Closeable> = []
      for (const [k, e] of entries) {
        if (e.used) e.used = false
        else if (e.value !== undefined) {
          entries.delete(k)
          closing.push(e.scope)
        }
      }
      return Effect.forEach(closing, (s) => Scope.close(s, Exit.void), { discard: true })
    })
    if (Duration.isFinite(ttl)) yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(ttl), reap)))

    const get = (id: string, build: () => Effect.Effect<V, never, Scope.Scope>): Effect.Effect<V> => {
      const entry = entries.get(id)
      if (entry !== undefined) {
        entry.used = true
        return entry.value !== undefined ? Effect.succeed(entry.value) : Deferred.await(entry.ready)
      }
      return Effect.suspend(() => {
        const again = entries.get(id)
        if (again !== undefined) {
          return again.value !== undefined
            ? Effect.succeed(again.value)
            : Deferred.await(again.ready)
        }
        const fresh: Entry<V> = {
          value: undefined,
          used: true,
          scope: Scope.forkUnsafe(parent),
          ready: Deferred.makeUnsafe<V>()
        }
        entries.set(id, fresh)
        return build().pipe(
          Scope.provide(fresh.scope),
          Effect.uninterruptible,
          Effect.tap((v) =>
            Effect.sync(() => {
              fresh.value = v
            })
          ),
          Effect.tap((v) => Deferred.succeed(fresh.ready, v))
        )
      })
    }

    return {
      get,
      getNow: (id) => {
        const entry = entries.get(id)
        if (entry === undefined || entry.value === undefined) return undefined
        entry.used = true
        return entry.value
      },
      peek: (id) => entries.get(id)?.value,
      values: () => {
        const out: Array<V> = []
        for (const e of entries.values()) if (e.value !== undefined) out.push(e.value)
        return out
      },
      size: () => entries.size
    }
  })

/**
 * A cache living in the current scope (closing it closes every value). `id` maps a key to its
 * identity; `idleTimeToLive` defaults to 10 minutes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <K, V>(options: {
  readonly id: (key: K) => string
  readonly lookup: (key: K) => Effect.Effect<V, never, Scope.Scope>
  readonly idleTimeToLive?: Duration.Input | undefined
}): Effect.Effect<IdleCache<K, V>, never, Scope.Scope> =>
  Effect.map(makeKeyed<V>({ idleTimeToLive: options.idleTimeToLive }), (keyed) => ({
    get: (key) => keyed.get(options.id(key), () => options.lookup(key)),
    getNow: (key) => keyed.getNow(options.id(key)),
    values: keyed.values,
    size: keyed.size
  }))
