import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import { Address, Name, Path } from "../../src/index.js"
import * as DnsSrv from "../../src/namers/DnsSrv.js"
import type * as Namer from "../../src/naming/Namer.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { sendE, textBackend } from "../http/support.js"
import * as Dnsmasq from "../namers/dnsmasq.js"
import { waitFor } from "../support/poll.js"

const server = (records: Dnsmasq.Records) =>
  Effect.acquireRelease(Effect.promise(() => Dnsmasq.start(records)), (d) => Effect.promise(() => d.stop()))

/** Follows a lookup: the tree's shape (`neg`, or the bound id and residual) and its addresses with weights. */
const follow = (namer: Namer.Namer, path: string) =>
  Effect.gen(function*() {
    const state = { tree: "", addrs: "" }
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
      Stream.runForEach((xs) =>
        Effect.sync(() => (state.addrs = xs.map((a) => `${Address.key(a)}*${a.weight}`).sort().join(",")))
      ),
      Effect.forkChild
    )
    return state
  })

const web: Dnsmasq.Records = {
  srv: [
    { name: "_http._tcp.web.local", target: "web-a.local", port: 8080, weight: 10 },
    { name: "_http._tcp.web.local", target: "web-b.local", port: 8081, priority: 1, weight: 30 },
    { name: "_http._tcp.web.local", target: "gone.local", port: 8082, weight: 5 }
  ],
  hosts: [{ name: "web-a.local", ip: "127.0.0.1" }, { name: "web-b.local", ip: "127.0.0.2" }]
}

describe("io.l5d.dnssrv against a real dnsmasq", () => {
  it.live("answers the SRV targets as addresses with their weights (every priority), residual kept", () =>
    Effect.gen(function*() {
      const dns = yield* server(web)
      const namer = yield* DnsSrv.make({ dnsHosts: [`127.0.0.1:${dns.port}`], refreshInterval: "1 second" })
      const s = yield* follow(namer, "/_http._tcp.web.local/extra/path")
      yield* waitFor(() => s.addrs !== "", "addresses")
      expect(s.tree).toBe("/_http._tcp.web.local /extra/path")
      expect(s.addrs).toBe("127.0.0.1:8080*10,127.0.0.2:8081*30")
      expect(yield* namer.enumerate!).toEqual([Path.parseUnsafe("/_http._tcp.web.local")])
      const state = (yield* namer.state!) as DnsSrv.DnsSrvState
      expect(state.records["_http._tcp.web.local"]).toMatchObject({
        state: "bound",
        addresses: [{ ip: "127.0.0.1", port: 8080, weight: 10 }, { ip: "127.0.0.2", port: 8081, weight: 30 }]
      })
      expect(state.records["_http._tcp.web.local"]!.error).toBeUndefined()
    }))

  it.live("a record that does not exist is Neg", () =>
    Effect.gen(function*() {
      const dns = yield* server(web)
      const namer = yield* DnsSrv.make({ dnsHosts: [`127.0.0.1:${dns.port}`] })
      const s = yield* follow(namer, "/_http._tcp.nope.local")
      yield* waitFor(() => s.tree !== "", "an answer")
      expect(s.tree).toBe("neg")
      const state = (yield* namer.state!) as DnsSrv.DnsSrvState
      expect(state.records["_http._tcp.nope.local"]?.state).toBe("neg")
    }))

  it.live("changed records are picked up after the refresh interval; a stopped server keeps the last answer", () =>
    Effect.gen(function*() {
      const dns = yield* server(web)
      const namer = yield* DnsSrv.make({ dnsHosts: [`127.0.0.1:${dns.port}`], refreshInterval: "300 millis" })
      const s = yield* follow(namer, "/_http._tcp.web.local")
      yield* waitFor(() => s.addrs === "127.0.0.1:8080*10,127.0.0.2:8081*30", "the first answer")
      yield* Effect.promise(() =>
        dns.restart({
          srv: [{ name: "_http._tcp.web.local", target: "127.0.0.3", port: 9090, weight: 0 }]
        })
      )
      yield* waitFor(() => s.addrs === "127.0.0.3:9090*1", "the changed answer")
      yield* Effect.promise(() => dns.stop())
      const state = () => Effect.map(namer.state!, (x) => (x as DnsSrv.DnsSrvState).records["_http._tcp.web.local"]!)
      let last = yield* state()
      for (let i = 0; i < 250 && last.error === undefined; i++) {
        yield* Effect.sleep("20 millis")
        last = yield* state()
      }
      expect(last.error).toContain("ECONNREFUSED")
      expect(last.state).toBe("bound")
      expect(last.addresses).toEqual([{ ip: "127.0.0.3", port: 9090, weight: 1 }])
      expect(s.tree).toBe("/_http._tcp.web.local /")
      expect(s.addrs).toBe("127.0.0.3:9090*1")
      yield* Effect.promise(() => dns.restart({}))
      yield* waitFor(() => s.tree === "neg", "the record removed")
    }))

  it.live("through a router: routes to the SRV target, and falls back (|) when the record does not exist", () =>
    Effect.gen(function*() {
      const viaDns = yield* textBackend("via dns")
      const fallback = yield* textBackend("fallback")
      const dns = yield* server({
        srv: [{ name: "_http._tcp.web.local", target: "web-a.local", port: viaDns.port, weight: 1 }],
        hosts: [{ name: "web-a.local", ip: "127.0.0.1" }]
      })
      const decoded = Config.parse(`
admin: {port: 0}
namers:
- kind: io.l5d.dnssrv
  experimental: true
  refreshIntervalSeconds: 1
  dnsHosts: [127.0.0.1:${dns.port}]
routers:
- protocol: http
  dtab: |
    /svc/web => /#/io.l5d.dnssrv/_http._tcp.web.local | /$/inet/127.0.0.1/${fallback.port} ;
    /svc/other => /#/io.l5d.dnssrv/_http._tcp.other.local | /$/inet/127.0.0.1/${fallback.port} ;
  servers: [{port: 0}]
`)
      if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
      const linker = yield* Linker.make(decoded.success)
      const port = linker.routers[0]!.servers[0]!.port
      expect((yield* sendE(port, { headers: { host: "web" } })).body).toBe("via dns")
      expect((yield* sendE(port, { headers: { host: "other" } })).body).toBe("fallback")
      yield* Effect.promise(() => dns.restart({}))
      let body = ""
      for (let i = 0; i < 250 && body !== "fallback"; i++) {
        body = (yield* sendE(port, { headers: { host: "web" } })).body
        if (body !== "fallback") yield* Effect.sleep("20 millis")
      }
      expect(body).toBe("fallback")
    }))
})

describe("DnsSrv.resolverQuery", () => {
  it.live("no SRV record at a name that exists is NotFound; a target with no address is skipped", () =>
    Effect.gen(function*() {
      const dns = yield* server({
        srv: [{ name: "_x._tcp.only-gone.local", target: "gone.local", port: 1 }],
        hosts: [{ name: "web-a.local", ip: "127.0.0.1" }]
      })
      const query = DnsSrv.resolverQuery([`127.0.0.1:${dns.port}`])
      expect((yield* query("web-a.local"))._tag).toBe("NotFound")
      const gone = yield* query("_x._tcp.only-gone.local")
      expect(gone).toEqual({ _tag: "NotFound", reason: "_x._tcp.only-gone.local: no SRV target resolves (gone.local)" })
    }))
})
