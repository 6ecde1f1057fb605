/**
 * `io.l5d.etcd` storage: each namespace's dtab is the etcd key `<pathPrefix>/<ns>` (default
 * `/namerd/dtabs/<ns>`), its value the dtab text, its version the key's `mod_revision`.
 *
 * ```yaml
 * storage:
 *   kind: io.l5d.etcd
 *   host: 127.0.0.1
 *   port: 2379
 *   pathPrefix: /namerd/dtabs
 * ```
 *
 * linkerd's namerd used etcd's v2 keys API, which current etcd releases no longer serve; this store
 * keeps linkerd's config keys and speaks the v3 API (through the `etcd3` client). Writes are etcd
 * transactions: `create` succeeds only while the key does not exist (`create_revision == 0`),
 * `update` only while its `mod_revision` is the version the writer read, so two namerds writing
 * through one etcd can never lose an update. One watch on the prefix, resumed by the client from
 * the last revision it saw after a disconnection, feeds the local mirror every namerd serves from.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type { IKeyValue, ITxnResponse, Watcher } from "etcd3"
import * as Dtab from "../naming/Dtab.js"
import type * as Stats from "../Stats.js"
import { type DtabStore, DtabStoreError, makeMirror, type MirrorState, withNamespace } from "./DtabStore.js"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly host: string
  readonly port: number
  /** Key prefix, without a trailing slash. Defaults to `/namerd/dtabs`. */
  readonly pathPrefix?: string | undefined
  /** Where `etcd/watch_errors`, `etcd/connected` go. Defaults to none. */
  readonly stats?: Stats.StatsReceiver | undefined
}

const message = (e: unknown) => e instanceof Error ? e.message : String(e)

/**
 * An etcd-backed store living in the current scope. It answers `list`/`observe` once the first
 * read of the prefix has succeeded (retried every second until then).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<DtabStore, never, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = (options.pathPrefix ?? "/namerd/dtabs") + "/"
    const host = options.host.includes(":") && !options.host.startsWith("[") ? `[${options.host}]` : options.host
    // loaded when an etcd store is made, not with the module: the client brings gRPC and its protocol
    // files, which a proxy without etcd storage never needs (and a bundle keeps it external)
    const { Etcd3 } = yield* Effect.promise(() => import("etcd3"))
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => new Etcd3({ hosts: `http://${host}:${options.port}`, dialTimeout: 2000 })),
      (c) => Effect.sync(() => c.close())
    )
    const mirror = yield* makeMirror()
    const stats = options.stats
    const watchErrors = stats?.counter("etcd", "watch_errors")
    let connected = 0
    const unregister = stats?.gauge(["etcd", "connected"], () => connected)
    if (unregister !== undefined) yield* Effect.addFinalizer(() => Effect.sync(unregister))

    const nsOf = (key: Buffer): string | undefined => {
      const k = key.toString("utf8")
      return k.startsWith(prefix) && !k.slice(prefix.length).includes("/") ? k.slice(prefix.length) : undefined
    }
    const apply = (state: MirrorState, kv: IKeyValue, deleted: boolean): MirrorState => {
      const ns = nsOf(kv.key)
      const revision = Math.max(state.revision, Number(kv.mod_revision))
      if (ns === undefined) return { ...state, revision }
      if (deleted) return withNamespace(state, ns, undefined, revision)
      const dtab = Dtab.parse(kv.value.toString("utf8"))
      if (Result.isFailure(dtab)) {
        Effect.runFork(Effect.logWarning(`etcd key ${prefix}${ns} does not hold a valid dtab: ${dtab.failure.message}`))
        return withNamespace(state, ns, undefined, revision)
      }
      return withNamespace(state, ns, { dtab: dtab.success, version: kv.mod_revision }, revision)
    }

    const start = Effect.tryPromise({
      try: async () => {
        const all = await client.getAll().prefix(prefix).exec()
        const revision = Number(all.header.revision)
        let state: MirrorState = { synced: true, dtabs: new Map(), revision }
        for (const kv of all.kvs) state = apply(state, kv, false)
        const watcher = await client.watch().prefix(prefix).startRevision(String(revision + 1)).create()
        return { state, watcher }
      },
      catch: message
    }).pipe(
      Effect.tapError((e) => Effect.logWarning(`etcd at ${options.host}:${options.port} unavailable: ${e}`)),
      Effect.retry(Schedule.spaced(Duration.seconds(1)))
    )
    const watch = Effect.acquireRelease(
      Effect.gen(function*() {
        const { state, watcher } = yield* start
        yield* SubscriptionRef.set(mirror.ref, state)
        connected = 1
        const update = (f: (s: MirrorState) => MirrorState) => Effect.runFork(SubscriptionRef.update(mirror.ref, f))
        watcher.on("put", (kv) => update((s) => apply(s, kv, false)))
        watcher.on("delete", (kv) => update((s) => apply(s, kv, true)))
        watcher.on("data", (res) =>
          update((s) => ({ ...s, revision: Math.max(s.revision, Number(res.header.revision)) })))
        watcher.on("disconnected", (e) => {
          watchErrors?.incr()
          if (connected === 1) {
            Effect.runFork(
              Effect.logWarning(`etcd watch disconnected (serving the last dtabs; resuming): ${message(e)}`)
            )
          }
          connected = 0
        })
        watcher.on("connected", () => (connected = 1))
        watcher.on("error", (e) => {
          watchErrors?.incr()
          Effect.runFork(Effect.logWarning(`etcd watch error: ${message(e)}`))
        })
        return watcher
      }),
      (w: Watcher) =>
        Effect.promise(() => w.cancel().catch(() => undefined))
    )
    yield* Effect.forkScoped(Effect.scoped(Effect.andThen(watch, Effect.never)))

    const unavailable = (ns: string) => (e: unknown) =>
      new DtabStoreError({ reason: "Unavailable", namespace: ns, detail: message(e) })
    const call = <A>(ns: string, f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: unavailable(ns) })
    const seen = (ns: string, revision: string) =>
      mirror.awaitState(ns, (s) => s.synced && s.revision >= Number(revision))
    const key = (ns: string) => prefix + ns

    return {
      kind: "io.l5d.etcd",
      list: mirror.list,
      watchList: mirror.watchList,
      observe: mirror.observe,
      create: (ns, dtab) =>
        call(ns, () => client.if(key(ns), "Create", "==", 0).then(client.put(key(ns)).value(Dtab.show(dtab))).commit())
          .pipe(
            Effect.flatMap((r) =>
              r.succeeded
                ? seen(ns, r.header.revision)
                : Effect.fail(new DtabStoreError({ reason: "Exists", namespace: ns }))
            )
          ),
      update: (ns, dtab, version) => {
        const txn: Effect.Effect<ITxnResponse | undefined, DtabStoreError> = /^[0-9]+$/.test(version)
          ? call(
            ns,
            () => client.if(key(ns), "Mod", "==", version).then(client.put(key(ns)).value(Dtab.show(dtab))).commit()
          )
          : Effect.succeed(undefined)
        return Effect.flatMap(txn, (r) =>
          r !== undefined && r.succeeded
            ? seen(ns, r.header.revision)
            : call(ns, () => client.get(key(ns)).exec()).pipe(
              Effect.flatMap((g) =>
                Effect.fail(
                  new DtabStoreError({ reason: g.kvs.length === 0 ? "NotFound" : "VersionMismatch", namespace: ns })
                )
              )
            ))
      },
      put: (ns, dtab) =>
        call(ns, () => client.put(key(ns)).value(Dtab.show(dtab)).exec()).pipe(
          Effect.flatMap((r) => seen(ns, r.header.revision))
        ),
      delete: (ns) =>
        call(ns, () => client.delete().key(key(ns)).exec()).pipe(
          Effect.flatMap((r) =>
            r.deleted === "0"
              ? Effect.fail(new DtabStoreError({ reason: "NotFound", namespace: ns }))
              : seen(ns, r.header.revision)
          )
        )
    } satisfies DtabStore
  })
