import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import * as Path from "../../src/naming/Path.js"
import * as Linker from "../../src/proxy/Linker.js"
import * as Validate from "../../src/proxy/Validate.js"

const check = (text: string) => Validate.check(text)
const problems = (text: string) => {
  const r = check(text)
  return Result.isFailure(r) ? r.failure.map((p) => `${p.path}: ${p.message}`) : []
}

describe("h2 routers in the config", () => {
  it("decodes an h2 router with linkerd's h2 keys, :authority as the default identifier, gRPC classifiers", () => {
    const r = check(`
routers:
- protocol: h2
  servers:
  - port: 4142
    initialStreamWindowBytes: 1048576
    initialConnectionWindowBytes: 4194304
    maxFrameBytes: 32768
    maxHeaderListBytes: 16384
    maxConcurrentStreamsPerConnection: 100
    windowUpdateRatio: 0.5
    headerTableBytes: 8192
  dtab: /svc => /$/inet/127.1/8888
  client:
    initialStreamWindowBytes: 65536
  service:
    responseClassifier:
      kind: io.l5d.h2.grpc.retryableStatusCodes
      retryableStatusCodes: [14, 8]
`)
    expect(Result.isSuccess(r)).toBe(true)
    if (!Result.isSuccess(r)) return
    const router = r.success.routers[0]!
    expect(router.protocol).toBe("h2")
    expect(router.label).toBe("h2")
    expect(router.identifiers).toEqual([{ kind: "io.l5d.header.token", header: ":authority" }])
    expect(router.service[0]!.params.responseClassifier).toEqual({
      kind: "io.l5d.h2.grpc.retryableStatusCodes",
      retryableStatusCodes: [14, 8]
    })
    const options = Linker.routerOptions(router, r.success.admin, undefined as never, undefined as never)
    expect(options.protocol).toBe("h2")
    expect(options.servers[0]).toMatchObject({
      port: 4142,
      initialStreamWindowBytes: 1048576,
      maxConcurrentStreamsPerConnection: 100,
      maxHeaderListBytes: 16384
    })
    expect(Linker.clientParams(router.client, Path.parseUnsafe("/$/inet/127.1/8888")).pool).toEqual({
      initialStreamWindowBytes: 65536
    })
  })

  it("rejects h2 keys out of range, on an http router, and a retryableStatusCodes classifier without codes", () => {
    const found = problems(`
routers:
- protocol: h2
  servers: [{port: 4142, maxFrameBytes: 100, windowUpdateRatio: 2}]
- protocol: http
  servers: [{port: 4140, maxConcurrentStreamsPerConnection: 10}]
`)
    expect(found).toEqual([
      "routers[0].servers[0].maxFrameBytes: must be an integer from 16384 to 16777215, got 100",
      "routers[0].servers[0].windowUpdateRatio: must be between 0 and 1 (exclusive), got 2",
      "routers[1].servers[0].maxConcurrentStreamsPerConnection: is an HTTP/2 key: only a router with `protocol: h2` takes it"
    ])
    const classifier = problems(`
routers:
- protocol: h2
  servers: [{port: 4142}]
  service: {responseClassifier: {kind: io.l5d.h2.grpc.retryableStatusCodes}}
`)
    expect(classifier.some((p) => p.includes("retryableStatusCodes"))).toBe(true)
  })

  it("h2AccessLog* (linkerd's names on h2 routers) set the router's access log; refused on an http router", () => {
    const r = check(`
routers:
- protocol: h2
  h2AccessLog: logs/access.log
  h2AccessLogRollPolicy: daily
  h2AccessLogAppend: false
  h2AccessLogRotateCount: 3
  servers: [{port: 4142}]
`)
    if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
    expect(r.success.routers[0]).toMatchObject({
      httpAccessLog: "logs/access.log",
      httpAccessLogAppend: false,
      httpAccessLogRotateCount: 3
    })
    expect(r.success.routers[0]!.httpAccessLogRollPolicy).toEqual({ _tag: "Daily" })
    expect(problems(`
routers: [{protocol: http, h2AccessLog: logs/access.log, servers: [{port: 4140}]}]`)).toEqual([
      "routers[0].h2AccessLog: h2AccessLog is for h2 routers (an http router's is httpAccessLog)"
    ])
  })
})
