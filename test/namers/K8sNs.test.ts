import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Stream from "effect/Stream"
import { Address, Name, type Namer, NameTree, Path } from "../../src/index.js"
import * as K8sNs from "../../src/namers/K8sNs.js"
import { waitFor } from "../support/poll.js"
import * as Fake from "./k8s-fake.js"

const fakeServer = Effect.acquireRelease(Effect.promise(() => Fake.start()), (f) => Effect.promise(() => f.close()))

const follow = (namer: Namer.Namer, path: string) =>
  Effect.gen(function*() {
    const state = { tree: "", addrs: "" }
    yield* namer.lookup(Path.read(path)).pipe(
      Stream.tap((t) =>
        Effect.sync(() => {
          state.tree = t._tag === "Leaf" && Name.isBound(t.value)
            ? `${Name.idString(t.value)} ${Path.show(t.value.residual)}`
            : NameTree.showWith(t, Name.show)
        })
      ),
      Stream.switchMap((t) =>
        t._tag === "Leaf" && Name.isBound(t.value)
          ? Name.addresses(t.value)
          : Name.constant<ReadonlyArray<Address.Address>>([])
      ),
      Stream.runForEach((xs) => Effect.sync(() => (state.addrs = xs.map(Address.key).join(",")))),
      Effect.forkChild
    )
    return state
  })

const web = (ready: ReadonlyArray<string>): Fake.EndpointsSpec => ({ ready, ports: [{ name: "http", port: 8080 }] })

describe("io.l5d.k8s.ns", () => {
  it.live("resolves /<port>/<service> in the namespace of its environment variable, and only there", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.set("prod", "web", web(["10.0.0.1"]))
      fake.set("staging", "web", web(["10.9.0.1"]))
      const namer = yield* K8sNs.make({ host: "127.0.0.1", port: fake.port, envVar: "MY_NS", env: { MY_NS: "prod" } })
      const s = yield* follow(namer, "/http/web/rest")
      yield* waitFor(() => s.addrs === "10.0.0.1:8080", "the prod service")
      expect(s.tree).toBe("/http/web /rest")
      expect(fake.requests[0]!.url).toMatch(/^\/api\/v1\/namespaces\/prod\/endpoints\?/)
      fake.set("prod", "web", web(["10.0.0.1", "10.0.0.2"]))
      yield* waitFor(() => s.addrs === "10.0.0.1:8080,10.0.0.2:8080", "scale up")
      expect(yield* namer.enumerate!).toEqual([Path.read("/http/web")])
      const missing = yield* follow(namer, "/http/db")
      yield* waitFor(() => missing.tree === "~", "a service not in the namespace is Neg")
    }))

  it.live("fails to build, naming the variable, when the namespace is not set", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Effect.scoped(K8sNs.make({ host: "127.0.0.1", port: 1, env: {} })))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(String(Exit.isFailure(exit) ? exit.cause : "")).toContain("POD_NAMESPACE")
    }))
})
