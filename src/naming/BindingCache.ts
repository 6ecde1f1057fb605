/**
 * The request-path binding cache: one live binding per (dtab, path), shared by every request that
 * needs it. A hit is a map lookup and a read of the binding's current value — no subscription, no
 * fiber. A miss opens `Interpreter.bindStates` in the background and waits for its first answer.
 * Bindings unused for an idle time-to-live are closed (with their namer watches).
 *
 * The key is the shown dtab and path. `Dtab.show` is memoized for a long dtab value, so a router
 * that reuses its dtab value pays for showing the path only; `bindLocal` takes the request's local
 * dtab separately, so the combined dtab is only built on a miss.
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as IdleCache from "../IdleCache.js"
import * as Activity from "./Activity.js"
import * as Dtab from "./Dtab.js"
import { BindingError, type BoundTree, type NameInterpreter } from "./Interpreter.js"
import * as Path from "./Path.js"

/**
 * A binding cache.
 *
 * @since 0.1.0
 * @category model
 */
export interface BindingCache {
  /** The current bound tree of `path` under `dtab`; waits for the first answer on a miss. */
  readonly bind: (dtab: Dtab.Dtab, path: Path.Path) => Effect.Effect<BoundTree, BindingError>
  /**
   * Like `bind(Dtab.concat(base, local), path)`, without building the combined dtab on a hit.
   * `shownPath`, when given, must be `Path.show(path)` (saves showing it again).
   */
  readonly bindLocal: (
    base: Dtab.Dtab,
    local: Dtab.Dtab,
    path: Path.Path,
    shownPath?: string
  ) => Effect.Effect<BoundTree, BindingError>
  /**
   * The bound tree of `path` under `base ++ local` when that binding is open and has a value, marking
   * it used; `undefined` otherwise (nothing is opened). The request path's fast case: no Effect.
   */
  readonly current: (base: Dtab.Dtab, local: Dtab.Dtab, path: Path.Path, shownPath?: string) => BoundTree | undefined
  /** The current state if a binding is open, without opening one. */
  readonly peek: (dtab: Dtab.Dtab, path: Path.Path) => Activity.State<BoundTree> | undefined
  /** Number of open bindings. */
  readonly size: () => number
}

interface Entry {
  state: Activity.State<BoundTree>
  readonly ready: Deferred.Deferred<void>
}

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How long an unused binding stays open (closed between 1× and 2× this). Defaults to 10 minutes. */
  readonly idleTimeToLive?: Duration.Input | undefined
}

/**
 * The cache key of a (dtab, path) pair.
 *
 * @since 0.1.0
 * @category utils
 */
export const key = (dtab: Dtab.Dtab, path: Path.Path): string =>
  dtab.dentries.length === 0 ? Path.show(path) : Dtab.show(dtab) + "\u0000" + Path.show(path)

/** Shown base dtabs: a router shows the same base dtab value on every request. */
const shownBase = new WeakMap<Dtab.Dtab, string>()

const showBase = (base: Dtab.Dtab): string => {
  let s = shownBase.get(base)
  if (s === undefined) {
    s = Dtab.show(base)
    shownBase.set(base, s)
  }
  return s
}

/**
 * Keys of paths under a base dtab alone, by shown path: a router asks for the same few names under
 * the same base on every request, and returning the same key string each time means the cache map
 * does not hash a freshly concatenated key per request. Bounded; emptied when full.
 */
const baseKeys = new Map<string, { readonly base: Dtab.Dtab; readonly key: string }>()
const maxBaseKeys = 1024

/** Equal to `key(Dtab.concat(base, local), path)`; the base dtab's shown form is memoized. */
const localKey = (base: Dtab.Dtab, local: Dtab.Dtab, path: Path.Path, shownPath?: string): string => {
  if (local.dentries.length === 0) {
    const p = shownPath ?? Path.show(path)
    if (base.dentries.length === 0) return p
    const known = baseKeys.get(p)
    if (known !== undefined && known.base === base) return known.key
    const key = showBase(base) + "\u0000" + p
    if (baseKeys.size >= maxBaseKeys) baseKeys.clear()
    baseKeys.set(p, { base, key })
    return key
  }
  const p = shownPath ?? Path.show(path)
  return base.dentries.length === 0
    ? Dtab.show(local) + "\u0000" + p
    : showBase(base) + ";" + Dtab.show(local) + "\u0000" + p
}

/**
 * A binding cache over `interpreter`, living in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  interpreter: NameInterpreter,
  options?: Options
): Effect.Effect<BindingCache, never, Scope.Scope> =>
  Effect.gen(function*() {
    const entries = yield* IdleCache.makeKeyed<Entry>({ idleTimeToLive: options?.idleTimeToLive ?? "10 minutes" })

    const open = (dtab: Dtab.Dtab, path: Path.Path): Effect.Effect<Entry, never, Scope.Scope> =>
      Effect.suspend(() => {
        const entry: Entry = { state: Activity.pending, ready: Deferred.makeUnsafe<void>() }
        return interpreter.bindStates(dtab, path).pipe(
          Stream.runForEach((s) =>
            Effect.suspend(() => {
              if (s._tag === "Pending" || (s._tag === "Failed" && entry.state._tag === "Ok")) return Effect.void
              entry.state = s
              return Deferred.succeed(entry.ready, undefined)
            })
          ),
          Effect.forkScoped,
          Effect.as(entry)
        )
      })

    const answer = (entry: Entry, path: Path.Path): Effect.Effect<BoundTree, BindingError> => {
      const s = entry.state
      return s._tag === "Ok"
        ? Effect.succeed(s.value)
        : s._tag === "Failed"
        ? Effect.fail(new BindingError({ path: Path.show(path), reason: s.cause }))
        : Effect.andThen(Deferred.await(entry.ready), Effect.suspend(() => answer(entry, path)))
    }

    const lookup = (k: string, path: Path.Path, dtab: () => Dtab.Dtab): Effect.Effect<BoundTree, BindingError> => {
      const entry = entries.getNow(k)
      if (entry !== undefined) {
        const s = entry.state
        if (s._tag === "Ok") return Effect.succeed(s.value)
        return answer(entry, path)
      }
      return Effect.flatMap(entries.get(k, () => open(dtab(), path)), (e) => answer(e, path))
    }
    const bind = (dtab: Dtab.Dtab, path: Path.Path) => lookup(key(dtab, path), path, () => dtab)
    const bindLocal = (base: Dtab.Dtab, local: Dtab.Dtab, path: Path.Path, shownPath?: string) =>
      lookup(localKey(base, local, path, shownPath), path, () => Dtab.concat(base, local))
    const current = (base: Dtab.Dtab, local: Dtab.Dtab, path: Path.Path, shownPath?: string) => {
      const state = entries.getNow(localKey(base, local, path, shownPath))?.state
      return state !== undefined && state._tag === "Ok" ? state.value : undefined
    }

    return {
      bind,
      bindLocal,
      current,
      peek: (dtab, path) => entries.peek(key(dtab, path))?.state,
      size: entries.size
    }
  })
