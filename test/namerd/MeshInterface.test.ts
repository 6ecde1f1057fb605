import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import { readFileSync } from "node:fs"
import * as NamerdConfig from "../../src/namerd/Config.js"
import * as Namerd from "../../src/namerd/Namerd.js"
import * as Dtab from "../../src/naming/Dtab.js"
import { waitFor } from "../support/poll.js"
import { clients, grpc, path, rawUnary, showPath, streaming, unary } from "./mesh.js"

const start = (namespaces: Record<string, string>) =>
  Effect.gen(function*() {
    const r = NamerdConfig.decode({
      admin: { port: 0 },
      storage: { kind: "io.l5d.inMemory", namespaces },
      interfaces: [{ kind: "io.l5d.mesh", port: 0 }]
    })
    if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
    const namerd = yield* Namerd.make(r.success)
    return { namerd, port: namerd.interfaces[0]!.port }
  })

const leafId = (rsp: any): string | undefined => rsp?.tree?.node === "leaf" ? showPath(rsp.tree.leaf.id) : undefined

describe("namerd io.l5d.mesh (a grpc-js client)", () => {
  it.live("examples/namerd/namerd-tls.yaml decodes; namerd stops at its first certificate, located", () =>
    Effect.gen(function*() {
      const r = NamerdConfig.parse(readFileSync("examples/namerd/namerd-tls.yaml", "utf8"))
      if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
      expect(r.success.interfaces.map((i) => i.kind)).toEqual([
        "io.l5d.httpController",
        "io.l5d.mesh",
        "io.l5d.thriftNameInterpreter"
      ])
      const exit = yield* Effect.exit(Namerd.make({ ...r.success, admin: { ...r.success.admin, port: 0 } }))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain(
        "interfaces[0].tls: cannot read certificate /etc/weir/namerd/namerd.pem"
      )
    }))

  it.live("Interpreter: GetBoundTree and StreamBoundTree follow the namespace's dtab", () =>
    Effect.gen(function*() {
      const { namerd, port } = yield* start({ default: "/svc => /$/inet/127.0.0.1" })
      const c = yield* clients(port)
      const req = { root: path("/default"), name: path("/svc/8080") }
      const got = yield* unary(c.interpreter, "GetBoundTree", req)
      expect(leafId(got.ok)).toBe("/$/inet/127.0.0.1/8080")
      expect(showPath(got.ok!.tree.leaf.residual)).toBe("/")

      const extra = yield* unary(c.interpreter, "GetBoundTree", {
        ...req,
        dtab: {
          dentries: [{
            prefix: { elems: [{ label: Buffer.from("svc") }, { wildcard: {} }] },
            dst: { union: { trees: [{ weight: 3, tree: { leaf: { id: path("/$/inet/127.0.0.1/1") } } }] } }
          }]
        }
      })
      expect(extra.ok?.tree?.node).toBe("leaf")
      expect(leafId(extra.ok)).toBe("/$/inet/127.0.0.1/1")

      const watch = yield* streaming(c.interpreter, "StreamBoundTree", req)
      yield* waitFor(() => watch.messages.length >= 1, "the first bound tree")
      yield* namerd.store.put("default", Dtab.parseUnsafe("/svc => /$/inet/127.0.0.2"))
      yield* waitFor(() => watch.messages.length >= 2, "the tree after the dtab change")
      expect(watch.messages.map(leafId)).toEqual(["/$/inet/127.0.0.1/8080", "/$/inet/127.0.0.2/8080"])

      const neg = yield* unary(c.interpreter, "GetBoundTree", { root: path("/default"), name: path("/nothing") })
      expect(neg.ok?.tree?.node).toBe("neg")
    }))

  it.live("Resolver: replicas of a bound id, with address bytes and port", () =>
    Effect.gen(function*() {
      const { port } = yield* start({})
      const c = yield* clients(port)
      const got = yield* unary(c.resolver, "GetReplicas", { id: path("/$/inet/127.0.0.1/8080") })
      expect(got.ok?.result).toBe("bound")
      const [e] = got.ok!.bound.endpoints
      expect(e.inet_af).toBe("INET4")
      expect([...e.address]).toEqual([127, 0, 0, 1])
      expect(e.port).toBe(8080)
      const v6 = yield* unary(c.resolver, "GetReplicas", { id: path("/$/inet/::1/81") })
      expect(v6.ok!.bound.endpoints[0].inet_af).toBe("INET6")
      expect([...v6.ok!.bound.endpoints[0].address]).toEqual([...new Array(15).fill(0), 1])
      const none = yield* unary(c.resolver, "GetReplicas", {})
      expect(none.ok?.result).toBe("failed")
      expect(none.ok?.failed.message).toBe("No ID provided")
      const stream = yield* streaming(c.resolver, "StreamReplicas", { id: path("/$/inet/127.0.0.1/9") })
      yield* waitFor(() => stream.messages.some((m) => m.result === "bound"), "a streamed replica set")
    }))

  it.live("Delegator: the dtab with its version, its changes, the delegation of a path, NOT_FOUND", () =>
    Effect.gen(function*() {
      const { namerd, port } = yield* start({ default: "/svc => /$/inet/127.0.0.1" })
      const c = yield* clients(port)
      const got = yield* unary(c.delegator, "GetDtab", { root: path("/default") })
      const d = got.ok!.dtab
      expect(d.version.id.toString("utf8")).not.toBe("")
      expect(d.dtab.dentries).toHaveLength(1)
      expect(d.dtab.dentries[0].prefix.elems[0].label.toString()).toBe("svc")
      expect(showPath(d.dtab.dentries[0].dst.leaf.id)).toBe("/$/inet/127.0.0.1")

      const watch = yield* streaming(c.delegator, "StreamDtab", { root: path("/default") })
      yield* waitFor(() => watch.messages.length >= 1, "the first dtab")
      yield* namerd.store.put("default", Dtab.parseUnsafe("/svc => /$/inet/127.0.0.2 | /$/inet/127.0.0.3"))
      yield* waitFor(() => watch.messages.length >= 2, "the changed dtab")
      expect(watch.messages[1]!.dtab.dtab.dentries[0].dst.node).toBe("alt")

      const missing = yield* unary(c.delegator, "GetDtab", { root: path("/nope") })
      expect(missing.code).toBe(grpc.status.NOT_FOUND)

      const tree = yield* unary(c.delegator, "GetDelegateTree", {
        root: path("/default"),
        tree: { leaf: { id: path("/svc/80") } }
      })
      expect(showPath(tree.ok!.tree.path)).toBe("/svc/80")
      expect(tree.ok!.tree.node).toBe("alt")
      const first = tree.ok!.tree.alt.trees[0]
      expect(showPath(first.leaf.id)).toBe("/$/inet/127.0.0.2/80")
      expect(first.dentry.prefix.elems[0].label.toString()).toBe("svc")
      expect(first.dentry.dst.node).toBe("alt")
    }))

  it.live("bad calls get gRPC statuses, never a crash", () =>
    Effect.gen(function*() {
      const { port } = yield* start({ default: "/svc => /$/inet/127.0.0.1" })
      const c = yield* clients(port)
      const noRoot = yield* unary(c.interpreter, "GetBoundTree", { name: path("/svc/1") })
      expect(noRoot.code).toBe(grpc.status.INVALID_ARGUMENT)
      const deepRoot = yield* unary(c.interpreter, "GetBoundTree", { root: path("/a/b"), name: path("/svc/1") })
      expect(deepRoot.code).toBe(grpc.status.INVALID_ARGUMENT)
      const garbage = yield* rawUnary(c.raw, "/io.linkerd.mesh.Interpreter/GetBoundTree", Buffer.from([0x0a, 0xff]))
      expect(garbage.code).toBe(grpc.status.INVALID_ARGUMENT)
      expect(garbage.details).toContain("Invalid request")
      const unknown = yield* rawUnary(c.raw, "/io.linkerd.mesh.Interpreter/Nope", Buffer.alloc(0))
      expect(unknown.code).toBe(grpc.status.UNIMPLEMENTED)
      const ok = yield* unary(c.interpreter, "GetBoundTree", { root: path("/default"), name: path("/svc/1") })
      expect(leafId(ok.ok)).toBe("/$/inet/127.0.0.1/1")
    }))
})
