import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as NamerdConfig from "../../src/namerd/Config.js"
import * as Namerd from "../../src/namerd/Namerd.js"
import * as ThriftTrees from "../../src/namers/namerd/ThriftTrees.js"
import * as W from "../../src/namers/namerd/ThriftWire.js"
import * as Path from "../../src/naming/Path.js"
import * as Stats from "../../src/Stats.js"
import { waitFor } from "../support/poll.js"
import { request } from "./support.js"

const start = (dtab: string, options?: { readonly cache?: object; readonly registry?: Stats.InMemory }) =>
  Effect.gen(function*() {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "weir-thrift-iface-"))),
      (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
    )
    writeFileSync(join(dir, "books"), "127.0.0.1 7101\n")
    writeFileSync(join(dir, "books-v2"), "127.0.0.1 7102\n127.0.0.1 7103\n")
    const r = NamerdConfig.decode({
      admin: { port: 0 },
      storage: { kind: "io.l5d.inMemory", namespaces: { default: dtab } },
      namers: [{ kind: "io.l5d.fs", rootDir: dir }],
      interfaces: [
        { kind: "io.l5d.thriftNameInterpreter", port: 0, ...(options?.cache ? { cache: options.cache } : {}) },
        { kind: "io.l5d.httpController", port: 0 }
      ]
    })
    if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
    const n = yield* Namerd.make(r.success, { registry: options?.registry })
    return { thrift: n.interfaces[0]!.port, http: n.interfaces[1]!.port }
  })

/** A raw framed-Thrift connection: `send` writes one frame, `next` waits for the next frame read. */
const connect = (port: number) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ send: (b: Buffer) => void; next: () => Promise<Buffer>; socket: Net.Socket }>((resolve) => {
        const socket = Net.connect(port, "127.0.0.1")
        const reader = new W.FrameReader()
        const frames: Array<Buffer> = []
        const waiting: Array<(b: Buffer) => void> = []
        socket.on("data", (c: Buffer) => {
          const r = reader.push(c)
          if (Result.isFailure(r)) throw new Error(r.failure)
          for (const f of r.success) {
            const w = waiting.shift()
            if (w) w(f)
            else frames.push(f)
          }
        })
        socket.on("connect", () =>
          resolve({
            socket,
            send: (b) => socket.write(b),
            next: () => {
              const f = frames.shift()
              return f ? Promise.resolve(f) : new Promise((r) => waiting.push(r))
            }
          }))
      })
    ),
    (c) => Effect.sync(() => c.socket.destroy())
  )

const tpath = (s: string) => ThriftTrees.pathToThrift(Path.parseUnsafe(s))
const empty = new Uint8Array(0)
const showPath = (p: W.TPath) => Result.map(ThriftTrees.pathFromThrift(p), Path.show)

const bindReq = (stamp: Uint8Array, path = "/svc/books"): W.BindReq => ({
  dtab: "",
  name: { stamp, name: tpath(path), ns: "default" },
  clientId: []
})

const call = <M extends W.Method>(
  c: { send: (b: Buffer) => void; next: () => Promise<Buffer> },
  method: M,
  seqid: number,
  req: Parameters<typeof W.encodeCall<M>>[2]
) =>
  Effect.promise(async () => {
    c.send(W.encodeCall(method, seqid, req))
    const r = W.decodeReply(method, seqid, await c.next())
    if (Result.isFailure(r)) throw new Error(r.failure)
    return r.success
  })

const leafId = (reply: W.Reply<"bind">) => {
  if (reply._tag !== "Success" || reply.value.tree.root._tag !== "leaf") return reply
  return showPath(reply.value.tree.root.value.id)
}

describe("namerd io.l5d.thriftNameInterpreter", () => {
  it.live("bind answers at once for a new stamp and holds a poll with the current one until the dtab changes", () =>
    Effect.gen(function*() {
      const n = yield* start("/svc => /#/io.l5d.fs")
      const c = yield* connect(n.thrift)
      const first = yield* call(c, "bind", 1, bindReq(empty))
      expect(leafId(first)).toEqual(Result.succeed("/#/io.l5d.fs/books"))
      const stamp = first._tag === "Success" ? first.value.stamp : empty
      expect(stamp.length).toBe(8)

      c.send(W.encodeCall("bind", 2, bindReq(stamp)))
      const put = yield* request(n.http, "PUT", "/api/1/dtabs/default", {
        headers: { "content-type": "application/dtab" },
        body: "/svc => /#/io.l5d.fs; /svc/books => /svc/books-v2"
      })
      expect(put.status).toBe(204)
      const held = W.decodeReply("bind", 2, yield* Effect.promise(c.next))
      const second = Result.getOrThrow(held)
      expect(leafId(second)).toEqual(Result.succeed("/#/io.l5d.fs/books-v2"))
      expect(second._tag === "Success" && Buffer.from(second.value.stamp).equals(Buffer.from(stamp))).toBe(false)
    }))

  it.live("addr, dtab and delegate answer; several calls in flight on one connection are answered by seqid", () =>
    Effect.gen(function*() {
      const n = yield* start("/svc => /#/io.l5d.fs")
      const c = yield* connect(n.thrift)
      const addr = yield* call(c, "addr", 5, {
        name: { stamp: empty, name: tpath("/#/io.l5d.fs/books-v2"), ns: "default" },
        clientId: []
      })
      expect(addr._tag === "Success" && ThriftTrees.addrFromThrift(addr.value.value)).toEqual(
        Result.succeed({
          _tag: "Bound",
          addresses: [
            { host: "127.0.0.1", port: 7102, weight: 1, meta: {} },
            { host: "127.0.0.1", port: 7103, weight: 1, meta: {} }
          ],
          meta: {}
        })
      )

      const dtab = yield* call(c, "dtab", 6, { stamp: empty, ns: "default", clientId: [] })
      expect(dtab._tag === "Success" && dtab.value.dtab).toBe("/svc=>/#/io.l5d.fs")
      const missing = yield* call(c, "dtab", 7, { stamp: empty, ns: "nope", clientId: [] })
      expect(missing).toEqual({ _tag: "Failure", value: { reason: "dtab namespace nope does not exist" } })

      const delegation = yield* call(c, "delegate", 8, {
        dtab: "",
        delegation: {
          stamp: empty,
          tree: {
            root: { path: [], dentry: "", contents: { _tag: "pathLeaf", value: tpath("/svc/books") } },
            nodes: new Map()
          },
          ns: "default"
        },
        clientId: []
      })
      expect(delegation._tag).toBe("Success")
      const tree = delegation._tag === "Success" ? delegation.value.tree : undefined
      expect(tree?.root.contents._tag).toBe("delegate")
      expect([...tree!.nodes.values()].some((node) => node.dentry === "/svc=>/#/io.l5d.fs")).toBe(true)

      const stamp = (yield* call(c, "bind", 9, bindReq(empty))) as { value: W.Bound }
      c.send(W.encodeCall("bind", 10, bindReq(stamp.value.stamp)))
      c.send(W.encodeCall("bind", 11, bindReq(empty, "/svc/books-v2")))
      const answered = W.decodeReply("bind", 11, yield* Effect.promise(c.next))
      expect(Result.map(answered, leafId)).toEqual(Result.succeed(Result.succeed("/#/io.l5d.fs/books-v2")))
    }))

  it.live("answers failures and application exceptions, and keeps the connection", () =>
    Effect.gen(function*() {
      const n = yield* start("/svc => /#/io.l5d.fs")
      const c = yield* connect(n.thrift)
      const noPath = yield* call(c, "bind", 1, bindReq(empty, "/"))
      expect(noPath._tag === "Failure" && noPath.value.reason).toBe("empty path")
      const badDtab = yield* call(c, "bind", 2, { ...bindReq(empty), dtab: "/svc =>" })
      expect(badDtab._tag === "Failure" && badDtab.value.reason).toMatch(/^invalid dtab: /)
      c.send(W.encodeApplicationException("resolve", 3, 0, "").fill(1, 7, 8))
      const unknown = yield* Effect.promise(c.next)
      expect(W.decodeReply("resolve" as "bind", 3, unknown)).toEqual(
        Result.succeed({ _tag: "ApplicationException", message: "unknown method resolve", code: 1 })
      )
      const still = yield* call(c, "dtab", 4, { stamp: empty, ns: "default", clientId: [] })
      expect(still._tag).toBe("Success")
    }))

  it.live("refuses a poll past bindingCacheActive held polls, and a client that hangs up frees its poll", () =>
    Effect.gen(function*() {
      const registry = Stats.makeInMemory()
      const n = yield* start("/svc => /#/io.l5d.fs", { cache: { bindingCacheActive: 1 }, registry })
      const active = () => registry.gaugeValues().get("io.l5d.thriftNameInterpreter/bindingcache/active")
      const c = yield* connect(n.thrift)
      const books = (yield* call(c, "bind", 1, bindReq(empty))) as { value: W.Bound }
      c.send(W.encodeCall("bind", 2, bindReq(books.value.stamp)))
      yield* waitFor(() => active() === 1, "the held poll to count as active")

      const other = yield* connect(n.thrift)
      const refused = yield* call(other, "bind", 1, bindReq(empty, "/svc/books-v2"))
      expect(refused._tag === "Failure" && refused.value.reason).toBe(
        "The maximum number of concurrent observations has been reached (1)"
      )

      c.socket.destroy()
      yield* waitFor(() => active() === 0, "the hung-up client's poll to be dropped")
      const v2 = yield* call(other, "bind", 2, bindReq(empty, "/svc/books-v2"))
      expect(leafId(v2)).toEqual(Result.succeed("/#/io.l5d.fs/books-v2"))
      other.send(W.encodeCall("bind", 3, bindReq((v2 as { value: W.Bound }).value.stamp, "/svc/books-v2")))
      yield* waitFor(() => active() === 1, "a new poll to be held")
    }))
})
