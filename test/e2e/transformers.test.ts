import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { raw, sendE, textBackend } from "../http/support.js"
import * as Fake from "../namers/k8s-fake.js"
import { makeCerts } from "../support/certs.js"

const configOf = (text: string): Config.Config => {
  const r = Config.parse(text)
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

const disco = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "weir-transformers-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const getJson = (url: string) =>
  Effect.promise(() =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      Http.get(url, { agent: false }, (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }))
      }).on("error", reject)
    })
  )

describe("transformers in the proxy (real sockets)", () => {
  it.live("linker to linker: io.l5d.port sends to the incoming router's port, io.l5d.localhost then to the app", () =>
    Effect.gen(function*() {
      const app = yield* textBackend("books")
      const dir = yield* disco
      writeFileSync(join(dir, "books"), `127.0.0.1 ${app.port}\n`)

      // the linker on the destination host: its incoming router keeps only this host's addresses
      const incoming = yield* Linker.make(configOf(`
admin: {ip: 127.0.0.1, port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${dir}
routers:
- protocol: http
  label: incoming
  dtab: /svc => /#/io.l5d.fs
  interpreter:
    kind: default
    transformers:
    - kind: io.l5d.localhost
  servers: [{ip: 127.0.0.1, port: 0}]
`))
      const incomingPort = incoming.routers[0]!.servers[0]!.port

      // the linker beside the caller: same discovery, every bound address's port becomes the incoming router's
      const outgoing = yield* Linker.make(configOf(`
admin: {ip: 127.0.0.1, port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${dir}
routers:
- protocol: http
  label: outgoing
  dtab: /svc => /#/io.l5d.fs
  interpreter:
    kind: default
    transformers:
    - kind: io.l5d.port
      port: ${incomingPort}
  servers: [{ip: 127.0.0.1, port: 0}]
- protocol: http
  label: direct
  dtab: /svc => /#/io.l5d.fs
  servers: [{ip: 127.0.0.1, port: 0}]
`))
      const r = yield* sendE(outgoing.routers[0]!.servers[0]!.port, { headers: { host: "books" } })
      expect(r.status).toBe(200)
      expect(r.body).toBe("books")
      // the request went through the incoming router (whose client id carries its transformer) to the app
      expect(app.seen).toHaveLength(1)
      expect(app.seen[0]!.headers["l5d-dst-client"]).toBe("/%/io.l5d.localhost/#/io.l5d.fs/books")
      expect(incoming.registry.counterValue(`rt/incoming/server/127.0.0.1/${incomingPort}/requests`)).toBe(1)
      expect(
        outgoing.registry.counterValue(`rt/outgoing/client/%/io.l5d.port/${incomingPort}/#/io.l5d.fs/books/requests`)
      ).toBe(1)

      // a router without transformers on the same linker goes straight to the app
      const direct = yield* sendE(outgoing.routers[1]!.servers[0]!.port, { headers: { host: "books" } })
      expect(direct.body).toBe("books")
      expect(app.seen).toHaveLength(2)
      expect(app.seen[1]!.headers["l5d-dst-client"]).toBe("/#/io.l5d.fs/books")
      expect(incoming.registry.counterValue(`rt/incoming/server/127.0.0.1/${incomingPort}/requests`)).toBe(1)

      // the delegator shows the transformed leaf for the router that has the transformer, not for the other
      const admin = `http://127.0.0.1:${outgoing.admin.port}`
      const dtab = encodeURIComponent("/svc => /#/io.l5d.fs")
      const shown = yield* getJson(`${admin}/delegator.json?namespace=outgoing&path=/svc/books&dtab=${dtab}`)
      expect(shown.status).toBe(200)
      expect(shown.body).toContain(`"id":"/%/io.l5d.port/${incomingPort}/#/io.l5d.fs/books"`)
      expect(shown.body).toContain(`{"ip":"127.0.0.1","port":${incomingPort},"meta":{}}`)
      // linkerd's shape: a transformation node between the namer's leaf and the transformed one
      const tree = JSON.parse(shown.body)
      expect(tree.type).toBe("delegate")
      expect(tree.delegate).toMatchObject({
        type: "transformation",
        path: "/#/io.l5d.fs/books",
        name: "io.l5d.port",
        bound: { id: "/#/io.l5d.fs/books", addr: { addrs: [{ ip: "127.0.0.1", port: app.port }] } },
        tree: {
          type: "leaf",
          bound: {
            id: `/%/io.l5d.port/${incomingPort}/#/io.l5d.fs/books`,
            addr: { addrs: [{ ip: "127.0.0.1", port: incomingPort }] }
          }
        }
      })
      const plain = yield* getJson(`${admin}/delegator.json?namespace=direct&path=/svc/books&dtab=${dtab}`)
      expect(plain.body).toContain(`"id":"/#/io.l5d.fs/books"`)
      expect(plain.body).toContain(`"port":${app.port}`)
      expect(plain.body).not.toContain("transformation")
    }))

  it.live("namers[].transformers rewrite that namer's answers only; a bad transformer stops the start, located", () =>
    Effect.gen(function*() {
      const app = yield* textBackend("app")
      const gate = yield* textBackend("gate")
      const dir = yield* disco
      writeFileSync(join(dir, "books"), `127.0.0.1 ${app.port}\n`)
      const linker = yield* Linker.make(configOf(`
admin: {ip: 127.0.0.1, port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${dir}
- kind: io.l5d.fs
  prefix: /gated
  rootDir: ${dir}
  transformers:
  - kind: io.l5d.port
    port: ${gate.port}
routers:
- protocol: http
  label: r
  dtab: /svc => /#/io.l5d.fs; /svc/gated => /#/gated
  identifier: {kind: io.l5d.path, segments: 2}
  servers: [{ip: 127.0.0.1, port: 0}]
`))
      const port = linker.routers[0]!.servers[0]!.port
      expect((yield* sendE(port, { path: "/books/x" })).body).toBe("app")
      expect((yield* sendE(port, { path: "/gated/books" })).body).toBe("gate")
      expect(gate.seen[0]!.headers["l5d-dst-client"]).toBe(`/#/gated/%/io.l5d.port/${gate.port}/books`)

      const bad = yield* Effect.scoped(Effect.result(Linker.make(configOf(`
routers:
- protocol: http
  dtab: /svc => /$/inet/127.0.0.1/1
  interpreter:
    kind: default
    transformers:
    - kind: io.l5d.replace
      path: /#/io.l5d.fs/nope
  servers: [{ip: 127.0.0.1, port: 0}]
admin: {ip: 127.0.0.1, port: 0}
`))))
      expect(Result.isFailure(bad) && bad.failure.message).toContain("routers[0].interpreter: transformers[0]")
      expect(Result.isFailure(bad) && bad.failure.message).toContain("does not bind through the system namers")
    }))

  it.live("the shipped DaemonSet config, against a fake Kubernetes API: both routers' delegations", () =>
    Effect.gen(function*() {
      const fake = yield* Effect.acquireRelease(
        Effect.promise(() => Fake.start()),
        (f) => Effect.promise(() => f.close())
      )
      fake.set("default", "books", { ready: ["10.0.1.5", "10.0.2.5"], ports: [{ name: "http", port: 7101 }] })
      fake.set("weir", "l5d", { ready: ["10.0.1.2", "10.0.2.2"], ports: [{ name: "incoming", port: 4141 }] })
      // examples/configs/daemonset.yaml as shipped, pointed at the fake API and bound to loopback
      const text = readFileSync("examples/configs/daemonset.yaml", "utf8")
        .replace("  host: localhost\n  port: 8001", `  host: 127.0.0.1\n  port: ${fake.port}`)
        .replace(
          "      port: incoming\n",
          `      port: incoming\n      k8sHost: 127.0.0.1\n      k8sPort: ${fake.port}\n`
        )
        .replaceAll("ip: 0.0.0.0", "ip: 127.0.0.1")
        .replace(/port: (9990|4140|4141)$/gm, "port: 0")
      expect(text).toContain(`k8sPort: ${fake.port}`)
      const saved = process.env["POD_IP"]
      process.env["POD_IP"] = "10.0.2.40"
      const linker = yield* Linker.make(configOf(text)).pipe(
        Effect.ensuring(Effect.sync(() => {
          if (saved === undefined) delete process.env["POD_IP"]
          else process.env["POD_IP"] = saved
        }))
      )
      const admin = `http://127.0.0.1:${linker.admin.port}`
      const dtab = encodeURIComponent("/svc => /#/io.l5d.k8s/default/http")
      const leafOf = (node: any): any =>
        node.type === "transformation" ? leafOf(node.tree) : node.type === "leaf" ? node : leafOf(node.delegate)
      const addrs = (leaf: any) => leaf.bound.addr.addrs.map((a: any) => `${a.ip}:${a.port}`).sort()

      const out = JSON.parse(
        (yield* getJson(`${admin}/delegator.json?namespace=outgoing&path=/svc/books&dtab=${dtab}`)).body
      )
      expect(out.delegate.name).toBe("io.l5d.k8s.daemonset")
      expect(leafOf(out).bound.id).toBe("/%/io.l5d.k8s.daemonset/weir/incoming/l5d/#/io.l5d.k8s/default/http/books")
      expect(addrs(leafOf(out))).toEqual(["10.0.1.2:4141", "10.0.2.2:4141"])

      const inc = JSON.parse(
        (yield* getJson(`${admin}/delegator.json?namespace=incoming&path=/svc/books&dtab=${dtab}`)).body
      )
      expect(inc.delegate.name).toBe("io.l5d.k8s.localnode")
      expect(leafOf(inc).bound.id).toBe("/%/io.l5d.k8s.localnode/10.0.2.40/#/io.l5d.k8s/default/http/books")
      expect(addrs(leafOf(inc))).toEqual(["10.0.2.5:7101"])
    }))

  it.live("the shipped DaemonSet TLS config: outgoing → mutual TLS → incoming → app, on loopback with a fake API", () =>
    Effect.gen(function*() {
      const fake = yield* Effect.acquireRelease(
        Effect.promise(() => Fake.start()),
        (f) => Effect.promise(() => f.close())
      )
      const certs = yield* Effect.acquireRelease(Effect.sync(makeCerts), (c) => Effect.sync(c.remove))
      // the Secret's three files, as deploy/k8s/daemonset.yaml mounts them
      const tlsDir = join(certs.dir, "weir-tls")
      mkdirSync(tlsDir)
      const mesh = certs.server("l5d.weir.mesh")
      copyFileSync(certs.ca.cert, join(tlsDir, "ca.pem"))
      copyFileSync(mesh.cert, join(tlsDir, "l5d.pem"))
      copyFileSync(mesh.key, join(tlsDir, "l5d.key"))
      const app = yield* textBackend("books")
      fake.set("default", "books", { ready: ["127.0.0.1"], ports: [{ name: "http", port: app.port }] })
      const text = readFileSync("examples/configs/daemonset-tls.yaml", "utf8")
        .replace("  host: localhost\n  port: 8001", `  host: 127.0.0.1\n  port: ${fake.port}`)
        .replace(
          "      port: incoming\n",
          `      port: incoming\n      k8sHost: 127.0.0.1\n      k8sPort: ${fake.port}\n`
        )
        .replaceAll("/etc/weir-tls/", `${tlsDir}/`)
        .replaceAll("ip: 0.0.0.0", "ip: 127.0.0.1")
        .replace(/port: (9990|4140|4141)$/gm, "port: 0")
      const saved = process.env["POD_IP"]
      process.env["POD_IP"] = "127.0.0.1"
      const linker = yield* Linker.make(configOf(text)).pipe(
        Effect.ensuring(Effect.sync(() => {
          if (saved === undefined) delete process.env["POD_IP"]
          else process.env["POD_IP"] = saved
        }))
      )
      const incomingPort = linker.routers[1]!.servers[0]!.port
      // this node's linker is the only l5d pod: the daemonset transformer sends to its incoming port
      fake.set("weir", "l5d", { ready: ["127.0.0.1"], ports: [{ name: "incoming", port: incomingPort }] })
      const r = yield* sendE(linker.routers[0]!.servers[0]!.port, { headers: { host: "books" } })
      expect(r.status).toBe(200)
      expect(r.body).toBe("books")
      expect(app.seen[0]!.headers["l5d-dst-client"]).toBe(
        "/%/io.l5d.k8s.localnode/127.0.0.1/#/io.l5d.k8s/default/http/books"
      )
      expect(linker.registry.counterValue(`rt/incoming/server/127.0.0.1/${incomingPort}/requests`)).toBe(1)
      // the incoming port speaks TLS only: a plaintext request gets no HTTP answer
      const plain = yield* Effect.promise(() => raw(incomingPort, "GET / HTTP/1.1\r\nHost: books\r\n\r\n"))
      expect(plain).not.toMatch(/^HTTP\/1\.1/)
      expect(app.seen).toHaveLength(1)
    }))

  it.live("the shipped sidecar config, against a fake Kubernetes API: a request from one sidecar to the other", () =>
    Effect.gen(function*() {
      const fake = yield* Effect.acquireRelease(
        Effect.promise(() => Fake.start()),
        (f) => Effect.promise(() => f.close())
      )
      const app = yield* textBackend("books")
      // the books pod: its IP is this machine's loopback, its Service port `http` is the app's port
      fake.set("weir-sidecar", "books", { ready: ["127.0.0.1"], ports: [{ name: "http", port: app.port }] })
      const sidecar = (incomingPort: number) =>
        Linker.make(configOf(
          readFileSync("examples/configs/sidecar.yaml", "utf8")
            .replace("  host: localhost\n  port: 8001", `  host: 127.0.0.1\n  port: ${fake.port}`)
            .replace("      port: 4141\n", `      port: ${incomingPort}\n`)
            .replaceAll("ip: 0.0.0.0", "ip: 127.0.0.1")
            .replace(/port: (9990|4140|4141)$/gm, "port: 0")
        ))
      // the destination pod's sidecar (its incoming router), then the caller's (io.l5d.port to it)
      const destination = yield* sidecar(4141)
      const incomingPort = destination.routers[1]!.servers[0]!.port
      const caller = yield* sidecar(incomingPort)
      const r = yield* sendE(caller.routers[0]!.servers[0]!.port, { headers: { host: "books" } })
      expect(r.status).toBe(200)
      expect(r.body).toBe("books")
      expect(app.seen[0]!.headers["l5d-dst-client"]).toBe("/%/io.l5d.localhost/#/io.l5d.k8s/weir-sidecar/http/books")
      expect(destination.registry.counterValue(`rt/incoming/server/127.0.0.1/${incomingPort}/requests`)).toBe(1)
    }))
})
