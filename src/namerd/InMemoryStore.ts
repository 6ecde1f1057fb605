/**
 * `io.l5d.inMemory` storage: dtabs held by the namerd process itself, seeded from the config and
 * lost when it stops. For trying namerd out and for tests; a fleet that must survive a restart or
 * run more than one namerd uses `io.l5d.etcd` or `io.l5d.zk`.
 *
 * ```yaml
 * storage:
 *   kind: io.l5d.inMemory
 *   namespaces:
 *     default: |
 *       /svc => /#/io.l5d.fs;
 * ```
 *
 * Versions are a counter per store, so a deleted and re-created namespace never reuses a version.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type * as Dtab from "../naming/Dtab.js"
import { type DtabStore, DtabStoreError, makeMirror, withNamespace } from "./DtabStore.js"

/**
 * An in-memory store holding `namespaces` to begin with.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (namespaces?: ReadonlyMap<string, Dtab.Dtab>): Effect.Effect<DtabStore> =>
  Effect.gen(function*() {
    const mirror = yield* makeMirror({ synced: true })
    let counter = 0
    const next = () => String(++counter)
    for (const [ns, dtab] of namespaces ?? []) {
      yield* SubscriptionRef.update(mirror.ref, (s) => withNamespace(s, ns, { dtab, version: next() }))
    }
    const modify = <E>(f: (current: string | undefined) => E | undefined, ns: string, dtab: Dtab.Dtab | undefined) =>
      SubscriptionRef.modify(mirror.ref, (s) => {
        const error = f(s.dtabs.get(ns)?.version)
        if (error !== undefined) return [error, s] as const
        return [undefined, withNamespace(s, ns, dtab === undefined ? undefined : { dtab, version: next() })] as const
      }).pipe(Effect.flatMap((e) => e === undefined ? Effect.void : Effect.fail(e)))
    const error = (reason: DtabStoreError["reason"], ns: string) => new DtabStoreError({ reason, namespace: ns })
    return {
      kind: "io.l5d.inMemory",
      list: mirror.list,
      watchList: mirror.watchList,
      observe: mirror.observe,
      create: (ns, dtab) => modify((v) => v !== undefined ? error("Exists", ns) : undefined, ns, dtab),
      update: (ns, dtab, version) =>
        modify(
          (v) => v === undefined ? error("NotFound", ns) : v !== version ? error("VersionMismatch", ns) : undefined,
          ns,
          dtab
        ),
      put: (ns, dtab) => modify(() => undefined, ns, dtab),
      delete: (ns) => modify((v) => v === undefined ? error("NotFound", ns) : undefined, ns, undefined)
    } satisfies DtabStore
  })
