import { describe, expect, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { requestP } from "../namerd/support.js"

const dir = mkdtempSync(join(tmpdir(), "weir-namerd-cli-"))

interface Proc {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<number | null>
}

const run = (...args: Array<string>): Proc => {
  const child = spawn(process.execPath, ["--import", "tsx", "src/bin/weir.ts", ...args], {
    cwd: process.cwd(),
    stdio: "pipe",
    env: { ...process.env, NAMERCTL_BASE_URL: "" }
  })
  let out = ""
  let err = ""
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()))
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exited }
}

const file = (text: string) => {
  const f = join(dir, `f-${Math.random().toString(36).slice(2)}`)
  writeFileSync(f, text)
  return f
}

const ready = async (p: Proc): Promise<number> => {
  for (let i = 0; i < 600; i++) {
    const m = /io\.l5d\.httpController on http:\/\/127\.0\.0\.1:(\d+)\//.exec(p.stdout())
    if (m !== null) return Number(m[1])
    if (p.child.exitCode !== null) throw new Error(`exited early: ${p.stderr()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`not ready: ${p.stdout()} ${p.stderr()}`)
}

describe("weir namerd and weir namerctl (child processes)", () => {
  it("serves the config's store, is driven by namerctl, and exits 0 on SIGTERM", async () => {
    const p = run(
      "namerd",
      file(`
admin: {port: 0}
storage:
  kind: io.l5d.inMemory
  namespaces:
    default: /svc => /#/io.l5d.fs
interfaces:
- kind: io.l5d.httpController
  port: 0
`)
    )
    try {
      const port = await ready(p)
      expect(JSON.parse((await requestP(port, "GET", "/api/1/dtabs")).body)).toEqual(["default"])
      const ctl = run(
        "namerctl",
        "dtab",
        "update",
        "--base-url",
        `http://127.0.0.1:${port}`,
        "default",
        file("/svc => /v2")
      )
      expect(await ctl.exited).toBe(0)
      expect(ctl.stdout()).toContain("updated default")
      const got = await requestP(port, "GET", "/api/1/dtabs/default", { headers: { accept: "application/dtab" } })
      expect(got.body.trim()).toBe("/svc=>/v2")
      p.child.kill("SIGTERM")
      expect(await p.exited).toBe(0)
    } finally {
      p.child.kill("SIGKILL")
    }
  }, 60_000)

  it("refuses a config with problems, naming each, and exits 1", async () => {
    const p = run(
      "namerd",
      file(`
storage:
  kind: io.l5d.inMemory
  namespaces: {"bad name": /a => /b}
interfaces:
- kind: io.l5d.mesh
`)
    )
    expect(await p.exited).toBe(1)
    expect(p.stderr()).toContain("storage.namespaces.bad name: a namespace is 1 to 256 letters")
  }, 60_000)
})
