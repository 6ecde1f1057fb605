import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import { Address, Name, type Namer, NameTree, Path } from "../../src/index.js"
import * as K8sExternal from "../../src/namers/K8sExternal.js"
import * as Validate from "../../src/proxy/Validate.js"
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

const ports = [{ name: "http", port: 80 }, { name: "admin", port: 9990 }]

describe("io.l5d.k8s.external", () => {
  it.live("answers the load balancer's ingress addresses with the service port, live", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.setService("prod", "web", { ports }) // balancer not provisioned yet
      fake.set("prod", "web", { ready: ["10.0.0.1"], ports: [{ name: "http", port: 8080 }] }) // endpoints are not read
      const namer = yield* K8sExternal.make({ host: "127.0.0.1", port: fake.port })
      const s = yield* follow(namer, "/prod/http/web/rest")
      const numbered = yield* follow(namer, "/prod/9990/web")
      yield* waitFor(() => s.tree === "/prod/http/web /rest", "bound before the balancer has an address")
      expect(s.addrs).toBe("")
      fake.setService("prod", "web", { ports, ingress: [{ ip: "203.0.113.7" }] })
      yield* waitFor(() => s.addrs === "203.0.113.7:80", "the ingress ip")
      yield* waitFor(() => numbered.addrs === "203.0.113.7:9990", "a numbered service port")
      fake.setService("prod", "web", { ports, ingress: [{ hostname: "web.elb.example" }, { ip: "203.0.113.8" }] })
      yield* waitFor(() => s.addrs === "web.elb.example:80,203.0.113.8:80", "a hostname ingress")
      expect(fake.requests[0]!.url).toBe("/api/v1/namespaces/prod/services?fieldSelector=metadata.name%3Dweb")
      fake.remove("prod", "web", "services")
      yield* waitFor(() => s.tree === "~", "deleted: Neg")
      const missing = yield* follow(namer, "/prod/grpc/web")
      yield* waitFor(() => missing.tree === "~", "an unknown port is Neg")
    }))

  it("is experimental, as in linkerd: it must be enabled", () => {
    const config = (experimental: string) => `
namers: [{kind: io.l5d.k8s.external${experimental}}]
routers: [{protocol: http, dtab: "/svc => /#/io.l5d.k8s.external/prod/http"}]
`
    expect(Result.isSuccess(Validate.check(config(", experimental: true")))).toBe(true)
    const r = Validate.check(config(""))
    expect(Result.isFailure(r) && r.failure.map((p) => p.path)).toEqual(["namers[0].experimental"])
  })
})
