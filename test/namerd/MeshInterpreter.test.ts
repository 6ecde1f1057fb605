import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Http2 from "node:http2"
import * as Net from "node:net"
import type { AddressInfo } from "node:net"
import * as Address from "../../src/Address.js"
import * as Codec from "../../src/namers/namerd/MeshCodec.js"
import * as MeshInterpreter from "../../src/namers/namerd/MeshInterpreter.js"
import * as Replicas from "../../src/namers/namerd/MeshReplicas.js"
import * as Pb from "../../src/namers/namerd/Protobuf.js"
import type * as Activity from "../../src/naming/Activity.js"
import * as Dtab from "../../src/naming/Dtab.js"
import type { BoundTree } from "../../src/naming/Interpreter.js"
import * as Name from "../../src/naming/Name.js"
import * as NameTree from "../../src/naming/NameTree.js"
import * as Path from "../../src/naming/Path.js"
import * as Stats from "../../src/Stats.js"
import { waitFor } from "../support/poll.js"

const tree = (id: string) => Codec.encodeBoundTree(NameTree.leaf({ id: Path.parseUnsafe(id), residual: Path.empty }))

type Script = ReadonlyArray<Buffer | "end" | "status">

/**
 * A mesh stand-in on h2c: each StreamBoundTree call gets the next script (frames written in order,
 * then held open, ended with status OK, or ended with UNAVAILABLE); StreamReplicas answers one
 * bound endpoint.
 */
const scripted = (calls: ReadonlyArray<Script>) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ port: number; requests: Array<Buffer>; server: Http2.Http2Server }>((resolve) => {
        const requests: Array<Buffer> = []
        let n = 0
        const server = Http2.createServer()
        server.on("stream", (stream, headers) => {
          const chunks: Array<Buffer> = []
          stream.on("data", (c: Buffer) => chunks.push(c))
          stream.on("error", () => {})
          stream.on("end", () => {
            stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true })
            if (headers[":path"] === "/io.linkerd.mesh.Resolver/StreamReplicas") {
              stream.write(Pb.frame(Replicas.encodeReplicas({
                _tag: "Bound",
                addresses: [Address.make("127.0.0.1", 9)],
                meta: {}
              })))
              return
            }
            requests.push(Buffer.concat(chunks))
            const script = calls[Math.min(n++, calls.length - 1)]!
            let status: string | undefined
            for (const step of script) {
              if (step === "end") status = "0"
              else if (step === "status") status = "14"
              else stream.write(step)
            }
            if (status !== undefined) {
              stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": status!, "grpc-message": "gone" }))
              stream.end()
            }
          })
        })
        server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as AddressInfo).port, requests, server }))
      })
    ),
    (s) => Effect.promise(() => new Promise<void>((r) => s.server.close(() => r())))
  )

const ids = (s: Activity.State<BoundTree>) =>
  s._tag === "Ok" ? NameTree.leaves(s.value).map((b) => Name.idString(b)).join(",") : s._tag

describe("io.l5d.mesh interpreter", () => {
  it.live("keeps the last tree across failed calls, skips unreadable messages, refuses bad frames, resumes", () =>
    Effect.gen(function*() {
      const namerd = yield* scripted([
        [Pb.frame(tree("/#/io.l5d.fs/books")), Pb.frame(Uint8Array.from([0x0a, 0x09, 0x01])), "status"],
        [Buffer.from([0, 0xff, 0xff, 0xff, 0xff])],
        ["end"],
        [Pb.frame(tree("/#/io.l5d.fs/books-v2"))]
      ])
      const stats = Stats.makeInMemory()
      const interpreter = yield* MeshInterpreter.make({
        addresses: () => [Address.make("127.0.0.1", namerd.port)],
        root: Path.parseUnsafe("/prod"),
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
      yield* waitFor(() => seen.includes("/#/io.l5d.fs/books-v2"), "the tree from the fourth call")
      expect(seen).toEqual(["Pending", "/#/io.l5d.fs/books", "/#/io.l5d.fs/books-v2"])
      expect(stats.counterValue("failures")).toBeGreaterThanOrEqual(3)
      const req = Codec.decodeBindReq(new Pb.Deframer().push(namerd.requests[0]!)[0]!)
      expect(req._tag === "Success" && Path.show(req.success.root!)).toBe("/prod")
      expect(req._tag === "Success" && Dtab.show(req.success.dtab)).toBe("/x=>/y")
      yield* waitFor(() => stats.gaugeValues().get("connected") === 1, "the call to count as connected")
    }))

  it.live("a first answer that cannot be read fails the binding with a clear message", () =>
    Effect.gen(function*() {
      const namerd = yield* scripted([[Pb.frame(Uint8Array.from([0x0a, 0x00]))]])
      const interpreter = yield* MeshInterpreter.make({ addresses: () => [Address.make("127.0.0.1", namerd.port)] })
      const first = yield* Stream.runHead(
        Stream.filter(interpreter.bindStates(Dtab.empty, Path.parseUnsafe("/svc/a")), (s) => s._tag !== "Pending")
      )
      expect(first._tag === "Some" && first.value._tag === "Failed" && first.value.cause).toContain(
        "namerd sent an unreadable tree"
      )
    }))

  it.live("addresses of a bound id come from a StreamReplicas call", () =>
    Effect.gen(function*() {
      const namerd = yield* scripted([[Pb.frame(tree("/#/io.l5d.fs/books"))]])
      const interpreter = yield* MeshInterpreter.make({ addresses: () => [Address.make("127.0.0.1", namerd.port)] })
      const t = yield* Stream.runHead(interpreter.bind(Dtab.empty, Path.parseUnsafe("/svc/books")))
      const bound = t._tag === "Some" && t.value._tag === "Leaf" ? t.value.value : undefined
      const a = yield* Stream.runHead(Name.addresses(bound!))
      expect(a._tag === "Some" && a.value.map(Address.key)).toEqual(["127.0.0.1:9"])
    }))

  it.live("failureThreshold: a connection that stops answering pings is closed and the call made again", () =>
    Effect.gen(function*() {
      const namerd = yield* scripted([[Pb.frame(tree("/#/io.l5d.fs/books"))]])
      const relay = yield* freezingRelay(namerd.port)
      const stats = Stats.makeInMemory()
      const interpreter = yield* MeshInterpreter.make({
        addresses: () => [Address.make("127.0.0.1", relay.port)],
        retryBase: "50 millis",
        retryMax: "50 millis",
        stats,
        failureDetector: { minPeriod: "100 millis", closeTimeout: "300 millis" }
      })
      const seen: Array<string> = []
      yield* Effect.forkScoped(
        Stream.runForEach(
          interpreter.bindStates(Dtab.empty, Path.parseUnsafe("/svc/books")),
          (s) => Effect.sync(() => seen.push(ids(s)))
        )
      )
      yield* waitFor(() => seen.includes("/#/io.l5d.fs/books"), "the first tree")
      relay.freeze(true)
      yield* waitFor(() => stats.counterValue("failures") > 0, "the silent connection to be given up")
      relay.freeze(false)
      yield* waitFor(() => relay.connections() >= 2, "a new connection")
      yield* waitFor(() => stats.gaugeValues().get("connected") === 1, "the call to be made again")
      expect(seen).toEqual(["Pending", "/#/io.l5d.fs/books"])
    }))
})

/** A TCP relay to `port` that, while frozen, swallows every byte (a connection that went silent). */
const freezingRelay = (port: number) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{
        port: number
        freeze: (on: boolean) => void
        connections: () => number
        close: () => Promise<void>
      }>(
        (resolve) => {
          let frozen = false
          let connections = 0
          const sockets = new Set<Net.Socket>()
          const server = Net.createServer((down) => {
            connections++
            const up = Net.connect(port, "127.0.0.1")
            for (const s of [down, up]) {
              sockets.add(s)
              s.on("error", () => {})
              s.on("close", () => {
                down.destroy()
                up.destroy()
              })
            }
            down.on("data", (c) => void (frozen || up.write(c)))
            up.on("data", (c) => void (frozen || down.write(c)))
          })
          server.listen(0, "127.0.0.1", () =>
            resolve({
              port: (server.address() as AddressInfo).port,
              freeze: (on) => void (frozen = on),
              connections: () => connections,
              close: () =>
                new Promise<void>((done) => {
                  server.close(() => done())
                  sockets.forEach((s) => s.destroy())
                })
            }))
        }
      )
    ),
    (r) => Effect.promise(r.close)
  )
