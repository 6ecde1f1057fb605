/**
 * A `Namer` resolves a path into a name tree, live: `lookup(path)` is a scoped resource stream —
 * opening it acquires whatever watch the namer needs (a file watch, a Kubernetes watch, a DNS poll),
 * each element is the current answer, closing it releases the watch.
 *
 * Namers answer relative to where they are mounted: a namer mounted at `/#/io.l5d.fs` gets
 * `/users/rest` for `/#/io.l5d.fs/users/rest`, and returns bound ids relative to its mount
 * (`/users`); the interpreter prefixes them (`/#/io.l5d.fs/users`). It may also return `Leaf`
 * paths: those re-enter the dtab.
 *
 * `shared` wraps a namer so that concurrent subscribers of one path share one underlying watch
 * (reference counted, released an idle time-to-live after the last subscriber leaves), and so that
 * a backend failure after a first answer keeps the last good answer (stale while error).
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as RcMap from "effect/RcMap"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Stats from "../Stats.js"
import * as Activity from "./Activity.js"
import * as Name from "./Name.js"
import * as NameTree from "./NameTree.js"
import * as Path from "./Path.js"

/**
 * A namer.
 *
 * @since 0.1.0
 * @category model
 */
export interface Namer {
  /** The live answer for `path` (relative to the namer's mount point). */
  readonly lookup: (path: Path.Path) => Stream.Stream<NameTree.NameTree<Name.Name>, NamerError>
  /**
   * The concrete names this namer currently knows, relative to its mount (linkerd's enumerating
   * namers, served by the admin `/bound-names.json`). Absent when the namer cannot enumerate.
   */
  readonly enumerate?: Effect.Effect<ReadonlyArray<Path.Path>> | undefined
  /**
   * The namer's internal state as a JSON-safe value (served by the admin
   * `/namer_state/<prefix>.json`); never holds secrets. Absent when the namer has none to show.
   */
  readonly state?: Effect.Effect<unknown> | undefined
}

/**
 * A shared namer: its lookups share one watch per path, and expose their full state.
 *
 * @since 0.1.0
 * @category model
 */
export interface Shared extends Namer {
  /**
   * The live state for `path`: `Pending` until the namer answers, `Failed` if it never did; an
   * answer kept after a failure is `Ok` with `stale` set to the failure.
   */
  readonly watch: (path: Path.Path) => Stream.Stream<Activity.State<NameTree.NameTree<Name.Name>>>
  /** The paths with an open underlying watch (including ones idling before release). */
  readonly watching: Effect.Effect<ReadonlyArray<string>>
}

/**
 * A namer backend failed for a path.
 *
 * @since 0.1.0
 * @category errors
 */
export class NamerError extends Data.TaggedError("NamerError")<{
  readonly path: string
  readonly reason: string
  readonly cause?: unknown
}> {
  /** Namer failures are not request failures; retrying the request finds the same state. */
  readonly retryable = false
  override get message(): string {
    return this.reason
  }
}

/**
 * A namer from its lookup function.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (lookup: Namer["lookup"]): Namer => ({ lookup })

/**
 * A namer whose answers never change: `f` is called once per lookup.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromFunction = (f: (path: Path.Path) => NameTree.NameTree<Name.Name>): Namer => ({
  lookup: (path) => Stream.suspend(() => Name.constant(f(path)))
})

/**
 * A namer that answers `Neg` for everything.
 *
 * @since 0.1.0
 * @category constructors
 */
export const none: Namer = fromFunction(() => NameTree.neg)

/**
 * Equality of name trees of names (bound names compare by id and residual).
 *
 * @since 0.1.0
 * @category equivalence
 */
export const treeEquals = (a: NameTree.NameTree<Name.Name>, b: NameTree.NameTree<Name.Name>): boolean =>
  NameTree.equals(a, b, Name.equals)

const causeMessage = (cause: Cause.Cause<unknown>): string => {
  const e = Cause.squash(cause)
  return e instanceof Error ? e.message : String(e)
}

/**
 * Options of `shared`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SharedOptions {
  /** How long a watch stays open after its last subscriber leaves. Defaults to 10 seconds. */
  readonly idleTimeToLive?: Duration.Input | undefined
  /** First delay before re-opening a failed or ended-by-error lookup; doubles up to 30 s. Defaults to 1 second. */
  readonly retryDelay?: Duration.Input | undefined
  /** Label used in logs and metric names (`namer/<label>/…`). Defaults to `namer`. */
  readonly label?: string | undefined
}

/**
 * Shares a namer's watches: concurrent subscribers of one path use one underlying `lookup`,
 * opened on the first subscriber and closed `idleTimeToLive` after the last one leaves. When the
 * namer's stream fails after it has answered, subscribers keep the last answer, the failure is
 * logged and counted (`namer/<label>/failures`) and the lookup is re-opened after a backoff; a
 * lookup that never answered is `Failed` until it does. The returned namer lives in the current
 * scope.
 *
 * @since 0.1.0
 * @category combinators
 */
export const shared = (namer: Namer, options?: SharedOptions): Effect.Effect<Shared, never, Scope.Scope> =>
  Effect.gen(function*() {
    const label = options?.label ?? "namer"
    const stats = (yield* Effect.service(Stats.Receiver)).scope("namer", label)
    const failures = stats.counter("failures")
    const opened = stats.counter("watches", "opened")
    const closed = stats.counter("watches", "closed")
    const first = Duration.toMillis(options?.retryDelay ?? "1 second")
    const run = (path: Path.Path, ref: SubscriptionRef.SubscriptionRef<Activity.State<NameTree.NameTree<Name.Name>>>) =>
      Effect.gen(function*() {
        let answered = false
        let delay = first
        for (;;) {
          const exit = yield* namer.lookup(path).pipe(
            Stream.runForEach((tree) =>
              Effect.suspend(() => {
                answered = true
                delay = first
                const current = SubscriptionRef.getUnsafe(ref)
                return current._tag === "Ok" && current.stale === undefined && treeEquals(current.value, tree)
                  ? Effect.void
                  : SubscriptionRef.set(ref, Activity.ok(tree))
              })
            ),
            Effect.exit
          )
          if (exit._tag === "Success") return
          const reason = causeMessage(exit.cause)
          failures.incr()
          const current = SubscriptionRef.getUnsafe(ref)
          if (answered && current._tag === "Ok") {
            yield* Effect.logWarning(
              `namer ${label}: lookup of ${Path.show(path)} failed, keeping last answer: ${reason}`
            )
            yield* SubscriptionRef.set(ref, Activity.ok(current.value, reason))
          } else {
            yield* SubscriptionRef.set(ref, Activity.failed(reason))
          }
          yield* Effect.sleep(Duration.millis(delay))
          delay = Math.min(delay * 2, 30_000)
        }
      })
    const requested = new Map<string, Path.Path>()
    const map = yield* RcMap.make({
      lookup: (key: string) =>
        Effect.gen(function*() {
          const ref = yield* SubscriptionRef.make<Activity.State<NameTree.NameTree<Name.Name>>>(Activity.pending)
          opened.incr()
          yield* Effect.addFinalizer(() => Effect.sync(() => closed.incr()))
          const path = requested.get(key) ?? Path.parseUnsafe(key)
          requested.delete(key)
          yield* Effect.forkScoped(run(path, ref))
          return ref
        }),
      idleTimeToLive: options?.idleTimeToLive ?? "10 seconds"
    })
    const watch = (path: Path.Path) =>
      Stream.unwrap(Effect.suspend(() => {
        const key = Path.show(path)
        requested.set(key, path)
        return RcMap.get(map, key).pipe(
          Effect.ensuring(Effect.sync(() => requested.delete(key))),
          Effect.map((ref) => SubscriptionRef.changes(ref))
        )
      }))
    return {
      watch,
      lookup: (path) => fromStates(watch(path), Path.show(path)),
      watching: Effect.map(RcMap.keys(map), (keys) => Array.from(keys))
    }
  })

/**
 * Turns a stream of states into a stream of answers: `Pending` is skipped, `Failed` fails the
 * stream with a `NamerError` for `path`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const fromStates = <A>(
  states: Stream.Stream<Activity.State<A>>,
  path: string
): Stream.Stream<A, NamerError> =>
  states.pipe(
    Stream.filterMap((s) => s._tag === "Pending" ? Result.failVoid : Result.succeed(s)),
    Stream.mapEffect((s) =>
      s._tag === "Ok" ? Effect.succeed(s.value) : Effect.fail(new NamerError({ path, reason: s.cause }))
    )
  )

/**
 * Turns a namer's answer stream into a stream of states: `Pending` first, each answer `Ok`, and a
 * failure as a final `Failed` (the stream then stays open).
 *
 * @since 0.1.0
 * @category combinators
 */
export const toStates = <A, E>(answers: Stream.Stream<A, E>): Stream.Stream<Activity.State<A>> =>
  Stream.concat(
    Stream.succeed<Activity.State<A>>(Activity.pending),
    answers.pipe(
      Stream.map((a): Activity.State<A> => Activity.ok(a)),
      Stream.catchCause((cause) => Name.constant<Activity.State<A>>(Activity.failed(causeMessage(cause))))
    )
  )
