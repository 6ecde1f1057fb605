import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import * as ServersetsAnnouncerConfig from "../../src/config/announcer/Serversets.js"
import { Path } from "../../src/index.js"
import * as Config from "../../src/proxy/Config.js"
import * as Validate from "../../src/proxy/Validate.js"

const ok = (text: string): Config.Config => {
  const r = Config.parse(text)
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

const problems = (text: string): Array<string> => {
  const r = Config.parse(text)
  return Result.isFailure(r) ? r.failure.map((p) => `${p.path}: ${p.message}`) : []
}

const minimal = "routers: [{protocol: http, servers: [{}]}]"

describe("discovery namer configs (linkerd keys and defaults)", () => {
  it("decodes consul, serversets, marathon, curator and zkLeader with their defaults, and they are available", () => {
    const c = ok(`
namers:
- {kind: io.l5d.consul}
- {kind: io.l5d.serversets, zkAddrs: [{host: zk}]}
- {kind: io.l5d.marathon}
- {kind: io.l5d.curator, experimental: true, zkAddrs: [{host: zk, port: 2182}]}
- {kind: io.l5d.zkLeader, zkAddrs: [{host: zk}], prefix: /leader}
${minimal}
`)
    expect(c.namers[0]).toMatchObject({
      host: "localhost",
      port: 8500,
      includeTag: false,
      useHealthCheck: false,
      healthStatuses: ["passing"],
      setHost: false,
      consistencyMode: "default",
      failFast: false,
      preferServiceAddress: true,
      transferMetadata: false
    })
    expect(c.namers[2]).toMatchObject({
      host: "marathon.mesos",
      port: 80,
      uriPrefix: "",
      ttlMs: 5000,
      jitterMs: 50,
      useHealthCheck: false
    })
    expect(c.namers[3]).toMatchObject({ basePath: "/", zkAddrs: [{ host: "zk", port: 2182 }] })
    expect(Config.namerPrefix(c.namers[4]!)).toEqual(Path.parseUnsafe("/leader"))
    expect(Validate.validate(c)).toEqual([])
  })

  it("rejects what weir cannot do, with the location", () => {
    expect(problems(`
namers:
- {kind: io.l5d.consul, setHost: true, tls: {clientAuth: {}}}
- {kind: io.l5d.serversets, zkAddrs: []}
- {kind: io.l5d.marathon, dst: /$/inet/127.1/8080}
${minimal}
`)).toEqual([
      "namers[0].setHost: setHost: true (rewriting Host to the Consul DNS name) is not supported by this version of weir",
      "namers[0].tls.clientAuth: tls.clientAuth is not supported by this version of weir",
      "namers[1].zkAddrs: Expected a value with a length of at least 1, got []",
      "namers[2].dst: marathon dst is not supported by this version of weir"
    ])
    expect(problems(`namers: [{kind: io.l5d.curator, zkAddrs: [{host: zk}]}]\n${minimal}`)).toEqual([
      "namers[0]: the namer io.l5d.curator is experimental and must be explicitly enabled by setting `experimental: true`"
    ])
  })

  it("announce names must be served by one of the router's announcers", () => {
    const c = ok(`
routers:
- protocol: http
  announcers:
  - {kind: io.l5d.serversets, zkAddrs: [{host: zk}], pathPrefix: /disco}
  servers: [{port: 4140, announce: [/#/io.l5d.serversets/web]}]
`)
    const a = c.routers[0]!.announcers![0]!
    expect(ServersetsAnnouncerConfig.zkPathOf(a, Path.parseUnsafe("/#/io.l5d.serversets/web/v1"))).toBe("/disco/web/v1")
    expect(ServersetsAnnouncerConfig.zkPathOf(a, Path.parseUnsafe("/#/other/web"))).toBeUndefined()
    expect(problems(`
routers:
- protocol: http
  servers: [{port: 4140, announce: [/#/io.l5d.serversets/web]}]
`)).toEqual([
      "routers[0].servers[0].announce[0]: no announcer of this router serves /#/io.l5d.serversets/web (routers[].announcers prefixes: none)"
    ])
  })
})
