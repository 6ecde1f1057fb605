import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import * as Http from "node:http"
import * as Address from "../../src/Address.js"
import * as NamerdConfig from "../../src/namerd/Config.js"
import * as Namerd from "../../src/namerd/Namerd.js"
import * as Wire from "../../src/namers/namerd/Wire.js"
import * as Addr from "../../src/naming/Addr.js"
import * as Name from "../../src/naming/Name.js"
import * as NameTree from "../../src/naming/NameTree.js"
import * as Path from "../../src/naming/Path.js"
import { request, waitLines, watch } from "./support.js"

const config = (namespaces: Record<string, string>) => {
  const r = NamerdConfig.decode({
    admin: { port: 0 },
    storage: { kind: "io.l5d.inMemory", namespaces },
    interfaces: [{ kind: "io.l5d.httpController", port: 0 }]
  })
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

const start = (namespaces: Record<string, string> = {}) =>
  Effect.map(Namerd.make(config(namespaces)), (n) => n.interfaces[0]!.port)

describe("namerd io.l5d.httpController on io.l5d.inMemory", () => {
  it.live("lists, gets with an ETag, creates, updates with If-Match and deletes", () =>
    Effect.gen(function*() {
      const port = yield* start({ default: "/svc => /#/io.l5d.fs" })
      const list = yield* request(port, "GET", "/api/1/dtabs")
      expect(list.status).toBe(200)
      expect(JSON.parse(list.body)).toEqual(["default"])

      const get = yield* request(port, "GET", "/api/1/dtabs/default")
      expect(get.status).toBe(200)
      expect(get.headers["content-type"]).toBe("application/json")
      expect(JSON.parse(get.body)).toEqual([{ prefix: "/svc", dst: "/#/io.l5d.fs" }])
      const etag = String(get.headers.etag)
      expect(etag).not.toBe("")

      const text = yield* request(port, "GET", "/api/1/dtabs/default", { headers: { accept: "application/dtab" } })
      expect(text.body.trim()).toBe("/svc=>/#/io.l5d.fs")
      expect(text.headers.etag).toBe(etag)

      const created = yield* request(port, "POST", "/api/1/dtabs/other", {
        headers: { "content-type": "application/json" },
        body: JSON.stringify([{ prefix: "/svc/a", dst: "/$/inet/127.0.0.1/1" }])
      })
      expect(created.status).toBe(204)
      const again = yield* request(port, "POST", "/api/1/dtabs/other", {
        headers: { "content-type": "application/dtab" },
        body: "/svc/a => /$/inet/127.0.0.1/2"
      })
      expect(again.status).toBe(409)
      expect(JSON.parse((yield* request(port, "GET", "/api/1/dtabs")).body)).toEqual(["default", "other"])

      const updated = yield* request(port, "PUT", "/api/1/dtabs/default", {
        headers: { "content-type": "application/dtab", "if-match": etag },
        body: "/svc => /#/io.l5d.fs/v2"
      })
      expect(updated.status).toBe(204)
      const stale = yield* request(port, "PUT", "/api/1/dtabs/default", {
        headers: { "content-type": "application/dtab", "if-match": etag },
        body: "/svc => /#/lost"
      })
      expect(stale.status).toBe(412)
      const after = yield* request(port, "GET", "/api/1/dtabs/default", { headers: { accept: "application/dtab" } })
      expect(after.body.trim()).toBe("/svc=>/#/io.l5d.fs/v2")
      expect(after.headers.etag).not.toBe(etag)

      const unconditional = yield* request(port, "PUT", "/api/1/dtabs/third", {
        headers: { "content-type": "text/plain" },
        body: "/a => /b"
      })
      expect(unconditional.status).toBe(204)
      const missingIfMatch = yield* request(port, "PUT", "/api/1/dtabs/nope", {
        headers: { "content-type": "application/dtab", "if-match": etag },
        body: "/a => /b"
      })
      expect(missingIfMatch.status).toBe(404)

      expect((yield* request(port, "DELETE", "/api/1/dtabs/other")).status).toBe(204)
      expect((yield* request(port, "DELETE", "/api/1/dtabs/other")).status).toBe(404)
      expect((yield* request(port, "GET", "/api/1/dtabs/other")).status).toBe(404)
      expect((yield* request(port, "HEAD", "/api/1/dtabs/default")).headers.etag).toBe(after.headers.etag)
    }))

  it.live("rejects bad dtabs, bad content types and bad namespaces with 4xx, never a crash", () =>
    Effect.gen(function*() {
      const port = yield* start()
      const bad = yield* request(port, "POST", "/api/1/dtabs/x", {
        headers: { "content-type": "application/dtab" },
        body: "/a => "
      })
      expect(bad.status).toBe(400)
      expect(bad.body).toContain("Invalid dtab")
      const badJson = yield* request(port, "POST", "/api/1/dtabs/x", {
        headers: { "content-type": "application/json" },
        body: "[{\"prefix\": 1}]"
      })
      expect(badJson.status).toBe(400)
      const ct = yield* request(port, "POST", "/api/1/dtabs/x", {
        headers: { "content-type": "image/png" },
        body: "/a => /b"
      })
      expect(ct.status).toBe(415)
      expect((yield* request(port, "GET", "/api/1/dtabs/bad%20name")).status).toBe(400)
      expect((yield* request(port, "GET", "/api/1/bind/default?path=not-a-path")).status).toBe(400)
      expect((yield* request(port, "GET", "/nope")).status).toBe(404)
    }))

  it.live("a dtab watch sees every change, the current dtab first", () =>
    Effect.gen(function*() {
      const port = yield* start({ default: "/svc => /a" })
      const w = yield* watch(port, "/api/1/dtabs/default?watch=true")
      yield* waitLines(w, 1, "the current dtab")
      expect(w.lines[0]).toEqual([{ prefix: "/svc", dst: "/a" }])
      yield* request(port, "PUT", "/api/1/dtabs/default", {
        headers: { "content-type": "application/dtab" },
        body: "/svc => /b"
      })
      yield* waitLines(w, 2, "the changed dtab")
      expect(w.lines[1]).toEqual([{ prefix: "/svc", dst: "/b" }])
      const raw = yield* Effect.promise(() =>
        new Promise<string>((resolve) => {
          const req = Http.get({
            host: "127.0.0.1",
            port,
            path: "/api/1/dtabs/default?watch=true",
            headers: { accept: "application/dtab" },
            agent: false
          }, (res) => {
            res.setEncoding("utf8")
            res.once("data", (chunk: string) => {
              resolve(`${res.headers["content-type"]} ${chunk}`)
              req.destroy()
            })
          })
        })
      )
      expect(raw).toBe("application/dtab /svc=>/b\n")
      const l = yield* watch(port, "/api/1/dtabs?watch=true")
      yield* waitLines(l, 1, "the namespace list")
      yield* request(port, "POST", "/api/1/dtabs/more", { headers: { "content-type": "application/dtab" }, body: "" })
      yield* waitLines(l, 2, "the new namespace list")
      expect(l.lines).toEqual([["default"], ["default", "more"]])
    }))

  it.live("bind, addr and resolve answer linkerd's JSON, and their watches follow dtab changes", () =>
    Effect.gen(function*() {
      const port = yield* start({ default: "/svc/books => /$/inet/127.0.0.1/8081" })
      const bind = yield* request(port, "GET", "/api/1/bind/default?path=/svc/books")
      expect(bind.status).toBe(200)
      expect(JSON.parse(bind.body)).toEqual({
        type: "leaf",
        bound: {
          addr: { type: "bound", addrs: [{ ip: "127.0.0.1", port: 8081, meta: {} }], meta: {} },
          id: "/$/inet/127.0.0.1/8081",
          path: "/"
        }
      })
      const addr = yield* request(
        port,
        "GET",
        "/api/1/addr/default?path=" + encodeURIComponent("/$/inet/127.0.0.1/8081")
      )
      expect(JSON.parse(addr.body)).toEqual({
        type: "bound",
        addrs: [{ ip: "127.0.0.1", port: 8081, meta: {} }],
        meta: {}
      })
      const resolve = yield* request(port, "GET", "/api/1/resolve/default?path=/svc/books")
      expect(JSON.parse(resolve.body)).toEqual(JSON.parse(addr.body))
      const neg = yield* request(port, "GET", "/api/1/bind/default?path=/svc/nope")
      expect(JSON.parse(neg.body)).toEqual({ type: "neg" })

      const w = yield* watch(port, "/api/1/bind/default?path=/svc/books&watch=true")
      const r = yield* watch(port, "/api/1/resolve/default?path=/svc/books&watch=true")
      yield* waitLines(w, 1, "the first binding")
      yield* waitLines(r, 1, "the first resolution")
      yield* request(port, "PUT", "/api/1/dtabs/default", {
        headers: { "content-type": "application/dtab" },
        body: "/svc/books => 3 * /$/inet/127.0.0.1/8082 & /$/inet/127.0.0.1/8083"
      })
      yield* waitLines(w, 2, "the new binding")
      expect(w.lines[1]).toMatchObject({
        type: "union",
        union: [
          { weight: 3, tree: { type: "leaf", bound: { id: "/$/inet/127.0.0.1/8082" } } },
          { weight: 1, tree: { type: "leaf", bound: { id: "/$/inet/127.0.0.1/8083" } } }
        ]
      })
      yield* waitLines(r, 2, "the new resolution")
      expect(r.lines[1]).toMatchObject({ type: "bound", addrs: [{ port: 8082 }] })

      const delegate = yield* request(port, "GET", "/api/1/delegate/default?path=/svc/books")
      expect(delegate.status).toBe(200)
      expect(JSON.parse(delegate.body)).toMatchObject({ type: "delegate", path: "/svc/books" })
      expect((yield* request(port, "GET", "/api/1/delegate/none?path=/svc/books")).status).toBe(404)
    }))
})

describe("namerd wire JSON", () => {
  it("reads back the dtab JSON it writes and rejects malformed entries", () => {
    const json = [{ prefix: "/svc", dst: "/#/io.l5d.fs | /$/inet/127.0.0.1/1" }]
    const r = Wire.dtabFromJson(json)
    expect(Result.isSuccess(r) && Wire.dtabToJson(r.success)).toEqual(json)
    expect(Result.isFailure(Wire.dtabFromJson({}))).toBe(true)
    expect(Result.isFailure(Wire.dtabFromJson([{ prefix: "/a", dst: "not a tree" }]))).toBe(true)
  })

  it("bounds the depth of a bound tree document", () => {
    let doc: unknown = { type: "neg" }
    for (let i = 0; i < 200; i++) doc = { type: "alt", alt: [doc] }
    const r = Wire.treeFromJson(doc, () => {
      throw new Error("not reached")
    })
    expect(Result.isFailure(r) && r.failure).toContain("deeper than")
  })

  it("reads back the bound trees and addresses it writes", () => {
    const b = (id: string, residual = "/") => Name.bound(Path.parseUnsafe(id), Stream.empty, Path.parseUnsafe(residual))
    const tree = NameTree.union(
      NameTree.weighted(NameTree.leaf(b("/#/io.l5d.fs/books", "/rest")), 3),
      NameTree.weighted(NameTree.alt(NameTree.neg, NameTree.leaf(b("/$/inet/127.0.0.1/1"))), 1)
    )
    const addr = Addr.bound([Address.make("127.0.0.1", 1, { weight: 2, meta: { zone: "a" } })], { x: 1 })
    const json = JSON.parse(JSON.stringify(Wire.treeToJson(tree, () => addr)))
    const back = Wire.treeFromJson(json, () => Stream.empty)
    expect(Result.isSuccess(back) && NameTree.equals(back.success, tree, Name.equals)).toBe(true)
    const a = Wire.addrFromJson(JSON.parse(JSON.stringify(Wire.addrToJson(addr))))
    expect(Result.isSuccess(a) && Addr.equals(a.success, addr)).toBe(true)
    expect(Result.isFailure(Wire.addrFromJson({ type: "bound", addrs: [{ ip: 1 }] }))).toBe(true)
  })

  it("round-trips ETags", () => {
    expect(Wire.versionFromEtag(Wire.etag("123"))).toBe("123")
    expect(Wire.versionFromEtag(`"${Wire.etag("7")}"`)).toBe("7")
  })
})
