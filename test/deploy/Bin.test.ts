/**
 * The bundled bin as a user installs it: `package.json`'s own `build:bin` script (one esbuild bundle,
 * the clients with protocol files of their own kept external) into a folder under `node_modules/`,
 * so that the external packages resolve as they do from an installed `dist/bin/weir.js`. Then the
 * bundle runs in plain node: `--version`, `check`, and `namerd` on a real etcd (the store whose
 * client is loaded only when an etcd store is made).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Etcd from "../namerd/etcd.js"
import { requestP } from "../namerd/support.js"

const root = path.resolve(import.meta.dirname, "../..")
const work = path.join(root, "node_modules/.cache/weir-bin-test")
const bundle = path.join(work, "dist/bin/weir.js")
const node = path.join(root, "node_modules/.bin/node")

const run = (args: ReadonlyArray<string>): string =>
  execFileSync(node, [bundle, ...args], { cwd: root, encoding: "utf8", timeout: 60_000 })

describe("the bundled bin (npm run build:bin)", () => {
  beforeAll(() => {
    fs.rmSync(work, { recursive: true, force: true })
    fs.mkdirSync(path.dirname(bundle), { recursive: true })
    const script: string = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts["build:bin"]
    expect(script).toContain("--outfile=dist/bin/weir.js")
    execFileSync("sh", ["-c", script.replaceAll("dist/bin/weir.js", bundle)], {
      cwd: root,
      env: { ...process.env, PATH: `${path.join(root, "node_modules/.bin")}:${process.env.PATH}` },
      timeout: 120_000
    })
  }, 150_000)
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

  it("is ASCII only: a single other character makes V8 keep the whole source in memory at two bytes a character", () => {
    const text = fs.readFileSync(bundle, "latin1")
    const at = text.search(/[^\x00-\x7f]/)
    expect(at === -1 ? "" : text.slice(Math.max(0, at - 80), at + 20)).toBe("")
  })

  it("prints its version and checks the quickstart config", () => {
    expect(run(["--version"])).toMatch(/^weir v\d+\.\d+\.\d+/)
    expect(run(["check", "examples/quickstart/weir.yaml"])).toContain("ok")
  }, 60_000)

  it("runs `weir proxy CONFIG` without the command-line framework: a bad config is reported, exit code 1", () => {
    const config = path.join(work, "bad.yaml")
    fs.writeFileSync(config, "routers:\n- protocol: http\n  dtab: nope\n")
    let failure: { status: number; stderr: string } | undefined
    try {
      run(["proxy", config])
    } catch (e) {
      failure = e as { status: number; stderr: string }
    }
    expect(failure?.status).toBe(1)
    expect(failure?.stderr).toContain("routers[0].dtab: invalid dtab")
  }, 60_000)

  it("runs namerd on a real etcd: the etcd client loads from node_modules", async () => {
    const etcd = await Etcd.start()
    const port = await Etcd.freeTcpPort()
    const config = path.join(work, "namerd.yaml")
    fs.writeFileSync(
      config,
      [
        "storage:",
        "  kind: io.l5d.etcd",
        "  host: 127.0.0.1",
        `  port: ${etcd.port}`,
        "namers: []",
        "interfaces:",
        "- kind: io.l5d.httpController",
        "  ip: 127.0.0.1",
        `  port: ${port}`,
        "admin:",
        "  ip: 127.0.0.1",
        "  port: 0",
        ""
      ].join("\n")
    )
    let child: ChildProcess | undefined
    let output = ""
    try {
      child = spawn(node, [bundle, "namerd", config], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
      child.stdout!.on("data", (d: Buffer) => (output += d.toString()))
      child.stderr!.on("data", (d: Buffer) => (output += d.toString()))
      let status = 0
      for (let i = 0; i < 400 && status !== 200; i++) {
        if (child.exitCode !== null) throw new Error(`weir namerd exited (${child.exitCode}): ${output}`)
        status = await requestP(port, "GET", "/api/1/dtabs").then((r) => r.status, () => 0)
        if (status !== 200) await new Promise((r) => setTimeout(r, 50))
      }
      expect(status, output).toBe(200)
      const created = await requestP(port, "POST", "/api/1/dtabs/default", {
        headers: { "content-type": "application/dtab" },
        body: "/svc => /$/inet/127.0.0.1/8080;"
      })
      expect(created.status, created.body).toBeLessThan(300)
      expect((await requestP(port, "GET", "/api/1/dtabs")).body).toContain("default")
    } finally {
      child?.kill("SIGKILL")
      await etcd.close()
    }
  }, 90_000)
})
