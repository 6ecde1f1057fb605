import { afterAll, describe, expect, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

const dir = mkdtempSync(join(tmpdir(), "weir-shutdown-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const slowBackend = (): Promise<Http.Server> =>
  new Promise((resolve) => {
    const s = Http.createServer((req, res) => {
      const ms = Number(new URL(req.url ?? "/", "http://x").searchParams.get("ms") ?? "0")
      setTimeout(() => {
        res.writeHead(200, { "content-type": "text/plain" })
        res.end(`slept ${ms}`)
      }, ms)
    })
    s.listen({ host: "127.0.0.1", port: 0 }, () => resolve(s))
  })

interface Proc {
  readonly child: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<number | null>
}

const start = (configText: string): Proc => {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, configText)
  const child = spawn(process.execPath, ["--import", "tsx", "src/bin/weir.ts", "proxy", file], {
    cwd: process.cwd(),
    stdio: "pipe"
  })
  let out = ""
  let err = ""
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()))
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exited }
}

const ready = async (p: Proc): Promise<{ port: number; admin: number }> => {
  for (let i = 0; i < 600; i++) {
    const m = /on 127\.0\.0\.1:(\d+); admin on http:\/\/127\.0\.0\.1:(\d+)\//.exec(p.stdout())
    if (m !== null) return { port: Number(m[1]), admin: Number(m[2]) }
    if (p.child.exitCode !== null) throw new Error(`exited early: ${p.stderr()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`not ready: ${p.stdout()} ${p.stderr()}`)
}

const request = (port: number, path: string, method = "GET", host = "slow", headers: Record<string, string> = {}) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = Http.request(
      { host: "127.0.0.1", port, path, method, headers: { host, ...headers }, agent: false },
      (res) => {
        let body = ""
        res.on("data", (c: Buffer) => (body += c.toString()))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
      }
    )
    req.on("error", reject)
    req.end()
  })

const config = (backendPort: number) => `
admin: {port: 0, shutdownGraceMs: 5000}
routers:
- protocol: http
  dtab: /svc/slow => /$/inet/127.1/${backendPort}
  servers: [{port: 0}]
`

describe("weir proxy: graceful shutdown (child process)", () => {
  it("SIGTERM: stops accepting, finishes in-flight requests, exits 0", async () => {
    const backend = await slowBackend()
    try {
      const p = start(config((backend.address() as AddressInfo).port))
      const { port } = await ready(p)
      expect((await request(port, "/?ms=0")).status).toBe(200)
      const inFlight = request(port, "/?ms=700")
      await new Promise((r) => setTimeout(r, 200))
      p.child.kill("SIGTERM")
      const r = await inFlight
      expect(r).toEqual({ status: 200, body: "slept 700" })
      expect(await p.exited).toBe(0)
      await expect(request(port, "/?ms=0")).rejects.toThrow()
      expect(p.stdout()).toContain("weir: shutting down")
    } finally {
      backend.close()
      backend.closeAllConnections()
    }
  })

  it("POST /admin/shutdown does the same", async () => {
    const backend = await slowBackend()
    try {
      const p = start(config((backend.address() as AddressInfo).port))
      const { admin, port } = await ready(p)
      const inFlight = request(port, "/?ms=500")
      await new Promise((r) => setTimeout(r, 150))
      const q = await request(admin, "/admin/shutdown", "POST", "localhost", { "x-weir-admin": "1" })
      expect(q).toEqual({ status: 200, body: "quitting\n" })
      expect((await inFlight).status).toBe(200)
      expect(await p.exited).toBe(0)
    } finally {
      backend.close()
      backend.closeAllConnections()
    }
  })

  it("a bad config: every problem listed, exit 1, nothing started", async () => {
    const p = start(`
admin: {port: 0}
namers: [{kind: io.l5d.k8s}]
routers:
- protocol: http
  servers: [{port: 0}]
  client: {loadBalancer: {kind: rr}}
- protocol: http
  servers: [{port: 0}]
`)
    expect(await p.exited).toBe(1)
    expect(p.stderr()).toContain("routers[0].client.loadBalancer.kind: unknown kind \"rr\"")
    expect(p.stdout()).not.toContain("serving")
  })
})
