/**
 * Builds the dtab store a namerd config's `storage` describes (an exhaustive table from `kind` to
 * constructor), and waits for its first answer so namerd never serves an empty store by mistake.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type * as Stats from "../Stats.js"
import type * as Config from "./Config.js"
import * as ConsulStore from "./ConsulStore.js"
import type { DtabStore } from "./DtabStore.js"
import * as EtcdStore from "./EtcdStore.js"
import * as InMemoryStore from "./InMemoryStore.js"
import * as K8sStore from "./K8sStore.js"
import * as ZkStore from "./ZkStore.js"

/**
 * The store could not be built or did not answer.
 *
 * @since 0.1.0
 * @category errors
 */
export class StorageError extends Data.TaggedError("StorageError")<{ readonly message: string }> {}

type Builder<K extends Config.Storage["kind"]> =
  | ((
    storage: Extract<Config.Storage, { readonly kind: K }>,
    stats: Stats.StatsReceiver
  ) => Effect.Effect<DtabStore, never, Scope.Scope>)
  | undefined

/**
 * How each storage kind is built; `undefined` for kinds this version cannot run.
 *
 * @since 0.1.0
 * @category constructors
 */
export const builders: { readonly [K in Config.Storage["kind"]]: Builder<K> } = {
  "io.l5d.inMemory": (s) => InMemoryStore.make(new Map(Object.entries(s.namespaces))),
  "io.l5d.etcd": (s, stats) => EtcdStore.make({ host: s.host, port: s.port, pathPrefix: s.pathPrefix, stats }),
  "io.l5d.zk": (s, stats) =>
    ZkStore.make({
      zkAddrs: s.zkAddrs,
      pathPrefix: s.pathPrefix,
      sessionTimeout: s.sessionTimeoutMs,
      ...(s.authInfo !== undefined ? { authInfo: s.authInfo } : {}),
      stats
    }),
  "io.l5d.k8s": (s, stats) => K8sStore.make({ host: s.host, port: s.port, namespace: s.namespace, stats }),
  "io.l5d.consul": (s, stats) =>
    ConsulStore.make({
      host: s.host,
      port: s.port,
      pathPrefix: s.pathPrefix,
      ...(s.token !== undefined ? { token: s.token } : {}),
      ...(s.datacenter !== undefined ? { datacenter: s.datacenter } : {}),
      stats
    })
}

/**
 * Builds the store of `storage` in the current scope and waits for its first answer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  storage: Config.Storage,
  stats: Stats.StatsReceiver
): Effect.Effect<DtabStore, StorageError, Scope.Scope> =>
  Effect.gen(function*() {
    const builder = builders[storage.kind] as Builder<typeof storage.kind>
    if (builder === undefined) {
      return yield* new StorageError({
        message: `storage kind ${storage.kind} is not available in this version of weir`
      })
    }
    const store = yield* (builder as (
      s: Config.Storage,
      r: Stats.StatsReceiver
    ) => Effect.Effect<DtabStore, never, Scope.Scope>)(storage, stats)
    yield* store.list.pipe(
      Effect.mapError((e) => new StorageError({ message: `${storage.kind} did not answer: ${e.message}` }))
    )
    return store
  })
