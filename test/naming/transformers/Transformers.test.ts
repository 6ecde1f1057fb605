import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { Addr, Address, Dtab, Interpreter, Name, NameTree, Path } from "../../../src/index.js"
import * as K8s from "../../../src/namers/k8s/Transformers.js"
import * as PathMatcher from "../../../src/naming/PathMatcher.js"
import * as Explain from "../../../src/naming/transformers/Explain.js"
import * as Gateway from "../../../src/naming/transformers/Gateway.js"
import * as Hosts from "../../../src/naming/transformers/Hosts.js"
import * as Port from "../../../src/naming/transformers/Port.js"
import * as Replace from "../../../src/naming/transformers/Replace.js"
import * as Transformer from "../../../src/naming/transformers/Transformer.js"
import { addrOf, makeTestNamer, settle, showBound } from "../helpers.js"

const addr = (host: string, port: number, meta: Record<string, unknown> = {}, weight = 1) =>
  Address.make(host, port, { weight, meta })

const boundLeaf = (id: string, addresses: ReadonlyArray<Address.Address>, meta: Record<string, unknown> = {}) =>
  NameTree.leaf(Name.boundConstant(Path.read(id), Addr.bound(addresses, meta)))

/** The tree shown with ids, and each leaf's current state as `host:port` lists. */
const view = (tree: NameTree.NameTree<Name.Bound>) =>
  Effect.gen(function*() {
    const states = yield* Effect.forEach(NameTree.leaves(tree), addrOf)
    return {
      tree: showBound(tree),
      addrs: states.map((a) => a._tag === "Bound" ? a.addresses.map((x) => `${x.host}:${x.port}`).join(",") : a._tag)
    }
  })

const firstBound = (tree: NameTree.NameTree<Name.Bound>) =>
  Effect.map(addrOf(NameTree.leaves(tree)[0]!), (a) => a as Addr.Bound)

describe("transformers", () => {
  it.effect("io.l5d.port replaces every port, keeps hosts, weights and metadata, prefixes the id", () =>
    Effect.gen(function*() {
      const t = Port.make({ port: 4141 })
      const tree = NameTree.union(
        { weight: 3, tree: boundLeaf("/#/io.l5d.fs/books", [addr("10.0.0.1", 8080, { zone: "a" }, 2)], { m: 1 }) },
        { weight: 1, tree: boundLeaf("/#/io.l5d.fs/authors", [addr("10.0.0.2", 9090)]) }
      )
      const out = t.apply(tree)
      expect(yield* view(out)).toEqual({
        tree: "3.00*/%/io.l5d.port/4141/#/io.l5d.fs/books & /%/io.l5d.port/4141/#/io.l5d.fs/authors",
        addrs: ["10.0.0.1:4141", "10.0.0.2:4141"]
      })
      const b = yield* firstBound(out)
      expect(b.meta).toEqual({ m: 1 })
      expect(b.addresses[0]!.weight).toBe(2)
      expect(b.addresses[0]!.meta).toEqual({ zone: "a" })
      // client configs match transformed ids, as linkerd's do
      const id = NameTree.leaves(out)[0]!.id as Path.Path
      expect(PathMatcher.match(PathMatcher.parseUnsafe("/%/io.l5d.port/*/#/io.l5d.fs/{service}"), id)).toEqual({
        service: "books"
      })
      // Neg, Fail and Empty are kept
      expect(t.apply(NameTree.alt(NameTree.neg, NameTree.fail, NameTree.empty))).toEqual(
        NameTree.alt(NameTree.neg, NameTree.fail, NameTree.empty)
      )
    }))

  it.effect("a transformed address set follows the namer's set live", () =>
    Effect.gen(function*() {
      const ref = yield* SubscriptionRef.make<Addr.Addr>(Addr.bound([addr("10.0.0.1", 8080)]))
      const tree = NameTree.leaf(Name.bound(Path.read("/#/x"), SubscriptionRef.changes(ref)))
      const leaf = NameTree.leaves(Port.make({ port: 7 }).apply(tree))[0]!
      const seen: Array<string> = []
      yield* leaf.addr.pipe(
        Stream.runForEach((a) =>
          Effect.sync(() => seen.push(a._tag === "Bound" ? a.addresses.map(Address.key).join(",") : a._tag))
        ),
        Effect.forkChild
      )
      yield* settle
      yield* SubscriptionRef.set(ref, Addr.bound([addr("10.0.0.1", 8080), addr("10.0.0.9", 8080)]))
      yield* settle
      yield* SubscriptionRef.set(ref, Addr.neg)
      yield* settle
      expect(seen).toEqual(["10.0.0.1:7", "10.0.0.1:7,10.0.0.9:7", "Neg"])
    }))

  it.effect("io.l5d.localhost keeps this machine's addresses; an emptied set is Neg", () =>
    Effect.gen(function*() {
      const t = Hosts.localhost({ addresses: ["127.0.0.1", "10.1.1.1"] })
      const out = t.apply(boundLeaf("/#/io.l5d.fs/books", [
        addr("127.0.0.1", 1),
        addr("10.1.1.2", 2),
        addr("10.1.1.1", 3, { k: "v" })
      ]))
      expect(yield* view(out)).toEqual({
        tree: "/%/io.l5d.localhost/#/io.l5d.fs/books",
        addrs: ["127.0.0.1:1,10.1.1.1:3"]
      })
      expect((yield* firstBound(out)).addresses[1]!.meta).toEqual({ k: "v" })
      const none = t.apply(boundLeaf("/#/io.l5d.fs/books", [addr("192.0.2.1", 1)]))
      expect((yield* view(none)).addrs).toEqual(["Neg"])
      // the default is the machine's interfaces, which include loopback
      expect(Hosts.localAddresses()).toContain("127.0.0.1")
    }))

  it.effect("io.l5d.specificHost keeps one host's addresses", () =>
    Effect.gen(function*() {
      const t = Hosts.specificHost({ host: "app-host", addresses: ["10.0.3.7"] })
      const out = t.apply(boundLeaf("/#/io.l5d.fs/books", [addr("10.0.3.7", 1), addr("10.0.3.8", 2)]))
      expect(yield* view(out)).toEqual({
        tree: "/%/io.l5d.specificHost/#/io.l5d.fs/books",
        addrs: ["10.0.3.7:1"]
      })
    }))

  it.effect("io.l5d.replace swaps bound names for the fixed path's and keeps Neg; io.l5d.const always answers it", () =>
    Effect.gen(function*() {
      const fixed = Replace.bindFixed(Path.read("/$/inet/127.0.0.1/4141"))
      if (Result.isFailure(fixed)) throw new Error(fixed.failure)
      const tree = NameTree.alt(boundLeaf("/#/io.l5d.fs/books", [addr("10.0.0.1", 80)]), NameTree.neg)
      const replaced = Replace.replace(fixed.success).apply(tree)
      expect(showBound(replaced)).toBe("/$/inet/127.0.0.1/4141 | ~")
      expect((yield* view(replaced)).addrs).toEqual(["127.0.0.1:4141"])
      expect(Replace.replace(fixed.success).apply(NameTree.neg)).toEqual(NameTree.neg)
      expect(showBound(Replace.constant(fixed.success).apply(NameTree.neg))).toBe("/$/inet/127.0.0.1/4141")
      expect(showBound(Replace.constant(fixed.success).apply(tree))).toBe("/$/inet/127.0.0.1/4141")
      expect(Result.isFailure(Replace.bindFixed(Path.read("/#/io.l5d.fs/books")))).toBe(true)
      expect(Result.isFailure(Replace.bindFixed(Path.read("/$/nosuch/x")))).toBe(true)
    }))

  it.effect("compose applies in order: localhost, then port", () =>
    Effect.gen(function*() {
      const t = Transformer.compose([Hosts.localhost({ addresses: ["127.0.0.1"] }), Port.make({ port: 4141 })])
      const out = t.apply(boundLeaf("/#/io.l5d.fs/books", [addr("127.0.0.1", 8080), addr("10.0.0.1", 8080)]))
      expect(yield* view(out)).toEqual({
        tree: "/%/io.l5d.port/4141/%/io.l5d.localhost/#/io.l5d.fs/books",
        addrs: ["127.0.0.1:4141"]
      })
    }))

  it.effect("localnode keeps the pod's /24, or with hostNetwork the endpoints of NODE_NAME; says what is missing", () =>
    Effect.gen(function*() {
      const tree = boundLeaf("/#/io.l5d.k8s/default/http/books", [
        addr("10.2.1.5", 8080, { nodeName: "n1" }),
        addr("10.2.2.5", 8080, { nodeName: "n2" }),
        addr("10.2.1.9", 8080)
      ])
      const bySubnet = K8s.localnode({ env: { POD_IP: "10.2.1.77" } })
      if (Result.isFailure(bySubnet)) throw new Error(bySubnet.failure)
      expect(yield* view(bySubnet.success.apply(tree))).toEqual({
        tree: "/%/io.l5d.k8s.localnode/10.2.1.77/#/io.l5d.k8s/default/http/books",
        addrs: ["10.2.1.5:8080,10.2.1.9:8080"]
      })
      const byNode = K8s.localnode({ hostNetwork: true, env: { NODE_NAME: "n2" } })
      if (Result.isFailure(byNode)) throw new Error(byNode.failure)
      expect(yield* view(byNode.success.apply(tree))).toEqual({
        tree: "/%/io.l5d.k8s.localnode/n2/#/io.l5d.k8s/default/http/books",
        addrs: ["10.2.2.5:8080"]
      })
      expect(K8s.localnode({ env: {} })).toEqual(
        Result.fail("the POD_IP environment variable must be set to the pod's IP")
      )
      expect(Result.isFailure(K8s.localnode({ hostNetwork: true, env: { POD_IP: "10.2.1.77" } }))).toBe(true)
    }))

  it.effect("the gateway maps each address to the gateways serving it, each once, live in both inputs", () =>
    Effect.gen(function*() {
      const gw = yield* SubscriptionRef.make<ReadonlyArray<Address.Address> | undefined>(undefined)
      const t = Gateway.make({
        name: "gw",
        prefix: Path.read("/gw"),
        gateways: SubscriptionRef.changes(gw),
        serves: Gateway.bySubnet
      })
      const out = t.apply(
        boundLeaf("/#/k/books", [addr("10.0.1.5", 8080), addr("10.0.1.6", 8080), addr("10.0.2.5", 8080)], { m: 1 })
      )
      expect(showBound(out)).toBe("/%/gw/#/k/books")
      const first = yield* Stream.runHead(NameTree.leaves(out)[0]!.addr)
      expect(first._tag === "Some" && first.value._tag).toBe("Pending")
      yield* SubscriptionRef.set(gw, [addr("10.0.1.2", 4141, { nodeName: "n1" }), addr("10.0.3.2", 4141)])
      const b = yield* firstBound(out)
      expect(b.addresses.map(Address.key)).toEqual(["10.0.1.2:4141"])
      expect(b.addresses[0]!.meta).toEqual({ nodeName: "n1" })
      expect(b.meta).toEqual({ m: 1 })
      yield* SubscriptionRef.set(gw, [addr("10.0.1.2", 4141), addr("10.0.2.2", 4141)])
      expect((yield* view(out)).addrs).toEqual(["10.0.1.2:4141,10.0.2.2:4141"])
      expect(Gateway.byNodeName(addr("1.1.1.1", 1, { nodeName: "a" }), addr("2.2.2.2", 2, { nodeName: "a" }))).toBe(
        true
      )
      expect(Gateway.byNodeName(addr("1.1.1.1", 1), addr("2.2.2.2", 2))).toBe(false)
    }))

  it.effect("an interpreter wrapped with transformers binds transformed trees; namer answers are transformed too", () =>
    Effect.gen(function*() {
      const namer = yield* makeTestNamer({ "/books": boundLeaf("/books", [addr("127.0.0.1", 8080)]) })
      const base = yield* Interpreter.make({ namers: [[Path.read("/#/t"), namer]] })
      const wrapped = Transformer.wrapInterpreter(base, [Port.make({ port: 9 })])
      const bound = yield* Interpreter.bindOnce(wrapped, Dtab.read("/svc=>/#/t"), Path.read("/svc/books"))
      expect(yield* view(bound)).toEqual({ tree: "/%/io.l5d.port/9/#/t/books", addrs: ["127.0.0.1:9"] })
      // the base interpreter is untouched
      expect(showBound(yield* Interpreter.bindOnce(base, Dtab.read("/svc=>/#/t"), Path.read("/svc/books"))))
        .toBe("/#/t/books")
      const answer = yield* Stream.runHead(
        Stream.filter(wrapped.namerLookup(Path.read("/#/t/books")), (s) => s._tag === "Ok")
      )
      expect(
        answer._tag === "Some" && answer.value._tag === "Ok" && Name.show(
          (answer.value.value as NameTree.Leaf<Name.Name>).value
        )
      ).toBe("/%/io.l5d.port/9/#/t/books")
    }))

  it.effect("a namer wrapped with transformers transforms bound answers and leaves rewrites alone", () =>
    Effect.gen(function*() {
      const namer = yield* makeTestNamer({
        "/books": boundLeaf("/books", [addr("127.0.0.1", 8080)]),
        "/alias": NameTree.leaf(Path.read("/svc/books"))
      })
      const wrapped = Transformer.wrapNamer(namer, [Port.make({ port: 9 })])
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/t"), wrapped]] })
      const bound = yield* Interpreter.bindOnce(interp, Dtab.read("/svc=>/#/t"), Path.read("/svc/alias"))
      expect(yield* view(bound)).toEqual({ tree: "/#/t/%/io.l5d.port/9/books", addrs: ["127.0.0.1:9"] })
    }))

  it.effect("the delegator's view nests one transformation node per transformer, outermost first", () =>
    Effect.gen(function*() {
      const namer = yield* makeTestNamer({
        "/books": boundLeaf("/books", [addr("127.0.0.1", 8080), addr("10.9.9.9", 8080)])
      })
      const base = yield* Interpreter.make({ namers: [[Path.read("/#/t"), namer]] })
      const tree = yield* Explain.explain(
        base,
        [Hosts.localhost({ addresses: ["127.0.0.1"] }), Port.make({ port: 9 })],
        Dtab.read("/svc=>/#/t"),
        Path.read("/svc/books")
      )
      const ports = (b: any) => b.addr.addrs.map((a: any) => `${a.ip}:${a.port}`)
      expect(tree.type).toBe("delegate")
      const outer = (tree as any).delegate
      expect(outer.type).toBe("transformation")
      expect(outer.name).toBe("io.l5d.localhost")
      expect(outer.dentry).toEqual({ prefix: "/svc", dst: "/#/t" })
      expect(outer.bound.id).toBe("/#/t/books")
      expect(ports(outer.bound)).toEqual(["127.0.0.1:8080", "10.9.9.9:8080"])
      const inner = outer.tree
      expect(inner.type).toBe("transformation")
      expect(inner.name).toBe("io.l5d.port")
      expect(inner.bound.id).toBe("/%/io.l5d.localhost/#/t/books")
      expect(ports(inner.bound)).toEqual(["127.0.0.1:8080"])
      expect(inner.tree.type).toBe("leaf")
      expect(inner.tree.bound.id).toBe("/%/io.l5d.port/9/%/io.l5d.localhost/#/t/books")
      expect(ports(inner.tree.bound)).toEqual(["127.0.0.1:9"])
      // without transformers it is the plain delegation
      const plain = yield* Explain.explain(base, [], Dtab.read("/svc=>/#/t"), Path.read("/svc/books"))
      expect(JSON.stringify(plain)).not.toContain("transformation")
    }))
})
