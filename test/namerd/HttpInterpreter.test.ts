import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as Address from "../../src/Address.js"
import * as HttpInterpreter from "../../src/namers/namerd/HttpInterpreter.js"
import type * as Activity from "../../src/naming/Activity.js"
import * as Dtab from "../../src/naming/Dtab.js"
import type { BoundTree } from "../../src/naming/Interpreter.js"
import * as Name from "../../src/naming/Name.js"
import * as NameTree from "../../src/naming/NameTree.js"
import * as Path from "../../src/naming/Path.js"
import * as Stats from "../../src/Stats.js"
import { waitFor } from "../support/poll.js"

const leaf = (id: string) => ({
  type: "leaf",
  bound: { addr: { type: "pending" }, id, path: "/" }
})

/** A namerd stand-in: each bind connection gets the next scripted list of lines, then is ended or held. */
const scripted = (connections: Array<{ readonly lines: Array<string>; readonly end: boolean }>) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ port: number; urls: Array<string>; server: http.Server }>((resolve) => {
        const urls: Array<string> = []
        let n = 0
        const server = http.createServer((req, res) => {
          urls.push(req.url ?? "")
          if (req.url?.startsWith("/api/1/addr/")) {
            res.writeHead(200, { "content-type": "application/json" })
            res.write(
              JSON.stringify({ type: "bound", addrs: [{ ip: "127.0.0.1", port: 9, meta: {} }], meta: {} }) + "\n"
            )
            return
          }
          const c = connections[Math.min(n++, connections.length - 1)]!
          res.writeHead(200, { "content-type": "application/json" })
          for (const l of c.lines) res.write(l + "\n")
          if (c.end) res.end()
        })
        server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as AddressInfo).port, urls, server }))
      })
    ),
    (s) =>
      Effect.promise(() =>
        new Promise<void>((r) => {
          s.server.close(() => r())
          s.server.closeAllConnections()
        })
      )
  )

const ids = (s: Activity.State<BoundTree>) =>
  s._tag === "Ok" ? NameTree.leaves(s.value).map((b) => Name.idString(b)).join(",") : s._tag

describe("io.l5d.namerd.http interpreter", () => {
  it.live("keeps the last tree across a broken watch, ignores unreadable trees, and resumes with the next", () =>
    Effect.gen(function*() {
      const namerd = yield* scripted([
        { lines: [JSON.stringify(leaf("/#/io.l5d.fs/books")), JSON.stringify({ type: "bogus" })], end: true },
        { lines: ["not json"], end: true },
        { lines: [JSON.stringify(leaf("/#/io.l5d.fs/books-v2"))], end: false }
      ])
      const stats = Stats.makeInMemory()
      const interpreter = yield* HttpInterpreter.make({
        addresses: () => [Address.make("127.0.0.1", namerd.port)],
        namespace: "prod",
        retryBase: "50 millis",
        retryMax: "100 millis",
        stats
      })
      const seen: Array<string> = []
      yield* Effect.forkScoped(
        Stream.runForEach(
          interpreter.bindStates(Dtab.parseUnsafe("/x=>/y"), Path.parseUnsafe("/svc/books")),
          (s) => Effect.sync(() => seen.push(ids(s)))
        )
      )
      yield* waitFor(() => seen.includes("/#/io.l5d.fs/books-v2"), "the tree from the third connection")
      expect(seen).toEqual(["Pending", "/#/io.l5d.fs/books", "/#/io.l5d.fs/books-v2"])
      expect(stats.counterValue("reconnects")).toBeGreaterThanOrEqual(2)
      expect(namerd.urls[0]).toBe("/api/1/bind/prod?path=%2Fsvc%2Fbooks&watch=true&dtab=%2Fx%3D%3E%2Fy")
      yield* waitFor(() => stats.gaugeValues().get("connected") === 1, "the watch to count as connected")
    }))

  it.live("addresses of a bound id come from one shared addr watch", () =>
    Effect.gen(function*() {
      const namerd = yield* scripted([{ lines: [JSON.stringify(leaf("/#/io.l5d.fs/books"))], end: false }])
      const interpreter = yield* HttpInterpreter.make({ addresses: () => [Address.make("127.0.0.1", namerd.port)] })
      const tree = yield* Stream.runHead(interpreter.bind(Dtab.empty, Path.parseUnsafe("/svc/books")))
      const bound = tree._tag === "Some" && tree.value._tag === "Leaf" ? tree.value.value : undefined
      expect(bound).toBeDefined()
      const [a, b] = yield* Effect.all([
        Stream.runHead(Name.addresses(bound!)),
        Stream.runHead(Name.addresses(bound!))
      ], { concurrency: "unbounded" })
      expect(a._tag === "Some" && a.value.map(Address.key)).toEqual(["127.0.0.1:9"])
      expect(b).toEqual(a)
      expect(namerd.urls.filter((u) => u.startsWith("/api/1/addr/default?path=%2F%23%2Fio.l5d.fs%2Fbooks")).length)
        .toBe(1)
    }))
})
