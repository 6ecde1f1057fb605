import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TransformerConfig from "../../src/config/transformer/index.js"
import { Address, Dtab, Interpreter, Name, NameTree, Path } from "../../src/index.js"
import * as K8sNamer from "../../src/namers/K8s.js"
import * as K8s from "../../src/namers/k8s/Transformers.js"
import * as Transformer from "../../src/naming/transformers/Transformer.js"
import { waitFor } from "../support/poll.js"
import * as Fake from "./k8s-fake.js"

const fakeServer = Effect.acquireRelease(Effect.promise(() => Fake.start()), (f) => Effect.promise(() => f.close()))

/** Follows a bound tree's first leaf: its id and its current state (`host:port,…`, `Neg`, `Pending`). */
const follow = (tree: NameTree.NameTree<Name.Bound>) =>
  Effect.gen(function*() {
    const leaf = NameTree.leaves(tree)[0]!
    const state = { id: Name.idString(leaf), addrs: "" }
    yield* leaf.addr.pipe(
      Stream.runForEach((a) =>
        Effect.sync(() => {
          state.addrs = a._tag === "Bound" ? a.addresses.map(Address.key).sort().join(",") : a._tag
        })
      ),
      Effect.forkChild
    )
    return state
  })

const apps = (ready: ReadonlyArray<string>, nodeNames?: Record<string, string>): Fake.EndpointsSpec => ({
  ready,
  ports: [{ name: "http", port: 8080 }],
  ...(nodeNames !== undefined ? { nodeNames } : {})
})

const daemons = (ready: ReadonlyArray<string>, nodeNames?: Record<string, string>): Fake.EndpointsSpec => ({
  ready,
  ports: [{ name: "incoming", port: 4141 }, { name: "admin", port: 9990 }],
  ...(nodeNames !== undefined ? { nodeNames } : {})
})

describe("Kubernetes transformers against the fake API", () => {
  it.live("io.l5d.k8s.daemonset: each pod's address becomes the daemonset pod on its /24, live", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.set("default", "books", apps(["10.0.1.5", "10.0.1.6", "10.0.2.5"]))
      fake.set("linkerd", "l5d", daemons(["10.0.1.2", "10.0.2.2", "10.0.3.2"]))
      const namer = yield* K8sNamer.make({ host: "127.0.0.1", port: fake.port })
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/io.l5d.k8s"), namer]] })
      const t = yield* K8s.daemonset({
        apiHost: "127.0.0.1",
        apiPort: fake.port,
        namespace: "linkerd",
        service: "l5d",
        port: "incoming"
      })
      const wrapped = Transformer.wrapInterpreter(interp, [t])
      const bound = yield* Interpreter.bindOnce(
        wrapped,
        Dtab.read("/svc=>/#/io.l5d.k8s/default/http"),
        Path.read("/svc/books")
      )
      const state = yield* follow(bound)
      expect(state.id).toBe("/%/io.l5d.k8s.daemonset/linkerd/incoming/l5d/#/io.l5d.k8s/default/http/books")
      yield* waitFor(() => state.addrs === "10.0.1.2:4141,10.0.2.2:4141", "the daemonset pods of both nodes")
      // the daemonset pod of node 2 is replaced
      fake.set("linkerd", "l5d", daemons(["10.0.1.2", "10.0.2.9", "10.0.3.2"]))
      yield* waitFor(() => state.addrs === "10.0.1.2:4141,10.0.2.9:4141", "the new daemonset pod")
      // the app leaves node 2
      fake.set("default", "books", apps(["10.0.1.5"]))
      yield* waitFor(() => state.addrs === "10.0.1.2:4141", "node 1's daemonset pod only")
      // a second name shares the daemonset's one watch: one list of the daemonset's endpoints in all
      fake.set("default", "authors", apps(["10.0.3.5"]))
      const authors = yield* follow(
        yield* Interpreter.bindOnce(wrapped, Dtab.read("/svc=>/#/io.l5d.k8s/default/http"), Path.read("/svc/authors"))
      )
      yield* waitFor(() => authors.addrs === "10.0.3.2:4141", "node 3's daemonset pod")
      const daemonLists = fake.requests.filter((r) =>
        r.url.startsWith("/api/v1/namespaces/linkerd/endpoints") && !r.url.includes("watch=true")
      )
      expect(daemonLists).toHaveLength(1)
    }))

  it.live("io.l5d.k8s.daemonset with hostNetwork pairs by nodeName; built from its config", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.set("default", "books", apps(["10.0.1.5", "10.0.2.5"], { "10.0.1.5": "n1", "10.0.2.5": "n2" }))
      // host-network daemonset pods carry the nodes' IPs, unrelated to the pods' networks
      fake.set("linkerd", "l5d", daemons(["192.0.2.11", "192.0.2.12"], { "192.0.2.11": "n1", "192.0.2.12": "n2" }))
      const config = Schema.decodeUnknownSync(TransformerConfig.registry.schema)({
        kind: "io.l5d.k8s.daemonset",
        namespace: "linkerd",
        service: "l5d",
        port: "incoming",
        k8sHost: "127.0.0.1",
        k8sPort: fake.port,
        hostNetwork: true
      })
      const [t] = yield* TransformerConfig.buildAll([config])
      const namer = yield* K8sNamer.make({ host: "127.0.0.1", port: fake.port })
      const interp = Transformer.wrapInterpreter(
        yield* Interpreter.make({ namers: [[Path.read("/#/io.l5d.k8s"), namer]] }),
        [t!]
      )
      const state = yield* follow(
        yield* Interpreter.bindOnce(interp, Dtab.empty, Path.read("/#/io.l5d.k8s/default/http/books"))
      )
      yield* waitFor(() => state.addrs === "192.0.2.11:4141,192.0.2.12:4141", "both nodes' daemonset pods")
      fake.set("default", "books", apps(["10.0.2.5"], { "10.0.2.5": "n2" }))
      yield* waitFor(() => state.addrs === "192.0.2.12:4141", "node n2's daemonset pod")
    }))

  it.live("io.l5d.k8s.localnode keeps the endpoints on this node (nodeName from NODE_NAME with hostNetwork)", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.set(
        "default",
        "books",
        apps(["10.0.1.5", "10.0.1.6", "10.0.2.5"], { "10.0.1.5": "n1", "10.0.1.6": "n1", "10.0.2.5": "n2" })
      )
      const namer = yield* K8sNamer.make({ host: "127.0.0.1", port: fake.port })
      const base = yield* Interpreter.make({ namers: [[Path.read("/#/io.l5d.k8s"), namer]] })
      const path = Path.read("/#/io.l5d.k8s/default/http/books")

      const byIp = K8s.localnode({ env: { POD_IP: "10.0.2.40" } })
      const byNode = K8s.localnode({ hostNetwork: true, env: { NODE_NAME: "n1" } })
      if (Result.isFailure(byIp) || Result.isFailure(byNode)) throw new Error("localnode")
      const ip = yield* follow(
        yield* Interpreter.bindOnce(Transformer.wrapInterpreter(base, [byIp.success]), Dtab.empty, path)
      )
      const node = yield* follow(
        yield* Interpreter.bindOnce(Transformer.wrapInterpreter(base, [byNode.success]), Dtab.empty, path)
      )
      expect(ip.id).toBe("/%/io.l5d.k8s.localnode/10.0.2.40/#/io.l5d.k8s/default/http/books")
      expect(node.id).toBe("/%/io.l5d.k8s.localnode/n1/#/io.l5d.k8s/default/http/books")
      yield* waitFor(() => ip.addrs === "10.0.2.5:8080", "node 2's pod by /24")
      yield* waitFor(() => node.addrs === "10.0.1.5:8080,10.0.1.6:8080", "node n1's pods by name")
      // the pod on node 2 goes away: nothing local is left, Neg
      fake.set("default", "books", apps(["10.0.1.5", "10.0.1.6"], { "10.0.1.5": "n1", "10.0.1.6": "n1" }))
      yield* waitFor(() => ip.addrs === "Neg", "Neg when no pod is on this node")
      expect(node.addrs).toBe("10.0.1.5:8080,10.0.1.6:8080")
    }))
})
