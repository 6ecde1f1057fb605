import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Result from "effect/Result"
import * as Namers from "../../src/config/namer/index.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Path from "../../src/naming/Path.js"
import * as PathMatcher from "../../src/naming/PathMatcher.js"
import * as Config from "../../src/proxy/Config.js"
import * as ConfigJson from "../../src/proxy/ConfigJson.js"
import * as Validate from "../../src/proxy/Validate.js"

const ok = (text: string): Config.Config => {
  const r = Config.parse(text)
  if (Result.isFailure(r)) throw new Error(r.failure.map((p) => `${p.path}: ${p.message}`).join("\n"))
  return r.success
}

const problems = (text: string): Array<string> => {
  const r = Validate.check(text)
  return Result.isFailure(r) ? r.failure.map((p) => p.path === "" ? p.message : `${p.path}: ${p.message}`) : []
}

const minimal = "routers: [{protocol: http, servers: [{}]}]"

describe("Config defaults", () => {
  it("fills linkerd's defaults", () => {
    const c = ok(minimal)
    expect(c.admin.ip).toBe("127.0.0.1")
    expect(c.admin.port).toBe(9990)
    expect(Duration.toMillis(c.admin.shutdownGraceMs)).toBe(10_000)
    expect(c.namers).toEqual([])
    const r = c.routers[0]!
    expect(r.label).toBe("http")
    expect(r.servers).toEqual([{ ip: "127.0.0.1", port: 4140, clearContext: false, maxCallDepth: 1000 }])
    expect(Dtab.show(r.dtab)).toBe("")
    expect(r.identifiers).toEqual([{ kind: "io.l5d.header.token", header: "Host" }])
    expect(Path.show(r.dstPrefix)).toBe("/svc")
    expect(Duration.toMillis(r.bindingTimeoutMs)).toBe(10_000)
    expect(r.interpreter).toEqual({ kind: "default" })
    expect(r.client).toEqual([])
    expect(r.service).toEqual([])
    expect(r.maxHeadersKB).toBe(8)
    expect(c.usage.enabled).toBe(true)
  })

  it("decodes the representative linkerd config", () => {
    const c = ok(`
admin: {ip: 0.0.0.0, port: 9990}
namers:
- kind: io.l5d.fs
  rootDir: disco
routers:
- protocol: http
  label: int-http
  dtab: |
    /svc => /#/io.l5d.fs;
  identifier: {kind: io.l5d.header.token}
  servers:
  - {port: 4140, ip: 0.0.0.0}
  service:
    kind: io.l5d.static
    configs:
    - prefix: /svc
      responseClassifier: {kind: io.l5d.http.retryableIdempotent5XX}
      retries:
        budget: {minRetriesPerSec: 5, percentCanRetry: 0.5, ttlSecs: 15}
        backoff: {kind: jittered, minMs: 10, maxMs: 10000}
      totalTimeoutMs: 1000
  client:
    kind: io.l5d.static
    configs:
    - prefix: /#/io.l5d.fs/{service}
      loadBalancer: {kind: ewma, maxEffort: 10, decayTimeMs: 15000}
      failureAccrual: {kind: io.l5d.consecutiveFailures, failures: 10}
      requestAttemptTimeoutMs: 100
telemetry:
- kind: io.l5d.prometheus
usage: {enabled: false}
`)
    const r = c.routers[0]!
    expect(r.label).toBe("int-http")
    expect(Dtab.show(r.dtab)).toBe("/svc=>/#/io.l5d.fs")
    expect(r.servers[0]!.ip).toBe("0.0.0.0")
    expect(r.service[0]!.prefix.pattern).toBe("/svc")
    expect(r.service[0]!.params.responseClassifier).toEqual({ kind: "io.l5d.http.retryableIdempotent5XX" })
    expect(Duration.toMillis(r.service[0]!.params.totalTimeoutMs!)).toBe(1000)
    expect(r.client[0]!.params.loadBalancer).toMatchObject({ kind: "ewma", maxEffort: 10 })
    expect(PathMatcher.match(r.client[0]!.prefix, Path.parseUnsafe("/#/io.l5d.fs/books"))).toEqual({ service: "books" })
    expect(c.telemetry).toEqual([{ kind: "io.l5d.prometheus", path: "/admin/metrics/prometheus", prefix: "" }])
    expect(Config.conflicts(c)).toEqual([])
  })

  it("accepts the older shape: router-level port and baseDtab", () => {
    const c = ok(`
routers:
- protocol: http
  label: outgoing
  port: 4140
  baseDtab: |
    /srv => /io.l5d.k8s/default/http;
    /http/1.1 => /srv;
`)
    expect(c.routers[0]!.servers).toEqual([{ ip: "127.0.0.1", port: 4140, clearContext: false, maxCallDepth: 1000 }])
    expect(Dtab.show(c.routers[0]!.dtab)).toBe("/srv=>/io.l5d.k8s/default/http;/http/1.1=>/srv")
    expect(c.routers[0]!.identifiers).toEqual([{ kind: "io.l5d.methodAndHost", httpUriInDst: false }])
    expect(Path.show(c.routers[0]!.dstPrefix)).toBe("/http")
  })

  it("the older shape's linkerd 0.x defaults apply only with baseDtab, and yield to explicit keys", () => {
    const modern = ok("routers: [{protocol: http, port: 4140, dtab: '/svc => /#/io.l5d.fs'}]").routers[0]!
    expect(modern.identifiers).toEqual([{ kind: "io.l5d.header.token", header: "Host" }])
    expect(Path.show(modern.dstPrefix)).toBe("/svc")
    const explicit = ok(`
routers:
- protocol: http
  port: 4140
  dstPrefix: /svc
  identifier: {kind: io.l5d.path}
  baseDtab: /svc => /#/io.l5d.fs
`).routers[0]!
    expect(explicit.identifiers.map((i) => i.kind)).toEqual(["io.l5d.path"])
    expect(Path.show(explicit.dstPrefix)).toBe("/svc")
    expect(Config.namerMounts(ok(`namers: [{kind: io.l5d.experimental.k8s}]\n${minimal}`).namers[0]!).map(Path.show))
      .toEqual([
        "/#/io.l5d.k8s",
        "/io.l5d.k8s"
      ])
  })

  it("a global client section applies everywhere", () => {
    const c = ok(`routers: [{protocol: http, servers: [{}], client: {loadBalancer: {kind: roundRobin}}}]`)
    expect(c.routers[0]!.client.length).toBe(1)
    expect(c.routers[0]!.client[0]!.prefix.pattern).toBe("/")
    expect(c.routers[0]!.client[0]!.params).toEqual({
      loadBalancer: { kind: "roundRobin", maxEffort: 5, enableProbation: false }
    })
  })

  it("identifier: one or a list, each kind with its defaults", () => {
    const c = ok(`
routers:
- protocol: http
  servers: [{}]
  identifier:
  - {kind: io.l5d.methodAndHost}
  - {kind: io.l5d.path}
  - {kind: io.l5d.header}
  - {kind: io.l5d.static, path: /books}
  - {kind: io.l5d.header.token, header: x-host}
`)
    expect(c.routers[0]!.identifiers).toEqual([
      { kind: "io.l5d.methodAndHost", httpUriInDst: false },
      { kind: "io.l5d.path", segments: 1, consume: false },
      { kind: "io.l5d.header", header: "l5d-name" },
      { kind: "io.l5d.static", path: Path.parseUnsafe("/books") },
      { kind: "io.l5d.header.token", header: "x-host" }
    ])
  })

  it("decodes every namer kind with its documented defaults", () => {
    const c = ok(`
namers:
- {kind: io.l5d.fs, rootDir: disco}
- {kind: io.l5d.k8s}
- {kind: io.l5d.experimental.k8s, authTokenFile: /var/run/token}
- {kind: io.l5d.dnssrv, experimental: true}
${minimal}
`)
    expect(c.namers.map((n) => n.kind)).toEqual([
      "io.l5d.fs",
      "io.l5d.k8s",
      "io.l5d.experimental.k8s",
      "io.l5d.dnssrv"
    ])
    expect(c.namers[1]).toMatchObject({ host: "localhost", port: 8001 })
    expect(c.namers[2]).toMatchObject({ port: 443, tls: true, authTokenFile: "/var/run/token" })
    expect(c.namers[3]).toMatchObject({ refreshIntervalSeconds: 5, dnsHosts: [] })
    expect(Config.namerPrefix(c.namers[0]!)).toEqual(Path.parseUnsafe("/io.l5d.fs"))
    expect(Config.namerPrefix(c.namers[2]!)).toEqual(Path.parseUnsafe("/io.l5d.k8s"))
  })
})

describe("Config errors", () => {
  it("lists every problem with its location", () => {
    const ps = problems(`
admin: {port: 99999, bogus: 1}
namers:
- kind: io.l5d.fz
routers:
- protocol: http
  identifier: {kind: io.l5d.nope}
  dtab: "/svc => => /x"
  servers: [{port: x}]
- protocol: http
  label: two
  client:
    loadBalancer: {kind: rr}
  service:
    kind: io.l5d.static
    configs:
    - prefix: /svc/{x
      totalTimeoutMs: -1
  servers: [{}]
`)
    expect(ps).toEqual([
      "admin.bogus: unknown key",
      expect.stringMatching(/^admin\.port: Expected a value between 0 and 65535/),
      expect.stringMatching(/^namers\[0\]\.kind: unknown kind "io.l5d.fz" \(expected one of: io.l5d.fs, io.l5d.k8s/),
      expect.stringMatching(/^routers\[0\]\.servers\[0\]\.port: Expected number/),
      expect.stringMatching(/^routers\[0\]\.dtab: invalid dtab: .*\[=\]/),
      expect.stringMatching(/^routers\[0\]\.identifier\.kind: unknown kind "io.l5d.nope"/),
      "routers[1].client.loadBalancer.kind: unknown kind \"rr\" (expected one of: p2c, ewma, aperture, heap, roundRobin)",
      "routers[1].service.configs[0].prefix: invalid prefix \"/svc/{x\": unmatched \"{\"",
      expect.stringMatching(/^routers\[1\]\.service\.configs\[0\]\.totalTimeoutMs: Expected a value greater than 0/)
    ])
  })

  it("names the accepted kinds of a section", () => {
    expect(problems(`routers: [{protocol: http, servers: [{}], service: {kind: io.l5d.bad}}]`)).toEqual([
      "routers[0].service.kind: unknown kind \"io.l5d.bad\" (expected one of: io.l5d.global, io.l5d.static)"
    ])
  })

  it("rejects unknown keys at every level", () => {
    expect(problems(`routers: [{protocol: http, servers: [{port: 1, nope: 2}], nope: 1}]\nnope: 3`)).toEqual([
      "nope: unknown key",
      "routers[0].nope: unknown key",
      "routers[0].servers[0].nope: unknown key"
    ])
    expect(problems(`routers: [{protocol: http, servers: [{}], client: {loadBalancer: {kind: p2c, decayTimeMs: 5}}}]`))
      .toEqual(["routers[0].client.loadBalancer.decayTimeMs: unknown key"])
    expect(problems(`namers: [{kind: io.l5d.fs, rootDir: d, host: x}]\n${minimal}`)).toEqual([
      "namers[0].host: unknown key"
    ])
    expect(problems(`telemetry: [{kind: io.l5d.prometheus, prefixx: a}]\n${minimal}`)).toEqual([
      "telemetry[0].prefixx: unknown key"
    ])
  })

  it("says so for documented keys weir does not support", () => {
    expect(problems(`routers: [{protocol: http, servers: [{serverSession: {}}]}]`)).toEqual([
      expect.stringMatching(/^routers\[0\]\.servers\[0\]\.serverSession: .*is not supported by this version of weir/)
    ])
  })

  it("needs routers (a router without servers serves nothing) and a single dtab key", () => {
    expect(problems("routers: []")).toEqual(["routers: at least one router is required"])
    expect(problems("admin: {}")).toEqual(["routers: missing required key"])
    expect(problems("routers: [{protocol: http}]")).toEqual([])
    expect(problems("routers: [{protocol: http, servers: []}]")).toEqual([])
    expect(problems("routers: [{protocol: http, port: 1, dtab: /a=>/b, baseDtab: /a=>/c}]")).toEqual([
      "routers[0].baseDtab: give either `dtab` or the older `baseDtab`, not both"
    ])
    expect(problems("[1, 2]")).toEqual(["the config must be an object with at least `routers`"])
    expect(problems("routers: [")[0]).toMatch(/^invalid YAML/)
  })

  it("rejects kinds that are not available in the same decode, with the problems of their keys", () => {
    expect(problems(`
namers:
- kind: io.l5d.experimental.k8s
  authTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
- kind: io.l5d.rancher
  refreshIntervalMs: -1
- kind: io.l5d.serversets
routers:
- protocol: http
  port: 4140
- protocol: thrift
  label: web
  servers: [{port: 9990}]
  interpreter: {kind: io.l5d.fs}
telemetry:
- kind: io.l5d.recentRequests
`)).toEqual([
      `namers[1].kind: namer kind io.l5d.rancher is not available in this version of weir (available: ${
        Namers.registry.kinds.join(", ")
      })`,
      expect.stringMatching(/^namers\[1\]\.refreshIntervalMs: /),
      "namers[2].zkAddrs: missing required key",
      "routers[1].protocol: protocol thrift is not available in this version of weir (available: http, h2)",
      "routers[1].interpreter.dtabFile: missing required key",
      "telemetry[0].sampleRate: missing required key"
    ])
    expect(problems(`namers: [{kind: io.l5d.rancher, prot: 1}]\n${minimal}`)).toEqual([
      expect.stringMatching(/^namers\[0\]\.kind: namer kind io\.l5d\.rancher is not available/),
      "namers[0].prot: unknown key"
    ])
  })

  it("rejects conflicting labels and ports once the document decodes", () => {
    expect(problems(`
admin: {port: 9990}
routers:
- protocol: http
  port: 4140
- protocol: http
  port: 4140
- protocol: http
  label: web
  servers: [{port: 9990}]
`)).toEqual([
      "routers[1].label: router label \"http\" is already used by routers[0]; labels must be unique",
      "routers[1].servers[0]: 127.0.0.1:4140 conflicts with routers[0].servers[0] (127.0.0.1:4140)",
      "routers[2].servers[0]: 127.0.0.1:9990 conflicts with admin (127.0.0.1:9990)"
    ])
  })

  it("checks the environment: an fs rootDir must be a directory", () => {
    expect(problems(`namers: [{kind: io.l5d.fs, rootDir: /nonexistent/weir-disco}]\n${minimal}`)).toEqual([
      "namers[0].rootDir: /nonexistent/weir-disco is not a directory"
    ])
    expect(Validate.validate(ok(`namers: [{kind: io.l5d.fs, rootDir: /nonexistent/weir-disco}]\n${minimal}`)))
      .toEqual(["namers[0].rootDir: /nonexistent/weir-disco is not a directory"].map((m) => ({
        path: "namers[0].rootDir",
        message: m.replace(/^namers\[0\]\.rootDir: /, "")
      })))
  })

  it("checks dnssrv's experimental flag and dnsHosts in the decode", () => {
    expect(problems(`namers: [{kind: io.l5d.dnssrv, dnsHosts: [nope]}]\n${minimal}`)).toEqual([
      "namers[0].dnsHosts[0]: \"nope\" is not an IP address (optionally with :port)"
    ])
    expect(problems(`namers: [{kind: io.l5d.dnssrv}]\n${minimal}`)).toEqual([
      "namers[0].experimental: the namer io.l5d.dnssrv is experimental and must be explicitly enabled by setting `experimental: true`"
    ])
  })

  it("never shows secrets in problems", () => {
    expect(problems(`namers: [{kind: io.l5d.consul, token: 12345}]\n${minimal}`)).toEqual([
      "namers[0].token: Expected string"
    ])
  })

  it("never shows secrets in /config.json", () => {
    const c = ok(minimal)
    const json = JSON.stringify(ConfigJson.toJsonValue({ ...c, namers: [{ kind: "io.l5d.consul", token: "s3cret" }] }))
    expect(json).not.toContain("s3cret")
    expect(json).toContain("<redacted>")
  })
})

describe("Config access log and timestampHeader", () => {
  it("has no access log and no timestamp header by default, and appends", () => {
    const r = ok(minimal).routers[0]!
    expect(r.httpAccessLog).toBeUndefined()
    expect(r.httpAccessLogAppend).toBe(true)
    expect(r.servers[0]!.timestampHeader).toBeUndefined()
  })

  it("decodes httpAccessLog, httpAccessLogAppend, the default rotation keys and timestampHeader", () => {
    const r = ok(`
routers:
- protocol: http
  httpAccessLog: /var/log/weir/access.log
  httpAccessLogAppend: false
  httpAccessLogRollPolicy: never
  httpAccessLogRotateCount: -1
  servers: [{timestampHeader: X-Request-Start}]
`).routers[0]!
    expect(r.httpAccessLog).toBe("/var/log/weir/access.log")
    expect(r.httpAccessLogAppend).toBe(false)
    expect(r.servers[0]!.timestampHeader).toBe("X-Request-Start")
    expect(JSON.stringify(ConfigJson.toJson(ok(minimal)))).toContain(`"httpAccessLogAppend":true`)
  })

  it("decodes rotation (see test/http/AccessLogRoll.test.ts) and rejects a bad policy with a located message", () => {
    const r = ok(`
routers:
- protocol: http
  httpAccessLog: /tmp/a.log
  httpAccessLogRollPolicy: daily
  httpAccessLogRotateCount: 7
  servers: [{}]
`).routers[0]!
    expect(r.httpAccessLogRollPolicy).toEqual({ _tag: "Daily" })
    expect(r.httpAccessLogRotateCount).toBe(7)
    expect(problems(`routers: [{protocol: http, httpAccessLogRollPolicy: sometimes}]`)).toEqual([
      expect.stringMatching(/^routers\[0\]\.httpAccessLogRollPolicy: invalid roll policy "sometimes"/)
    ])
  })

  it("rejects an empty access log path and a bad header name, naming the place", () => {
    expect(problems(`routers: [{protocol: http, httpAccessLog: "", servers: [{}]}]`)[0]).toMatch(
      /^routers\[0\]\.httpAccessLog: /
    )
    expect(problems(`routers: [{protocol: http, servers: [{}, {port: 4141, timestampHeader: "X Start"}]}]`)).toEqual([
      `routers[0].servers[1].timestampHeader: invalid header name "X Start" (expected token characters)`
    ])
  })
})

describe("Config addForwardedHeader", () => {
  const servers = (server: string) => ok(`routers: [{protocol: http, servers: [${server}]}]`).routers[0]!.servers

  it("is off when absent or null, and defaults both labelers to requestRandom", () => {
    expect(servers("{}")[0]!.addForwardedHeader).toBeUndefined()
    expect(servers("{addForwardedHeader: null}")[0]!.addForwardedHeader).toBeNull()
    expect(servers("{addForwardedHeader: {}}")[0]!.addForwardedHeader).toEqual({
      by: { kind: "requestRandom" },
      for: { kind: "requestRandom" }
    })
    expect(servers("{addForwardedHeader: {for: {kind: ip}}}")[0]!.addForwardedHeader).toEqual({
      by: { kind: "requestRandom" },
      for: { kind: "ip" }
    })
  })

  it("decodes every labeler kind", () => {
    for (const kind of ["ip", "ip:port", "connectionRandom", "requestRandom", "router"]) {
      expect(servers(`{addForwardedHeader: {by: {kind: "${kind}"}}}`)[0]!.addForwardedHeader?.by).toEqual({ kind })
    }
    expect(servers(`{addForwardedHeader: {by: {kind: static, label: _edge-1}}}`)[0]!.addForwardedHeader?.by).toEqual({
      kind: "static",
      label: "_edge-1"
    })
  })

  it("rejects unknown kinds, bad and missing static labels and unknown keys, naming the place", () => {
    expect(problems(`routers: [{protocol: http, servers: [{}, {addForwardedHeader: {by: {kind: random}}}]}]`)).toEqual([
      `routers[0].servers[1].addForwardedHeader.by.kind: unknown kind "random" ` +
      `(expected one of: ip, ip:port, connectionRandom, requestRandom, router, static)`
    ])
    expect(
      problems(`routers: [{protocol: http, servers: [{addForwardedHeader: {for: {kind: static, label: "a;b"}}}]}]`)
    ).toEqual([
      `routers[0].servers[0].addForwardedHeader.for.label: invalid label "a;b" ` +
      `(expected letters, digits, ".", "_" or "-", an RFC 7239 obfuscated identifier such as "_edge")`
    ])
    expect(problems(`routers: [{protocol: http, servers: [{addForwardedHeader: {for: {kind: static}}}]}]`)).toEqual([
      `routers[0].servers[0].addForwardedHeader.for.label: missing required key`
    ])
    expect(problems(`routers: [{protocol: http, servers: [{addForwardedHeader: {fro: {kind: ip}}}]}]`)).toEqual([
      `routers[0].servers[0].addForwardedHeader.fro: unknown key`
    ])
  })

  it("rejects kind router when the router's label is not a valid label", () => {
    expect(
      problems(`routers: [{protocol: http, label: "my edge", servers: [{addForwardedHeader: {by: {kind: router}}}]}]`)
    ).toEqual([
      `routers[0].servers[0].addForwardedHeader.by.kind: kind router uses the router's label: invalid label ` +
      `"my edge" (expected letters, digits, ".", "_" or "-", an RFC 7239 obfuscated identifier such as "_edge")`
    ])
    expect(problems(`routers: [{protocol: http, label: edge, servers: [{addForwardedHeader: {by: {kind: router}}}]}]`))
      .toEqual([])
  })
})

describe("PathMatcher", () => {
  it("matches by prefix with wildcards and captures", () => {
    const m = PathMatcher.parseUnsafe("/#/io.l5d.fs/{a}-{b}")
    expect(PathMatcher.match(m, Path.parseUnsafe("/#/io.l5d.fs/a-b-c/rest"))).toEqual({ a: "a-b", b: "c" })
    expect(PathMatcher.match(m, Path.parseUnsafe("/#/io.l5d.fs"))).toBeUndefined()
    expect(PathMatcher.matches(PathMatcher.parseUnsafe("/svc/*/x"), Path.parseUnsafe("/svc/y/x/z"))).toBe(true)
    expect(PathMatcher.matches(PathMatcher.parseUnsafe("/svc/*/x"), Path.parseUnsafe("/svc/y/q"))).toBe(false)
    expect(PathMatcher.matches(PathMatcher.parseUnsafe("/"), Path.parseUnsafe("/anything"))).toBe(true)
    expect(Result.isFailure(PathMatcher.parse("svc"))).toBe(true)
    expect(Result.isFailure(PathMatcher.parse("/a//b"))).toBe(true)
    // a trailing slash adds no segment (`prefix: /#/io.l5d.fs/` in linkerd's docs)
    const trailing = PathMatcher.parseUnsafe("/#/io.l5d.fs/")
    expect(trailing.segments.length).toBe(2)
    expect(PathMatcher.matches(trailing, Path.parseUnsafe("/#/io.l5d.fs/books"))).toBe(true)
    expect(PathMatcher.matches(trailing, Path.parseUnsafe("/#/io.l5d.k8s/books"))).toBe(false)
  })
})

describe("Config tunnels (connectEnabled, tunnelIdleTimeoutMs, tunnelMaxDurationMs)", () => {
  it("defaults to CONNECT off, a one-hour idle timeout and no total limit", () => {
    const r = ok(minimal).routers[0]!
    expect(r.connectEnabled).toBe(false)
    expect(Duration.toMillis(r.tunnelIdleTimeoutMs)).toBe(3_600_000)
    expect(r.tunnelMaxDurationMs).toBeUndefined()
    const set = ok(
      "routers: [{protocol: http, servers: [{}], connectEnabled: true, tunnelIdleTimeoutMs: 5000, tunnelMaxDurationMs: 60000}]"
    ).routers[0]!
    expect(set.connectEnabled).toBe(true)
    expect(Duration.toMillis(set.tunnelIdleTimeoutMs)).toBe(5000)
    expect(Duration.toMillis(set.tunnelMaxDurationMs!)).toBe(60_000)
  })

  it("refuses CONNECT on an h2 router and limits that are not positive, each located", () => {
    expect(problems("routers: [{protocol: h2, servers: [{}], connectEnabled: true}]")).toEqual([
      "routers[0].connectEnabled: applies to http routers only (HTTP/1.1 CONNECT)"
    ])
    const ps = problems(
      "routers: [{protocol: http, servers: [{}], connectEnabled: yes please, tunnelIdleTimeoutMs: 0, tunnelMaxDurationMs: -1}]"
    )
    expect(ps.length).toBe(3)
    expect(ps[0]).toMatch(/^routers\[0\]\.connectEnabled: /)
    expect(ps[1]).toMatch(/^routers\[0\]\.tunnelIdleTimeoutMs: /)
    expect(ps[2]).toMatch(/^routers\[0\]\.tunnelMaxDurationMs: /)
  })
})
