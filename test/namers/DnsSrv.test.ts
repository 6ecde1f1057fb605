import { describe, expect, it } from "@effect/vitest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import { Address, Path } from "../../src/index.js"
import * as DnsSrv from "../../src/namers/DnsSrv.js"
import type * as Namer from "../../src/naming/Namer.js"
import * as Config from "../../src/proxy/Config.js"

/** A scripted query: answers `script[i]` on the i-th call (the last one afterwards). */
const scripted = (script: ReadonlyArray<DnsSrv.Outcome>) => {
  let calls = 0
  const query: DnsSrv.Query = () => Effect.sync(() => script[Math.min(calls++, script.length - 1)]!)
  return { query, calls: () => calls }
}

const found = (...ports: Array<number>): DnsSrv.Outcome => ({
  _tag: "Found",
  addresses: ports.map((p) => Address.make("127.0.0.1", p, { weight: 2 }))
})
const transient: DnsSrv.Outcome = { _tag: "Error", reason: "SRV lookup of r failed: ETIMEOUT" }
const notFound: DnsSrv.Outcome = { _tag: "NotFound", reason: "r: ENOTFOUND" }

/** Lets forked fibers run (no clock time passes). */
const settle = Effect.gen(function*() {
  for (let i = 0; i < 50; i++) yield* Effect.yieldNow
})

/** Records every answer of a lookup: `neg`, or the addresses (`failed` when the address is Failed). */
const record = (namer: Namer.Namer, path: string) =>
  Effect.gen(function*() {
    const seen: Array<string> = []
    yield* namer.lookup(Path.parseUnsafe(path)).pipe(
      Stream.switchMap((t) =>
        t._tag === "Leaf" && t.value._tag === "Bound"
          ? Stream.map(t.value.addr, (a) =>
            a._tag === "Bound"
              ? a.addresses.map((x) => `${Address.key(x)}*${x.weight}`).join(",")
              : a._tag.toLowerCase())
          : Stream.succeed("neg")
      ),
      Stream.runForEach((s) => Effect.sync(() => seen.push(s))),
      Effect.forkChild
    )
    yield* settle
    return seen
  })

const adjust = (d: Duration.Input) => Effect.andThen(TestClock.adjust(d), settle)

describe("io.l5d.dnssrv refresh (TestClock)", () => {
  it.effect("re-resolves every interval, emits only changes, keeps the last answer on a transient error", () =>
    Effect.gen(function*() {
      const q = scripted([found(1), found(1), found(1, 2), transient, transient, found(1, 2), notFound])
      const namer = yield* DnsSrv.make({ query: q.query, refreshInterval: "5 seconds" })
      const seen = yield* record(namer, "/r")
      expect(seen).toEqual(["127.0.0.1:1*2"])
      yield* adjust("5 seconds")
      expect(q.calls()).toBe(2)
      expect(seen).toEqual(["127.0.0.1:1*2"])
      yield* adjust("5 seconds")
      expect(seen).toEqual(["127.0.0.1:1*2", "127.0.0.1:1*2,127.0.0.1:2*2"])
      yield* adjust("5 seconds")
      expect(seen).toHaveLength(2)
      const state = (yield* namer.state!) as DnsSrv.DnsSrvState
      expect(state.records["r"]).toMatchObject({ state: "bound", error: transient.reason })
      expect(state.records["r"]!.lastRefresh).toBe(new Date(15_000).toISOString())
      yield* adjust("10 seconds")
      expect(seen).toHaveLength(2)
      expect(((yield* namer.state!) as DnsSrv.DnsSrvState).records["r"]!.error).toBeUndefined()
      yield* adjust("5 seconds")
      expect(seen).toEqual(["127.0.0.1:1*2", "127.0.0.1:1*2,127.0.0.1:2*2", "neg"])
    }))

  it.effect("a transient error before any answer is Failed, then the first answer replaces it", () =>
    Effect.gen(function*() {
      const q = scripted([transient, found(7)])
      const namer = yield* DnsSrv.make({ query: q.query, refreshInterval: "1 second" })
      const seen = yield* record(namer, "/r/rest")
      expect(seen).toEqual(["failed"])
      yield* adjust("1 second")
      expect(seen).toEqual(["failed", "127.0.0.1:7*2"])
    }))

  it.effect("an empty path is Neg without a query; enumerate lists the watched records", () =>
    Effect.gen(function*() {
      const q = scripted([found(1)])
      const namer = yield* DnsSrv.make({ query: q.query })
      const seen = yield* record(namer, "/")
      expect(seen).toEqual(["neg"])
      expect(q.calls()).toBe(0)
      yield* record(namer, "/b.local")
      yield* record(namer, "/a.local/x")
      expect((yield* namer.enumerate!).map(Path.show)).toEqual(["/a.local", "/b.local"])
    }))
})

describe("DnsSrv.dnsHostProblem", () => {
  it("accepts ip, ip:port, [v6]:port and bare v6; rejects names and bad ports", () => {
    for (const ok of ["127.0.0.1", "127.0.0.1:5353", "[::1]:53", "::1"]) {
      expect(DnsSrv.dnsHostProblem(ok)).toBeUndefined()
    }
    expect(DnsSrv.dnsHostProblem("dns.example")).toContain("not an IP address")
    expect(DnsSrv.dnsHostProblem("127.0.0.1:0")).toContain("invalid port")
    expect(DnsSrv.dnsHostProblem("[nope]:53")).toContain("not an IP address")
  })
})

describe("io.l5d.dnssrv config", () => {
  const routers = "routers:\n- protocol: http\n  servers: [{port: 0}]\n"
  it("is experimental: refused without `experimental: true`, as in linkerd", () => {
    const r = Config.parse(`namers:\n- kind: io.l5d.dnssrv\n${routers}`)
    expect(Result.isFailure(r) && r.failure).toEqual([{
      path: "namers[0].experimental",
      message: "the namer io.l5d.dnssrv is experimental and must be explicitly enabled by setting `experimental: true`"
    }])
  })

  it("checks dnsHosts entries", () => {
    const r = Config.parse(`namers:\n- {kind: io.l5d.dnssrv, experimental: true, dnsHosts: [ns1.example]}\n${routers}`)
    expect(Result.isFailure(r) && r.failure.map((p) => p.path)).toEqual(["namers[0].dnsHosts[0]"])
  })
})
