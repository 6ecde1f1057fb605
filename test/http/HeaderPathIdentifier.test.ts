import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as IdentifierPlugins from "../../src/config/identifier/index.js"
import * as HeaderPathIdentifier from "../../src/http/HeaderPathIdentifier.js"
import * as Message from "../../src/http/transport/Message.js"
import { Path } from "../../src/index.js"
import * as Config from "../../src/proxy/Config.js"

const request = (url: string, headers: Message.Headers = {}) =>
  Message.request({ url, headers: { host: "web", ...headers }, version: "1.1", method: "POST" })

const names = (identify: ReturnType<typeof HeaderPathIdentifier.make>, r: Message.HttpRequest) => {
  const id = identify(r)
  return id._tag === "Identified" ? Path.show(id.name) : `unidentified: ${id.reason}`
}

describe("io.l5d.header.path", () => {
  const svc = Path.read("/svc")

  it("takes the first `segments` segments of :path (the request target), dropping the query", () => {
    const two = HeaderPathIdentifier.make(svc, ":path", 2)
    expect(names(two, request("/true/love/waits.php?thing=1"))).toBe("/svc/true/love")
    expect(names(two, request("/true"))).toBe("unidentified: Path must have at least 2 segment(s)")
    const grpc = HeaderPathIdentifier.make(svc, ":path", 1)
    expect(names(grpc, request("/helloworld.Greeter/SayHello"))).toBe("/svc/helloworld.Greeter")
  })

  it("without segments, is the whole path; an empty path is not identified", () => {
    const all = HeaderPathIdentifier.make(svc)
    expect(names(all, request("/a/b/c?x=1"))).toBe("/svc/a/b/c")
    expect(names(all, request("/"))).toBe("unidentified: Missing destination path")
  })

  it("reads another header when configured", () => {
    const h = HeaderPathIdentifier.make(Path.read("/h"), "x-dst")
    expect(names(h, request("/ignored", { "x-dst": "/books/v2?q" }))).toBe("/h/books/v2")
    expect(names(h, request("/ignored"))).toBe("unidentified: Missing destination path")
  })

  it("decodes with linkerd's defaults and builds from the router's config", () => {
    const r = Config.parse(`routers: [{protocol: http, identifier: {kind: io.l5d.header.path, segments: 1}}]`)
    expect(Result.isSuccess(r)).toBe(true)
    if (Result.isFailure(r)) return
    const identifiers = r.success.routers[0]!.identifiers
    expect(identifiers).toEqual([{ kind: "io.l5d.header.path", header: ":path", segments: 1 }])
    const identify = Effect.runSync(Effect.scoped(IdentifierPlugins.build(identifiers, Path.read("/svc"))))
    expect(names(identify, request("/users/1"))).toBe("/svc/users")
    const bad = Config.parse(`routers: [{protocol: http, identifier: {kind: io.l5d.header.path, segments: 0}}]`)
    expect(Result.isFailure(bad)).toBe(true)
  })
})
