import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import type { Activity } from "../../src/index.js"
import { Dtab, Interpreter, Name, NameTree, Path, Stats } from "../../src/index.js"
import * as Inet from "../../src/naming/system/Inet.js"
import * as Rewrite from "../../src/naming/system/Rewrite.js"
import { addresses, makeTestNamer, observe, settle, showBound } from "./helpers.js"

const bindShow = (interp: Interpreter.NameInterpreter, dtab: string, path: string) =>
  Effect.map(Interpreter.bindOnce(interp, Dtab.read(dtab), Path.read(path)), showBound)

const states = (interp: Interpreter.NameInterpreter, dtab: string, path: string) =>
  Effect.gen(function*() {
    const seen: Array<Activity.State<Interpreter.BoundTree>> = []
    yield* interp.bindStates(Dtab.read(dtab), Path.read(path)).pipe(
      Stream.runForEach((s) => Effect.sync(() => seen.push(s))),
      Effect.forkChild
    )
    yield* settle
    const last = () => {
      const s = seen[seen.length - 1]!
      return s._tag === "Ok" ? showBound(s.value) : s._tag === "Failed" ? `Failed(${s.cause})` : "Pending"
    }
    return { seen, last }
  })

const fakeDns = (table: Record<string, ReadonlyArray<string>>) =>
  Effect.provideService(
    Inet.Resolver,
    (host: string) =>
      table[host] === undefined ? Effect.fail(new Error(`unknown host ${host}`)) : Effect.succeed(table[host]!)
  )

describe("Interpreter.bind", () => {
  it.effect("E3: later dentries take precedence", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      const d1 = Dtab.read("/foo=>/bar")
      const d2 = Dtab.read("/foo=>/biz;/biz=>/$/inet/8080;/bar=>/$/inet/9090")
      const a = yield* Interpreter.bindOnce(interp, Dtab.concat(d1, d2), Path.read("/foo"))
      const b = yield* Interpreter.bindOnce(interp, Dtab.concat(d2, d1), Path.read("/foo"))
      expect(yield* addresses(a)).toEqual(["0.0.0.0:8080"])
      expect(yield* addresses(b)).toEqual(["0.0.0.0:9090"])
    }))

  it.effect("E4: indirection", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      expect(yield* bindShow(interp, "/foo=>/bar;/bar=>/$/inet/8080", "/foo")).toBe("/$/inet/8080")
    }))

  it.effect("E5: namer answers that are paths re-enter the dtab", () =>
    Effect.gen(function*() {
      const namer = yield* makeTestNamer({ "/": NameTree.leaf(Path.read("/rewritten/by/test/namer")) })
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/test"), namer]] })
      expect(yield* bindShow(interp, "/foo=>/#/test;/rewritten/by/test/namer=>/$/inet/7070", "/foo"))
        .toBe("/$/inet/7070")
    }))

  it.effect("E6: weights are recorded, Neg members dropped, earlier dentries unused", () =>
    Effect.gen(function*() {
      const namer = yield* makeTestNamer({ "/": NameTree.leaf(Path.read("/rewritten/by/test/namer")) })
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/test"), namer]] })
      const dtab = Dtab.read(`
        /foo  => /bar;
        /foo  => 3 * /baz & 2 * /booz & /#/test;
        /rewritten/by/test/namer => /$/inet/7070;
        /baz  => 3 * /$/inet/8080 & 2 * /$/inet/9090;
        /booz => ~`)
      const t = yield* Interpreter.bindOnce(interp, dtab, Path.read("/foo"))
      expect(showBound(t)).toBe("3.00*(3.00*/$/inet/8080 & 2.00*/$/inet/9090) & /$/inet/7070")
      expect(yield* addresses(t)).toEqual(["0.0.0.0:7070@1", "0.0.0.0:8080@3", "0.0.0.0:9090@2"])
    }))

  it.effect("E8: Alt stops at Fail and at Empty", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      const dtab = "/test/1=>/$/inet/1;/test/2=>/$/inet/2;/a=>! | /test/1 | /test/2;/b=>~ | /$/fail | /test/1"
      expect(yield* bindShow(interp, dtab, "/a")).toBe("!")
      expect(yield* bindShow(interp, dtab, "/b")).toBe("!")
      expect(yield* bindShow(interp, dtab + ";/c=>/$/nil | /$/fail | /test/1", "/c")).toBe("$")
    }))

  it.effect("E9: failover follows namer answers", () =>
    Effect.gen(function*() {
      const t = yield* makeTestNamer({ "/0": NameTree.empty, "/1": NameTree.neg, "/2": NameTree.neg })
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/t"), t]] })
      const s = yield* states(interp, "/test=>/#/t;/x=>/test/0 | /test/1 & /test/2", "/x")
      expect(s.last()).toBe("$")
      yield* t.set("/0", NameTree.leaf(Path.read("/$/inet/1")))
      yield* settle
      expect(s.last()).toBe("/$/inet/1")
      yield* t.set("/0", NameTree.neg)
      yield* settle
      expect(s.last()).toBe("~")
      yield* t.set("/2", NameTree.leaf(Path.read("/$/inet/2")))
      yield* settle
      expect(s.last()).toBe("/$/inet/2")
    }))

  it.effect("E10: union dynamics", () =>
    Effect.gen(function*() {
      const t = yield* makeTestNamer({ "/0": "pending", "/1": "pending" })
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/t"), t]], idleTimeToLive: "1 second" })
      const s = yield* states(interp, "/x=>/#/t/0 & /#/t/1", "/x")
      expect(s.last()).toBe("Pending")
      yield* t.set("/0", NameTree.leaf(Path.read("/$/inet/1")))
      yield* settle
      expect(s.last()).toBe("/$/inet/1")
      yield* t.set("/1", new Error("boom"))
      yield* settle
      expect(s.last()).toBe("/$/inet/1")
      yield* t.set("/0", new Error("bang"))
      yield* settle
      expect(s.last()).toBe("/$/inet/1")

      const t2 = yield* makeTestNamer({ "/0": new Error("e0"), "/1": new Error("e1"), "/2": NameTree.neg })
      const i2 = yield* Interpreter.make({ namers: [[Path.read("/#/t"), t2]] })
      expect((yield* states(i2, "/x=>/#/t/0 & /#/t/1", "/x")).last()).toBe("Failed(e0)")
      expect((yield* states(i2, "/x=>/#/t/2 & /#/t/2", "/x")).last()).toBe("~")
      expect((yield* states(i2, "/x=>$ & /#/t/2", "/x")).last()).toBe("$")
    }))

  it.effect("E11: the global namer", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      const t = yield* Interpreter.bindOnce(interp, Dtab.empty, Path.read("/$/inet/1234"))
      expect(yield* addresses(t)).toEqual(["0.0.0.0:1234"])
      expect(yield* addresses(yield* Interpreter.bindOnce(interp, Dtab.empty, Path.read("/$/inet/127.0.0.1/1234"))))
        .toEqual(["127.0.0.1:1234"])
      expect(yield* bindShow(interp, "", "/$/inet/1234/foobar")).toBe("/$/inet/1234(/foobar)")
      expect(yield* bindShow(interp, "", "/$/fail/foo/bar")).toBe("!")
      expect(yield* bindShow(interp, "", "/$/nil/foo/bar")).toBe("$")
      expect(yield* bindShow(interp, "", "/foo/bar")).toBe("~")
      const err = yield* Effect.flip(bindShow(interp, "", "/$/inet"))
      expect(err.message).toBe("Unknown namer: inet for path: /$/inet")
      expect(yield* addresses(yield* Interpreter.bindOnce(interp, Dtab.empty, Path.read("/$/inet/127.1/80"))))
        .toEqual(["127.0.0.1:80"])
    }))

  it.effect("E12: recursion limit", () =>
    Effect.gen(function*() {
      const small = yield* Interpreter.make({ maxDepth: 2 })
      const e1 = yield* Effect.flip(bindShow(small, "/s=>/s/srv", "/s/foo/bar"))
      expect(e1.message).toBe("Max recursion level: 2 reached in Namer lookup")
      const dflt = yield* Interpreter.make()
      const e2 = yield* Effect.flip(bindShow(dflt, "/foo/bar=>/bar/foo;/bar/foo=>/foo/bar", "/foo/bar"))
      expect(e2.message).toBe("Max recursion level: 100 reached in Namer lookup")
    }))

  it.effect("E15: docs fallback", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      const base = "/USA/CA/SF/Octavia/432=>/$/inet/127.0.0.1/432;" +
        "/smitten => /USA/CA/SF/Octavia/432; /iceCreamStore => /smitten; /iceCreamStore => /humphrys;"
      expect(yield* bindShow(interp, base, "/iceCreamStore/try/allFlavors"))
        .toBe("/$/inet/127.0.0.1/432(/try/allFlavors)")
      expect(yield* bindShow(interp, base + "/humphrys=>/$/inet/127.0.0.1/9", "/iceCreamStore/try/allFlavors"))
        .toBe("/$/inet/127.0.0.1/9(/try/allFlavors)")
      expect(
        yield* bindShow(
          interp,
          "/USA/CA/SF/Octavia/432=>/$/inet/127.0.0.1/432;/smitten=>/USA/CA/SF/Octavia/432;" +
            "/iceCreamStore => /humphrys | /smitten",
          "/iceCreamStore/try/allFlavors"
        )
      )
        .toBe("/$/inet/127.0.0.1/432(/try/allFlavors)")
    }))

  it.effect("E16: each step rescans the whole dtab", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      const dtab = "/iceCreamStore=>/smitten; /smitten/try=>/smittenLocation/waitInLine/thenTry;" +
        "/smittenLocation=>/sanfrancisco/octavia/432; /california=>/USA/CA; /sanfrancisco=>/california/SF;" +
        "/USA/CA/SF/octavia/432/waitInLine/thenTry=>/$/inet/127.0.0.1/432"
      expect(yield* bindShow(interp, dtab, "/iceCreamStore/try/allFlavors")).toBe("/$/inet/127.0.0.1/432(/allFlavors)")
    }))

  it.effect("E20: rewriting namers", () =>
    Effect.gen(function*() {
      const rw = (text: string) => {
        const [, name, ...rest] = Path.read(text).labels
        return NameTree.show(NameTree.map(Rewrite.rewrite(name!, rest)!, Name.show))
      }
      expect(rw("/$/io.buoyant.http.domainToPathPfx/pfx/foo.buoyant.io/resource/name"))
        .toBe("/pfx/io/buoyant/foo/resource/name")
      expect(rw("/$/io.buoyant.http.subdomainOfPfx/buoyant.io/pfx/foo.buoyant.io/resource/name"))
        .toBe("/pfx/foo/resource/name")
      expect(rw("/$/io.buoyant.hostportPfx/pfx/host:port/etc")).toBe("/pfx/host/port/etc")
      expect(rw("/$/io.buoyant.porthostPfx/pfx/host:port/etc")).toBe("/pfx/port/host/etc")
      expect(rw("/$/io.buoyant.porthostPfx/pfx/host/etc")).toBe("~")
      expect(rw("/$/io.buoyant.hostportPfx/pfx/a:b:c/etc")).toBe("~")
      expect(rw("/$/io.buoyant.http.anyMethodPfx/pfx/GET/x")).toBe("/pfx/x")
      expect(rw("/$/io.buoyant.http.anyMethodPfx/pfx/get/x")).toBe("~")
      expect(rw("/$/io.buoyant.http.subdomainOfPfx/buoyant.io/pfx/foo.example.com/x")).toBe("~")
      expect(rw("/$/io.buoyant.http.domainToPath/a.b.c:8080/x")).toBe("/c/b/a/x")
      const interp = yield* Interpreter.make()
      expect(
        yield* bindShow(
          interp,
          "/pfx/io/buoyant=>/$/inet/127.0.0.1/8080",
          "/$/io.buoyant.http.domainToPathPfx/pfx/foo.buoyant.io"
        )
      )
        .toBe("/$/inet/127.0.0.1/8080(/foo)")
    }))

  it.effect("E21: the canonical egress dtab", () =>
    Effect.gen(function*() {
      const k8s = yield* makeTestNamer()
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/io.l5d.k8s.ds"), k8s]] })
      const dtab = `
        /ph  => /$/io.buoyant.rinet ;            # DNS
        /srv => /ph/80 ;                          # default port 80
        /srv => /$/io.buoyant.porthostPfx/ph ;   # host:port in Host header
        /srv => /#/io.l5d.k8s.ds/default/http ;  # k8s service (highest precedence)
        /svc => /srv ;
        /svc/world => /srv/world-v1 ;`
      expect(yield* bindShow(interp, dtab, "/svc/hello")).toBe("/$/io.buoyant.rinet/80/hello")
      expect(yield* bindShow(interp, dtab, "/svc/world")).toBe("/$/io.buoyant.rinet/80/world-v1")
      expect(yield* bindShow(interp, dtab, "/svc/hello:8080")).toBe("/$/io.buoyant.rinet/8080/hello")
      const t = yield* Interpreter.bindOnce(interp, Dtab.read(dtab), Path.read("/svc/hello"))
      expect(yield* addresses(t)).toEqual(["10.0.0.7:80"])
      yield* k8s.set("/default/http/hello", NameTree.leaf(Path.read("/$/inet/10.1.1.1/8080")))
      expect(yield* bindShow(interp, dtab, "/svc/hello")).toBe("/$/inet/10.1.1.1/8080")
    }).pipe(fakeDns({ hello: ["10.0.0.7"], "world-v1": ["10.0.0.8"] })))

  it.effect("E22: a local dtab overrides, falling back when its target is Neg", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      const base = Dtab.read("/host/web=>/$/inet/127.0.0.1/1;/host=>/srv")
      const bindLocal = Effect.gen(function*() {
        const local = yield* Dtab.local
        return showBound(yield* Interpreter.bindOnce(interp, Dtab.concat(base, local), Path.read("/host/web/x")))
      })
      expect(yield* bindLocal).toBe("/$/inet/127.0.0.1/1(/x)")
      const header = Dtab.read("/host/web => /host/web-v2")
      expect(yield* Dtab.withLocalDtab(bindLocal, header)).toBe("/$/inet/127.0.0.1/1(/x)")
      const withV2 = Dtab.concat(Dtab.read("/host/web-v2=>/$/inet/127.0.0.1/2"), header)
      expect(yield* bindLocal.pipe(Dtab.withLocalDtab(withV2))).toBe("/$/inet/127.0.0.1/2(/x)")
      expect(Dtab.show(header)).toBe("/host/web=>/host/web-v2")
    }))
})

describe("live binding", () => {
  it.effect("a Neg branch becoming bound moves traffic without a restart, and back", () =>
    Effect.gen(function*() {
      const t = yield* makeTestNamer({ "/b": NameTree.leaf(Path.read("/$/inet/127.0.0.1/2")) })
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/t"), t]] })
      const obs = yield* observe(interp, Dtab.read("/svc=>/#/t/b | /#/t/a;/svc=>/#/t/a | /#/t/b"), "/svc")
      expect(obs.seen).toEqual(["/$/inet/127.0.0.1/2"])
      yield* t.set("/a", NameTree.leaf(Path.read("/$/inet/127.0.0.1/1")))
      yield* settle
      expect(obs.last()).toBe("/$/inet/127.0.0.1/1")
      yield* t.set("/a", NameTree.neg)
      yield* settle
      expect(obs.seen).toEqual(["/$/inet/127.0.0.1/2", "/$/inet/127.0.0.1/1", "/$/inet/127.0.0.1/2"])
      yield* obs.stop
    }))

  it.effect("stale while error: a failing namer keeps its last answer and counts the failure", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const t = yield* makeTestNamer({ "/a": NameTree.leaf(Path.read("/$/inet/127.0.0.1/1")) })
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/t"), t]] }).pipe(
        Effect.provideService(Stats.Receiver, stats)
      )
      const obs = yield* observe(interp, Dtab.read("/svc=>/#/t/a"), "/svc")
      yield* t.set("/a", new Error("backend down"))
      yield* settle
      expect(obs.errors).toEqual([])
      expect(obs.last()).toBe("/$/inet/127.0.0.1/1")
      expect(stats.counterValue("namer/#/t/failures")).toBe(1)
      yield* t.set("/a", NameTree.leaf(Path.read("/$/inet/127.0.0.1/3")))
      yield* TestClock.adjust("2 seconds")
      yield* settle
      expect(obs.last()).toBe("/$/inet/127.0.0.1/3")
      yield* obs.stop
    }))

  it.effect("a namer that never answered makes the binding fail", () =>
    Effect.gen(function*() {
      const t = yield* makeTestNamer({ "/a": new Error("no backend") })
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/t"), t]] })
      const obs = yield* observe(interp, Dtab.read("/svc=>/#/t/a"), "/svc")
      expect(obs.errors).toEqual(["no backend"])
    }))
})
