/** Effect helpers of the ZooKeeper tests: a server and a writer in scope, following a lookup, member data. */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { Address, Name, Path } from "../../src/index.js"
import type * as Namer from "../../src/naming/Namer.js"
import * as ZooKeeper from "./zookeeper.js"

export const zookeeper = Effect.acquireRelease(
  Effect.promise(() => ZooKeeper.start()),
  (zk) => Effect.promise(() => zk.close())
)

export const zkWriter = (connectString: string) =>
  Effect.acquireRelease(Effect.promise(() => ZooKeeper.writer(connectString)), (w) => Effect.sync(() => w.close()))

/** Follows a lookup: the tree's shape (`neg`, or the bound id and residual) and its addresses. */
export const follow = (namer: Namer.Namer, path: string) =>
  Effect.gen(function*() {
    const state = { tree: "", addrs: "", failed: "" }
    yield* namer.lookup(Path.parseUnsafe(path)).pipe(
      Stream.tap((t) =>
        Effect.sync(() => {
          state.tree = t._tag === "Leaf" && t.value._tag === "Bound"
            ? `${Name.idString(t.value)} ${Path.show(t.value.residual)}`
            : t._tag.toLowerCase()
          if (t._tag !== "Leaf") state.addrs = ""
        })
      ),
      Stream.switchMap((t) =>
        t._tag === "Leaf" && t.value._tag === "Bound"
          ? Name.addresses(t.value)
          : Name.constant<ReadonlyArray<Address.Address>>([])
      ),
      Stream.runForEach((xs) => Effect.sync(() => (state.addrs = xs.map(Address.key).sort().join(",")))),
      Effect.catch((e) => Effect.sync(() => (state.failed = e.reason))),
      Effect.forkChild
    )
    return state
  })

export const member = (host: string, port: number, extra?: Record<string, unknown>) =>
  JSON.stringify({ serviceEndpoint: { host, port }, additionalEndpoints: {}, status: "ALIVE", ...extra })
