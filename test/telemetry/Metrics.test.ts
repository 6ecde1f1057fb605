import { describe, expect, it } from "@effect/vitest"
import * as Stats from "../../src/Stats.js"
import * as Metrics from "../../src/telemetry/Metrics.js"

const registry = () => {
  const r = Stats.makeInMemory()
  const rt = r.scope("rt", "web")
  rt.scope("server", "127.0.0.1", "4140").counter("requests").incr(3)
  rt.scope("service", "svc/books").counter("requests").incr(2)
  rt.scope("service", "svc/books").counter("failures", "Overloaded").incr()
  rt.scope("client", "#/io.l5d.fs/books").counter("requests").incr(2)
  rt.scope("client", "#/io.l5d.fs/books", "service", "svc/books").counter("success").incr(2)
  rt.scope("client", "$/inet/127.1/8080").gauge(["loadbalancer", "size"], () => 3)
  const h = rt.scope("client", "#/io.l5d.fs/books").histogram("request_latency_ms")
  for (let i = 1; i <= 100; i++) h.add(i)
  r.counter("namer", "#/io.l5d.fs", "lookups").incr()
  return r
}

describe("Metrics.parseName", () => {
  it("lifts router, server, service, client and exception", () => {
    expect(Metrics.parseName("rt/web/server/127.0.0.1/4140/requests")).toEqual({
      segments: ["rt", "web", "server", "127.0.0.1/4140", "requests"],
      labels: [["rt", "web"], ["server", "127.0.0.1/4140"]],
      nameSegments: ["rt", "server", "requests"]
    })
    expect(Metrics.parseName("rt/web/client/$/inet/127.1/8080/loadbalancer/size").labels).toEqual([
      ["rt", "web"],
      ["client", "$/inet/127.1/8080"]
    ])
    const p = Metrics.parseName("rt/web/client/#/io.l5d.fs/books/service/svc/books/success")
    expect(p.labels).toEqual([["rt", "web"], ["client", "#/io.l5d.fs/books"], ["service", "svc/books"]])
    expect(p.nameSegments).toEqual(["rt", "client", "service", "success"])
    const f = Metrics.parseName("rt/web/service/svc/books/failures/bar/baz")
    expect(f.labels).toContainEqual(["exception", "bar:baz"])
    expect(f.nameSegments).toEqual(["rt", "service", "failures"])
  })
})

describe("Metrics.toJson", () => {
  it("is flat with histogram fields", () => {
    const json = Metrics.toJson(Metrics.makeExporter(registry()).snapshot())
    expect(json["rt/web/server/127.0.0.1/4140/requests"]).toBe(3)
    expect(json["rt/web/client/$/inet/127.1/8080/loadbalancer/size"]).toBe(3)
    expect(json["rt/web/client/#/io.l5d.fs/books/request_latency_ms.count"]).toBe(100)
    expect(json["rt/web/client/#/io.l5d.fs/books/request_latency_ms.p99"]).toBe(99)
    expect(json["rt/web/client/#/io.l5d.fs/books/request_latency_ms.max"]).toBe(100)
    expect(json["rt/web/client/#/io.l5d.fs/books/request_latency_ms.avg"]).toBe(50.5)
  })

  it("reports the last window after a roll and bounds samples", () => {
    const r = registry()
    const ex = Metrics.makeExporter(r)
    ex.roll()
    r.scope("rt", "web", "client", "#/io.l5d.fs/books").histogram("request_latency_ms").add(1000)
    const json = Metrics.toJson(ex.snapshot())
    expect(json["rt/web/client/#/io.l5d.fs/books/request_latency_ms.count"]).toBe(100)
    ex.roll()
    const next = Metrics.toJson(ex.snapshot())
    expect(next["rt/web/client/#/io.l5d.fs/books/request_latency_ms.count"]).toBe(1)
    expect(next["rt/web/client/#/io.l5d.fs/books/request_latency_ms.max"]).toBe(1000)
    ex.roll()
    expect(Metrics.toJson(ex.snapshot())["rt/web/client/#/io.l5d.fs/books/request_latency_ms.count"]).toBe(0)
    expect(Metrics.toJson(ex.snapshot())["rt/web/client/#/io.l5d.fs/books/request_latency_ms.p99"]).toBeUndefined()
  })
})

describe("Metrics.toTree", () => {
  it("keeps ids as single keys and supports subtrees", () => {
    const tree = Metrics.toTree(Metrics.makeExporter(registry()).snapshot())
    const rt = tree["rt"] as Metrics.TreeNode
    const web = rt["web"] as Metrics.TreeNode
    const server = (web["server"] as Metrics.TreeNode)["127.0.0.1/4140"] as Metrics.TreeNode
    expect(server["requests"]).toEqual({ counter: 3 })
    const svc = (web["service"] as Metrics.TreeNode)["svc/books"] as Metrics.TreeNode
    expect(svc["requests"]).toEqual({ counter: 2 })
    expect(Metrics.subtree(tree, "rt/web/service")).toHaveProperty(["svc/books"])
    expect(Metrics.subtree(tree, "rt/nope")).toBeUndefined()
  })
})

describe("Metrics.toPrometheus", () => {
  it("writes linkerd's exposition", () => {
    const text = Metrics.toPrometheus(Metrics.makeExporter(registry()).snapshot())
    expect(text).toContain(`rt:server:requests{rt="web", server="127.0.0.1/4140"} 3\n`)
    expect(text).toContain(`rt:service:requests{rt="web", service="svc/books"} 2\n`)
    expect(text).toContain(`rt:service:failures{rt="web", service="svc/books", exception="Overloaded"} 1\n`)
    expect(text).toContain(
      `rt:client:service:success{rt="web", client="#/io.l5d.fs/books", service="svc/books"} 2\n`
    )
    expect(text).toContain(`rt:client:loadbalancer:size{rt="web", client="$/inet/127.1/8080"} 3\n`)
    expect(text).toContain(`rt:client:request_latency_ms_count{rt="web", client="#/io.l5d.fs/books"} 100\n`)
    expect(text).toContain(
      `rt:client:request_latency_ms{rt="web", client="#/io.l5d.fs/books", quantile="0.5"} 50\n`
    )
    expect(text).toContain(`namer:_:io_l5d_fs:lookups 1\n`)
    expect(Metrics.toPrometheus(Metrics.makeExporter(registry()).snapshot(), "linkerd_")).toContain(
      `linkerd_rt:server:requests{rt="web", server="127.0.0.1/4140"} 3\n`
    )
  })

  it("escapes label values", () => {
    const r = Stats.makeInMemory()
    r.scope("rt", "a\"b\\c").counter("x").incr()
    expect(Metrics.toPrometheus(Metrics.makeExporter(r).snapshot())).toBe(
      `# HELP rt:x weir metric rt/x.\n# TYPE rt:x counter\nrt:x{rt="a\\"b\\\\c"} 1\n`
    )
  })

  it("groups samples by family, each with # HELP and # TYPE once", () => {
    const text = Metrics.toPrometheus(Metrics.makeExporter(registry()).snapshot())
    const lines = text.trimEnd().split("\n")
    const typed = new Map<string, string>()
    const seen: Array<string> = []
    for (const line of lines) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line)
      if (type !== null) {
        expect(typed.has(type[1]!)).toBe(false)
        typed.set(type[1]!, type[2]!)
        seen.push(type[1]!)
        continue
      }
      if (line.startsWith("# HELP ")) continue
      const name = /^[^{ ]+/.exec(line)![0]
      const current = seen[seen.length - 1]!
      expect([current, `${current}_count`, `${current}_sum`]).toContain(name)
    }
    expect(typed.get("rt:server:requests")).toBe("counter")
    expect(typed.get("rt:client:loadbalancer:size")).toBe("gauge")
    expect(typed.get("rt:client:request_latency_ms")).toBe("summary")
    expect(typed.get("rt:client:request_latency_ms_avg")).toBe("gauge")
    expect(text).toContain("# HELP rt:server:requests Requests received (server, service) or sent (client).\n")
  })
})

describe("Metrics.toInflux", () => {
  it("writes line protocol with the ids as tags and a host tag", () => {
    const text = Metrics.toInflux(Metrics.makeExporter(registry()).snapshot(), "proxy.local")
    const lines = text.trimEnd().split("\n")
    expect(lines).toContain("rt:server,host=proxy.local,rt=web,server=127.0.0.1/4140 requests=3")
    expect(lines).toContain("rt:service,host=proxy.local,rt=web,service=svc/books requests=2")
    expect(lines).toContain("rt:service,host=proxy.local,rt=web,service=svc/books,exception=Overloaded failures=1")
    const client = lines.find((l) => l.startsWith("rt:client,host=proxy.local,rt=web,client=#/io.l5d.fs/books "))!
    expect(client).toContain("request_latency_ms_count=100")
    expect(client).toContain("request_latency_ms_p99=99")
    expect(client).toContain("requests=2")
    expect(lines).toContain("namer:#:io.l5d.fs,host=proxy.local lookups=1")
    for (const line of lines) expect(line).toMatch(/^[^ ]+ [^ ]+=[-0-9.e+]+(,[^ ]+=[-0-9.e+]+)*$/)
  })

  it("escapes spaces, commas and equals signs", () => {
    const r = Stats.makeInMemory()
    r.scope("rt", "a b,c=d").counter("x").incr()
    expect(Metrics.toInflux(Metrics.makeExporter(r).snapshot())).toBe("rt,host=none,rt=a\\ b\\,c\\=d x=1\n")
  })
})
