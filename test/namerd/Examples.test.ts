import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import { readdirSync, readFileSync } from "node:fs"
import * as Address from "../../src/Address.js"
import * as NamerdConfig from "../../src/namerd/Config.js"
import * as Namerd from "../../src/namerd/Namerd.js"
import * as ThriftInterpreter from "../../src/namers/namerd/ThriftInterpreter.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Name from "../../src/naming/Name.js"
import * as NameTree from "../../src/naming/NameTree.js"
import * as Path from "../../src/naming/Path.js"
import * as Etcd from "./etcd.js"
import { request } from "./support.js"
import * as ZooKeeper from "./zookeeper.js"

const dir = "examples/namerd"
const files = readdirSync(dir).sort()

const decode = (file: string) => {
  const r = NamerdConfig.parse(readFileSync(`${dir}/${file}`, "utf8"))
  if (Result.isFailure(r)) throw new Error(`${file}:\n${r.failure.map((p) => `${p.path}: ${p.message}`).join("\n")}`)
  return r.success
}

/** The example with its servers on free loopback ports and its store (if any) at `store`. */
const onFreePorts = (c: NamerdConfig.Config, store?: number): NamerdConfig.Config => ({
  ...c,
  admin: { ...c.admin, port: 0 },
  interfaces: c.interfaces.map((i) => ({ ...i, ip: "127.0.0.1", port: 0 })),
  storage: c.storage.kind === "io.l5d.etcd"
    ? { ...c.storage, host: "127.0.0.1", port: store! }
    : c.storage.kind === "io.l5d.zk"
    ? { ...c.storage, zkAddrs: [{ host: "127.0.0.1", port: store! }] }
    : c.storage
})

describe("examples/namerd", () => {
  it("has the namerd configs and dtabs the docs use; every dtab parses", () => {
    expect(files).toEqual(expect.arrayContaining(["namerd.yaml", "namerd-zk.yaml", "namerd-inmemory.yaml"]))
    for (const f of files.filter((f) => f.endsWith(".dtab"))) {
      expect(Result.isSuccess(Dtab.parse(readFileSync(`${dir}/${f}`, "utf8"))), f).toBe(true)
    }
  })

  it.live("namerd-inmemory.yaml builds and serves its seeded namespace", () =>
    Effect.gen(function*() {
      const n = yield* Namerd.make(onFreePorts(decode("namerd-inmemory.yaml")))
      const got = yield* request(n.interfaces[0]!.port, "GET", "/api/1/dtabs/default")
      expect(JSON.parse(got.body)).toEqual([{ prefix: "/svc", dst: "/#/io.l5d.fs" }])
      const bound = yield* request(n.interfaces[0]!.port, "GET", "/api/1/bind/default?path=/svc/books")
      expect(JSON.parse(bound.body)).toMatchObject({ type: "leaf", bound: { id: "/#/io.l5d.fs/books" } })
      const thrift = yield* ThriftInterpreter.make({
        addresses: () => [Address.make("127.0.0.1", n.interfaces[1]!.port)]
      })
      const tree = yield* Stream.runHead(thrift.bind(Dtab.empty, Path.parseUnsafe("/svc/books")))
      expect(Option.map(tree, (t) => NameTree.leaves(t).map(Name.idString))).toEqual(
        Option.some(["/#/io.l5d.fs/books"])
      )
    }))

  it.live(
    "namerd.yaml builds on a real etcd, and the walkthrough's dtab switches books to books-v2",
    () =>
      Effect.gen(function*() {
        const etcd = yield* Effect.acquireRelease(Effect.promise(Etcd.start), (e) => Effect.promise(e.close))
        const n = yield* Namerd.make(onFreePorts(decode("namerd.yaml"), etcd.port))
        const port = n.interfaces[0]!.port
        const headers = { "content-type": "application/dtab" }
        yield* request(port, "POST", "/api/1/dtabs/default", {
          headers,
          body: readFileSync(`${dir}/default.dtab`, "utf8")
        })
        yield* request(port, "PUT", "/api/1/dtabs/default", {
          headers,
          body: readFileSync(`${dir}/books-v2.dtab`, "utf8")
        })
        const bound = yield* request(port, "GET", "/api/1/bind/default?path=/svc/books")
        expect(JSON.parse(bound.body)).toMatchObject({ type: "leaf", bound: { id: "/#/io.l5d.fs/books-v2" } })
      }),
    30_000
  )

  it.live("namerd-zk.yaml builds on a real ZooKeeper", () =>
    Effect.gen(function*() {
      const zk = yield* Effect.acquireRelease(Effect.promise(ZooKeeper.start), (z) => Effect.promise(z.close))
      const n = yield* Namerd.make(onFreePorts(decode("namerd-zk.yaml"), zk.port))
      expect(JSON.parse((yield* request(n.interfaces[0]!.port, "GET", "/api/1/dtabs")).body)).toEqual([])
    }), 30_000)
})
