/**
 * A `DtabStore` holds namerd's dtabs, one per namespace, each with an opaque version. It is the
 * routing state of a whole fleet: every namerd reading one store serves the same dtabs, and every
 * change reaches every watcher (`observe`) without a restart.
 *
 * Writes are optimistic: `update` takes the version the writer read and fails with
 * `VersionMismatch` when the stored dtab has changed since, so two writers cannot lose an update
 * (linkerd's `DtabStore`, whose HTTP face is `If-Match` → `412`).
 *
 * Every implementation keeps a local `Mirror` of the store, fed by the backend's watch (an etcd
 * watch, ZooKeeper watches, or the process itself for `io.l5d.inMemory`): `observe` and `list` read
 * it, and a write returns only once the mirror has seen it, so a namerd reads its own writes.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type * as Dtab from "../naming/Dtab.js"

/**
 * A dtab and the version it is stored under.
 *
 * @since 0.1.0
 * @category model
 */
export interface VersionedDtab {
  readonly dtab: Dtab.Dtab
  /** Opaque: an etcd `mod_revision`, a znode version, a counter. */
  readonly version: string
}

/**
 * A store operation failed. `reason`: the namespace does not exist (`NotFound`), already exists
 * (`Exists`), was changed since the given version (`VersionMismatch`), or the backend could not be
 * reached or answered something unusable (`Unavailable`). Only `Unavailable` is retryable.
 *
 * @since 0.1.0
 * @category errors
 */
export class DtabStoreError extends Data.TaggedError("DtabStoreError")<{
  readonly reason: "NotFound" | "Exists" | "VersionMismatch" | "Unavailable"
  readonly namespace: string
  readonly detail?: string | undefined
}> {
  get retryable(): boolean {
    return this.reason === "Unavailable"
  }
  override get message(): string {
    const what = this.reason === "NotFound"
      ? `dtab namespace ${this.namespace} does not exist`
      : this.reason === "Exists"
      ? `dtab namespace ${this.namespace} already exists`
      : this.reason === "VersionMismatch"
      ? `dtab namespace ${this.namespace} was changed since the given version`
      : `dtab store unavailable for ${this.namespace}`
    return this.detail === undefined ? what : `${what}: ${this.detail}`
  }
}

/**
 * A dtab store.
 *
 * @since 0.1.0
 * @category model
 */
export interface DtabStore {
  /** The storage kind, e.g. `io.l5d.etcd`. */
  readonly kind: string
  /** The namespaces, sorted. */
  readonly list: Effect.Effect<ReadonlyArray<string>, DtabStoreError>
  /** The namespaces now and after each change. */
  readonly watchList: Stream.Stream<ReadonlyArray<string>>
  /** The dtab of `ns` now (`None` when absent) and after each change. */
  readonly observe: (ns: string) => Stream.Stream<Option.Option<VersionedDtab>>
  /** Creates `ns`; fails with `Exists` if it is there. */
  readonly create: (ns: string, dtab: Dtab.Dtab) => Effect.Effect<void, DtabStoreError>
  /** Replaces `ns` if it is still at `version`; `NotFound` or `VersionMismatch` otherwise. */
  readonly update: (ns: string, dtab: Dtab.Dtab, version: string) => Effect.Effect<void, DtabStoreError>
  /** Creates or replaces `ns` whatever its version. */
  readonly put: (ns: string, dtab: Dtab.Dtab) => Effect.Effect<void, DtabStoreError>
  /** Deletes `ns`; `NotFound` if it is not there. */
  readonly delete: (ns: string) => Effect.Effect<void, DtabStoreError>
}

/**
 * The local copy of a store: every namespace's dtab and version, `synced` once the backend has
 * answered a first time. Stays as it was while the backend is unreachable.
 *
 * @since 0.1.0
 * @category model
 */
export interface MirrorState {
  readonly synced: boolean
  readonly dtabs: ReadonlyMap<string, VersionedDtab>
  /** Backend progress (an etcd revision), for read-your-writes; `0` when unused. */
  readonly revision: number
}

/**
 * A mirror of a store, and the reads every store derives from it.
 *
 * @since 0.1.0
 * @category model
 */
export interface Mirror {
  readonly ref: SubscriptionRef.SubscriptionRef<MirrorState>
  readonly list: Effect.Effect<ReadonlyArray<string>, DtabStoreError>
  readonly watchList: Stream.Stream<ReadonlyArray<string>>
  readonly observe: (ns: string) => Stream.Stream<Option.Option<VersionedDtab>>
  /** Waits (up to `timeout`, default 10 s) until the mirror satisfies `cond`. */
  readonly awaitState: (
    ns: string,
    cond: (state: MirrorState) => boolean,
    timeout?: Duration.Input
  ) => Effect.Effect<void, DtabStoreError>
}

const sameVersion = (a: Option.Option<VersionedDtab>, b: Option.Option<VersionedDtab>): boolean =>
  Option.isNone(a) ? Option.isNone(b) : Option.isSome(b) && a.value.version === b.value.version

const sameList = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i])

/**
 * An empty, unsynced mirror (`synced: true` for a store that is its own backend).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMirror = (options?: { readonly synced?: boolean | undefined }): Effect.Effect<Mirror> =>
  Effect.map(
    SubscriptionRef.make<MirrorState>({ synced: options?.synced ?? false, dtabs: new Map(), revision: 0 }),
    (ref) => {
      const synced = SubscriptionRef.changes(ref).pipe(Stream.filter((s) => s.synced))
      const listOf = (s: MirrorState) => [...s.dtabs.keys()].sort()
      const awaitState = (ns: string, cond: (state: MirrorState) => boolean, timeout?: Duration.Input) =>
        SubscriptionRef.changes(ref).pipe(
          Stream.filter(cond),
          Stream.runHead,
          Effect.timeoutOrElse({
            duration: timeout ?? Duration.seconds(10),
            orElse: () =>
              Effect.fail(
                new DtabStoreError({
                  reason: "Unavailable",
                  namespace: ns,
                  detail: "the store's watch did not catch up"
                })
              )
          }),
          Effect.asVoid
        )
      return {
        ref,
        list: Effect.map(awaitState("*", (s) => s.synced), () => listOf(SubscriptionRef.getUnsafe(ref))),
        watchList: synced.pipe(Stream.map(listOf), Stream.changesWith(sameList)),
        observe: (ns) =>
          synced.pipe(
            Stream.map((s) => Option.fromNullishOr(s.dtabs.get(ns))),
            Stream.changesWith(sameVersion)
          ),
        awaitState
      }
    }
  )

/**
 * The mirror state with `ns` set to `value` (or removed for `undefined`).
 *
 * @since 0.1.0
 * @category combinators
 */
export const withNamespace = (
  state: MirrorState,
  ns: string,
  value: VersionedDtab | undefined,
  revision?: number
): MirrorState => {
  const dtabs = new Map(state.dtabs)
  if (value === undefined) dtabs.delete(ns)
  else dtabs.set(ns, value)
  return { synced: state.synced, dtabs, revision: revision ?? state.revision }
}

/**
 * Whether `ns` is a usable namespace name: non-empty, at most 256 characters, letters, digits and
 * `-_.`, and not `.`/`..` (it becomes an etcd key, a znode name, a Kubernetes object name).
 *
 * @since 0.1.0
 * @category validation
 */
export const isValidNamespace = (ns: string): boolean =>
  ns.length > 0 && ns.length <= 256 && /^[A-Za-z0-9._-]+$/.test(ns) && ns !== "." && ns !== ".."
