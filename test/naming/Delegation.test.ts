import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { Delegation, Dtab, Interpreter, Namer, NameTree, Path } from "../../src/index.js"
import { makeTestNamer, settle } from "./helpers.js"

const errorNamer = Namer.make((path) =>
  Stream.fail(new Namer.NamerError({ path: Path.show(path), reason: `error naming /#/error${Path.show(path)}` }))
)
const testNamer = Namer.fromFunction(() => NameTree.leaf(Path.read("/rewritten")))

const e17 = Dtab.read(`
  /beh => /#/error ; /bah/humbug => /$/inet/127.1/8080 ;
  /foo => /bah | /beh | /$/fail ; /foo => /bar ; /boo => /foo ;
  /meh => /heh ; /neg => ~ ;`)

describe("Delegation.explain", () => {
  it.effect("E17: linkerd's delegator JSON", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make({
        namers: [[Path.read("/#/test"), testNamer], [Path.read("/#/error"), errorNamer]]
      })
      const fooDst = { prefix: "/foo", dst: "/bah | /beh | /$/fail" }
      expect(yield* Delegation.explain(interp, e17, Path.read("/boo/humbug"))).toEqual({
        type: "delegate",
        path: "/boo/humbug",
        delegate: {
          type: "alt",
          path: "/foo/humbug",
          dentry: { prefix: "/boo", dst: "/foo" },
          alt: [
            { type: "neg", path: "/bar/humbug", dentry: { prefix: "/foo", dst: "/bar" } },
            {
              type: "delegate",
              path: "/bah/humbug",
              dentry: fooDst,
              delegate: {
                type: "leaf",
                path: "/$/inet/127.1/8080",
                dentry: { prefix: "/bah/humbug", dst: "/$/inet/127.1/8080" },
                bound: {
                  addr: { type: "bound", addrs: [{ ip: "127.0.0.1", port: 8080, meta: {} }], meta: {} },
                  id: "/$/inet/127.1/8080",
                  path: "/"
                }
              }
            },
            {
              type: "delegate",
              path: "/beh/humbug",
              dentry: fooDst,
              delegate: {
                type: "exception",
                path: "/#/error/humbug",
                dentry: { prefix: "/beh", dst: "/#/error" },
                message: "error naming /#/error/humbug"
              }
            },
            { type: "fail", path: "/$/fail/humbug", dentry: fooDst }
          ]
        }
      })
      expect(yield* Delegation.explain(interp, e17, Path.read("/meh"))).toEqual({
        type: "delegate",
        path: "/meh",
        delegate: { type: "neg", path: "/heh", dentry: { prefix: "/meh", dst: "/heh" } }
      })
      expect(yield* Delegation.explain(interp, e17, Path.read("/neg"))).toEqual({
        type: "delegate",
        path: "/neg",
        delegate: { type: "neg", path: "~", dentry: { prefix: "/neg", dst: "~" } }
      })
    }))

  it.effect("unions, namer rewrites, recursion limit", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/test"), testNamer]] })
      const dtab = Dtab.read("/u => 3 * /#/test & /$/nil; /rewritten => /$/inet/127.0.0.1/1; /loop => /loop")
      const u = yield* Delegation.explain(interp, dtab, Path.read("/u"))
      expect(u).toMatchObject({
        type: "delegate",
        delegate: {
          type: "union",
          path: "/u",
          union: [
            {
              weight: 3,
              tree: { type: "delegate", path: "/#/test", delegate: { type: "delegate", path: "/rewritten" } }
            },
            { weight: 1, tree: { type: "empty", path: "/$/nil" } }
          ]
        }
      })
      const loop = JSON.stringify(yield* Delegation.explain(interp, dtab, Path.read("/loop"), { maxDepth: 3 }))
      expect(loop).toContain("Max recursion level reached.")
    }))

  it.effect("E19: the steps of a resolution are visible", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      const t = yield* Delegation.explain(
        interp,
        Dtab.read("/srv => /$/inet/127.1/4140; /svc => /srv;"),
        Path.read("/svc/dog")
      )
      expect(t).toMatchObject({
        type: "delegate",
        path: "/svc/dog",
        delegate: {
          type: "delegate",
          path: "/srv/dog",
          dentry: { prefix: "/svc", dst: "/srv" },
          delegate: {
            type: "leaf",
            path: "/$/inet/127.1/4140/dog",
            dentry: { prefix: "/srv", dst: "/$/inet/127.1/4140" },
            bound: { id: "/$/inet/127.1/4140", path: "/dog" }
          }
        }
      })
    }))

  it.effect("a namer that failed after answering shows its last answer, marked stale", () =>
    Effect.gen(function*() {
      const t = yield* makeTestNamer({ "/a": NameTree.leaf(Path.read("/$/inet/127.0.0.1/1")) })
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/t"), t]] })
      const keep = yield* interp.bind(Dtab.empty, Path.read("/#/t/a")).pipe(
        Stream.runDrain,
        Effect.forkChild
      )
      yield* settle
      yield* t.set("/a", new Error("backend down"))
      yield* settle
      const tree = yield* Delegation.explain(interp, Dtab.empty, Path.read("/#/t/a"))
      expect(tree).toMatchObject({ type: "delegate", path: "/#/t/a", stale: "backend down" })
      expect(keep).toBeDefined()
    }))
})
