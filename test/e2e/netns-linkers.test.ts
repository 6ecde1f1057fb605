/**
 * Linker to linker across two "nodes": two network namespaces joined by a veth pair, the way two
 * machines of a cluster are joined by their network. Node A runs the app side (a client, spawned per
 * request) and weir's outgoing router; node B runs weir's incoming router and the backend. The
 * request goes app → A's outgoing router (loopback) → io.l5d.port to B's incoming port → mutual TLS
 * over the veth pair → B's incoming router → the backend on B's loopback.
 *
 * The namespaces are made and deleted by this test (unique names per run; deleted even when a test
 * fails). The veth addresses are from 198.18.0.0/15, the range set aside for network tests, and only
 * exist inside the two namespaces: no traffic leaves this machine. Inside a fresh namespace nothing
 * else listens, so the linkers use fixed ports there. Needs root and `ip`; without them (or when the
 * kernel refuses a namespace) the test is skipped and says why.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@effect/vitest"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { type Certs, makeCerts } from "../support/certs.js"

const id = `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`.slice(-6)
const nsA = `weir-a-${id}`
const nsB = `weir-b-${id}`
const vethA = `wa${id}`
const vethB = `wb${id}`
const subnet = `198.18.${(process.pid % 250) + 1}`
const ipA = `${subnet}.1`
const ipB = `${subnet}.2`

const ip = (...args: Array<string>) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] })

/** Why the test cannot run here, or `undefined`: not root, no `ip`, or the kernel refuses namespaces. */
const refusal = ((): string | undefined => {
  if (process.platform !== "linux") return "network namespaces are Linux's"
  if (process.getuid?.() !== 0) return "creating network namespaces needs root"
  try {
    execFileSync("ip", ["-V"], { stdio: "ignore" })
  } catch {
    return "the `ip` command (iproute2) is not installed"
  }
  try {
    ip("netns", "add", nsA)
    ip("netns", "del", nsA)
  } catch (e) {
    return `the kernel refuses a network namespace: ${(e as { stderr?: Buffer }).stderr?.toString().trim() ?? e}`
  }
  return undefined
})()
if (refusal !== undefined) console.warn(`test/e2e/netns-linkers.test.ts skipped: ${refusal}`)

let certs: Certs
let dir: string
const children = new Set<ChildProcess>()

/** A long-lived process in `ns`; its output is kept for failure messages. */
const start = (ns: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, ...args], {
    cwd: process.cwd(),
    stdio: "pipe",
    env: { ...process.env, ...env }
  })
  children.add(child)
  const proc = { child, out: "", exited: new Promise<void>((resolve) => child.on("exit", () => resolve())) }
  child.stdout!.on("data", (c: Buffer) => (proc.out += c.toString()))
  child.stderr!.on("data", (c: Buffer) => (proc.out += c.toString()))
  child.on("exit", (code, signal) => (proc.out += `[exited: ${code ?? signal}]`))
  void proc.exited.then(() => children.delete(child))
  return proc
}

const weir = (ns: string, config: string, env: Record<string, string> = {}) =>
  start(ns, ["--import", "tsx", "src/bin/weir.ts", "proxy", config], env)

const stop = async (proc: ReturnType<typeof start>, signal: NodeJS.Signals) => {
  proc.child.kill(signal)
  await proc.exited
}

interface Answer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
  readonly error?: string
}

/** One request from "the app" on node A to its linker (a client process in namespace A). */
const fromApp = (host: string): Answer => {
  const script = `const req = require("node:http").request(
    { host: "127.0.0.1", port: 4140, path: "/", headers: { host: ${JSON.stringify(host)} }, timeout: 10000 },
    (res) => {
      let body = ""
      res.on("data", (c) => (body += c))
      res.on("end", () => console.log(JSON.stringify({ status: res.statusCode, headers: res.headers, body })))
    })
  req.on("error", (e) => console.log(JSON.stringify({ status: 0, headers: {}, body: "", error: String(e) })))
  req.on("timeout", () => req.destroy(new Error("no answer within 10 s")))
  req.end()`
  const out = execFileSync("ip", ["netns", "exec", nsA, process.execPath, "-e", script], {
    encoding: "utf8",
    timeout: 20_000
  })
  return JSON.parse(out) as Answer
}

/** Repeats `f` every 100 ms until it holds (at most `attempts` times), then returns its last value. */
const until = async <A>(what: string, f: () => A, done: (a: A) => boolean, attempts = 60): Promise<A> => {
  let last: A | undefined
  for (let i = 0; i < attempts; i++) {
    last = f()
    if (done(last)) return last
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`)
}

/** The backend on node B: answers with the request's headers as JSON. */
const backendOn = (ip: string) =>
  `require("node:http").createServer((req, res) => {
  console.log("request " + req.url)
  res.writeHead(200, { "content-type": "application/json" })
  res.end(JSON.stringify({ node: "B", headers: req.headers }))
}).listen(7000, ${JSON.stringify(ip)}, () => console.log("backend ready"))`
const backendScript = backendOn("127.0.0.1")

describe.skipIf(refusal !== undefined)("linker to linker over TLS between two network namespaces", () => {
  beforeAll(() => {
    certs = makeCerts()
    dir = Fs.mkdtempSync(Path.join(certs.dir, "netns-"))
    ip("netns", "add", nsA)
    ip("netns", "add", nsB)
    ip("link", "add", vethA, "type", "veth", "peer", "name", vethB)
    ip("link", "set", vethA, "netns", nsA)
    ip("link", "set", vethB, "netns", nsB)
    ip("-n", nsA, "addr", "add", `${ipA}/24`, "dev", vethA)
    ip("-n", nsB, "addr", "add", `${ipB}/24`, "dev", vethB)
    for (const [ns, dev] of [[nsA, vethA], [nsB, vethB]] as const) {
      ip("-n", ns, "link", "set", "lo", "up")
      ip("-n", ns, "link", "set", dev, "up")
    }
  })

  // each test's processes end with it, passed or failed (the next one reuses the namespaces' ports)
  afterEach(async () => {
    const exits = [...children].map((child) =>
      new Promise<void>((resolve) =>
        child.exitCode !== null || child.signalCode !== null ? resolve() : child.on("exit", () => resolve())
      )
    )
    for (const child of children) child.kill("SIGKILL")
    await Promise.all(exits)
  })

  afterAll(async () => {
    for (const ns of [nsA, nsB]) {
      try {
        ip("netns", "del", ns)
      } catch {
        // not created
      }
    }
    certs?.remove()
  })

  it(
    "app → outgoing weir (A) → mutual TLS → incoming weir (B) → backend; B's linker killed → 502 l5d-err at once, then recovery",
    async () => {
      const incoming = certs.server("incoming.weir.mesh")
      const outgoing = certs.client("outgoing.weir.mesh")
      // node A's discovery names the backend on node B (its app port); io.l5d.port sends to B's linker instead
      const disco = Path.join(dir, "disco")
      Fs.mkdirSync(disco)
      Fs.writeFileSync(Path.join(disco, "books"), `${ipB} 7000\n`)
      const configA = Path.join(dir, "a.yaml")
      Fs.writeFileSync(
        configA,
        `admin: {ip: 127.0.0.1, port: 9990}
namers:
- kind: io.l5d.fs
  rootDir: ${disco}
routers:
- protocol: http
  label: outgoing
  dtab: /svc => /#/io.l5d.fs
  interpreter:
    kind: default
    transformers:
    - kind: io.l5d.port
      port: 4141
  servers: [{ip: 127.0.0.1, port: 4140}]
  client:
    tls:
      commonName: incoming.weir.mesh
      trustCerts: [${certs.ca.cert}]
      clientAuth: {certPath: ${outgoing.cert}, keyPath: ${outgoing.key}}
    failureAccrual:
      kind: io.l5d.consecutiveFailures
      failures: 5
      backoff: {kind: constant, ms: 100}
`
      )
      const configB = Path.join(dir, "b.yaml")
      Fs.writeFileSync(
        configB,
        `admin: {ip: 127.0.0.1, port: 9990}
routers:
- protocol: http
  label: incoming
  dtab: /svc/* => /$/inet/127.0.0.1/7000
  servers:
  - ip: ${ipB}
    port: 4141
    tls:
      certPath: ${incoming.cert}
      keyPath: ${incoming.key}
      caCertPath: ${certs.ca.cert}
      requireClientAuth: true
`
      )
      const backend = start(nsB, ["-e", backendScript])
      let linkerB = weir(nsB, configB)
      const linkerA = weir(nsA, configA)
      const served = (p: { out: string }) => p.out.includes("weir: serving")
      await until(
        "both linkers and the backend",
        () => served(linkerA) && served(linkerB) && backend.out !== "",
        (x) => x,
        900
      )
        .catch((e) => {
          throw new Error(`${e}\nA: ${linkerA.out}\nB: ${linkerB.out}\nbackend: ${backend.out}`)
        })

      const ok = await until("a routed request", () => fromApp("books"), (a) => a.status === 200).catch((e) => {
        throw new Error(`${e}\nA: ${linkerA.out}\nB: ${linkerB.out}\nbackend: ${backend.out}`)
      })
      const seen = JSON.parse(ok.body) as { node: string; headers: Record<string, string> }
      expect(seen.node).toBe("B")
      // the backend sees linkerd's context: the logical name, the incoming linker's client, the trace
      expect(seen.headers["l5d-dst-service"]).toBe("/svc/books")
      expect(seen.headers["l5d-dst-client"]).toBe("/$/inet/127.0.0.1/7000")
      expect(seen.headers["l5d-ctx-trace"]).toBeDefined()
      // …and it came through both linkers (each adds its Via entry)
      expect(seen.headers["via"]?.split(",").length).toBe(2)

      // B's linker dies (a crash: SIGKILL): A's connections to B are refused, and the app gets a 502
      // with l5d-err at once, not after a timeout
      await stop(linkerB, "SIGKILL")
      const failed = fromApp("books")
      expect(failed.status).toBe(502)
      expect(failed.headers["l5d-err"]).toBeDefined()
      expect(decodeURIComponent(failed.headers["l5d-err"]!.replace(/\+/g, " "))).toMatch(
        new RegExp(`${ipB.replace(/\./g, "\\.")}:4141`)
      )

      // B's linker comes back: requests recover without restarting A
      linkerB = weir(nsB, configB)
      const back = await until(
        "the recovery after B's linker restarts",
        () => fromApp("books"),
        (a) => a.status === 200
      )
      expect(JSON.parse(back.body).node).toBe("B")
      await stop(linkerB, "SIGTERM")
      await stop(linkerA, "SIGTERM")
      await stop(backend, "SIGTERM")
    },
    120_000
  )

  it("a linker without the mesh CA's client certificate is refused by B (no plaintext fallback)", async () => {
    const incoming = certs.server("incoming.weir.mesh")
    const stranger = certs.client("stranger", true)
    const configB = Path.join(dir, "b2.yaml")
    Fs.writeFileSync(
      configB,
      `admin: {ip: 127.0.0.1, port: 9990}
routers:
- protocol: http
  label: incoming
  dtab: /svc/* => /$/inet/127.0.0.1/7000
  servers:
  - ip: ${ipB}
    port: 4141
    tls: {certPath: ${incoming.cert}, keyPath: ${incoming.key}, caCertPath: ${certs.ca.cert}, requireClientAuth: true}
`
    )
    const configA = Path.join(dir, "a2.yaml")
    Fs.writeFileSync(
      configA,
      `admin: {ip: 127.0.0.1, port: 9990}
routers:
- protocol: http
  label: outgoing
  dtab: /svc => /$/inet/${ipB}/4141
  servers: [{ip: 127.0.0.1, port: 4140}]
  client:
    tls:
      commonName: incoming.weir.mesh
      trustCerts: [${certs.ca.cert}]
      clientAuth: {certPath: ${stranger.cert}, keyPath: ${stranger.key}}
`
    )
    const backend = start(nsB, ["-e", backendScript])
    const linkerB = weir(nsB, configB)
    const linkerA = weir(nsA, configA)
    await until(
      "both linkers",
      () => linkerA.out.includes("weir: serving") && linkerB.out.includes("weir: serving") && backend.out !== "",
      (x) => x,
      900
    )
    const refused = fromApp("books")
    expect(refused.status).toBe(502)
    expect(refused.headers["l5d-err"]).toBeDefined()
    expect(backend.out).not.toContain("request ")
    await stop(linkerB, "SIGTERM")
    await stop(linkerA, "SIGTERM")
    await stop(backend, "SIGTERM")
  }, 120_000)

  it(
    "the shipped DaemonSet TLS config on both nodes: the daemonset and localnode transformers pick node B's linker and pod",
    async () => {
      // each "node" has its own fake Kubernetes API on localhost:8001 (the kubectl proxy of the pod),
      // with the same objects: books runs on node B; the l5d DaemonSet has a pod on each node
      const objects = JSON.stringify([
        {
          namespace: "default",
          name: "books",
          spec: { ready: [ipB], ports: [{ name: "http", port: 7000 }], nodeNames: { [ipB]: "node-b" } }
        },
        {
          namespace: "weir",
          name: "l5d",
          spec: {
            ready: [ipA, ipB],
            ports: [{ name: "incoming", port: 4141 }],
            nodeNames: { [ipA]: "node-a", [ipB]: "node-b" }
          }
        }
      ])
      const apiA = start(nsA, ["--import", "tsx", "test/namers/k8s-fake-main.ts", "8001", objects])
      const apiB = start(nsB, ["--import", "tsx", "test/namers/k8s-fake-main.ts", "8001", objects])
      // the Secret's files
      const tlsDir = Path.join(dir, "weir-tls")
      Fs.mkdirSync(tlsDir)
      const mesh = certs.server("l5d.weir.mesh")
      Fs.copyFileSync(certs.ca.cert, Path.join(tlsDir, "ca.pem"))
      Fs.copyFileSync(mesh.cert, Path.join(tlsDir, "l5d.pem"))
      Fs.copyFileSync(mesh.key, Path.join(tlsDir, "l5d.key"))
      // examples/configs/daemonset-tls.yaml as shipped, with the cluster's host networking (every pod
      // of a node shares its address, so pods pair by nodeName) and the Secret's directory
      const shipped = Fs.readFileSync("examples/configs/daemonset-tls.yaml", "utf8")
      const config = shipped
        .replace("      port: incoming\n", "      port: incoming\n      hostNetwork: true\n")
        .replace("    - kind: io.l5d.k8s.localnode\n", "    - kind: io.l5d.k8s.localnode\n      hostNetwork: true\n")
        .replaceAll("/etc/weir-tls/", `${tlsDir}/`)
      expect(config.match(/^ +hostNetwork: true$/gm)).toHaveLength(2)
      const file = Path.join(dir, "daemonset-tls.yaml")
      Fs.writeFileSync(file, config)
      const backend = start(nsB, ["-e", backendOn(ipB)])
      let linkerB = weir(nsB, file, { NODE_NAME: "node-b" })
      const linkerA = weir(nsA, file, { NODE_NAME: "node-a" })
      const ready = () =>
        [linkerA, linkerB].every((l) => l.out.includes("weir: serving")) && backend.out !== "" &&
        [apiA, apiB].every((a) => a.out.includes("fake k8s ready"))
      await until("the linkers, the fake APIs and the backend", ready, (x) => x, 900).catch((e) => {
        throw new Error(`${e}\nA: ${linkerA.out}\nB: ${linkerB.out}\napiA: ${apiA.out}\napiB: ${apiB.out}`)
      })

      const ok = await until("a routed request", () => fromApp("books"), (a) => a.status === 200).catch((e) => {
        throw new Error(`${e}\nA: ${linkerA.out}\nB: ${linkerB.out}\nbackend: ${backend.out}`)
      })
      const seen = JSON.parse(ok.body) as { node: string; headers: Record<string, string> }
      expect(seen.node).toBe("B")
      // node B's linker chose the pod on its own node
      expect(seen.headers["l5d-dst-client"]).toBe("/%/io.l5d.k8s.localnode/node-b/#/io.l5d.k8s/default/http/books")
      expect(seen.headers["via"]?.split(",").length).toBe(2)

      await stop(linkerB, "SIGKILL")
      const failed = fromApp("books")
      expect(failed.status).toBe(502)
      expect(failed.headers["l5d-err"]).toBeDefined()

      linkerB = weir(nsB, file, { NODE_NAME: "node-b" })
      await until("B's linker to restart", () => linkerB.out.includes("weir: serving"), (x) => x, 900)
      const back = await until("the recovery", () => fromApp("books"), (a) => a.status === 200)
      expect(JSON.parse(back.body).node).toBe("B")
    },
    180_000
  )
})
