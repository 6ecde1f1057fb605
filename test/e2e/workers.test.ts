import { afterAll, describe, expect, it } from "@effect/vitest"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

// `workers: 2` with real processes: the CLI (`weir proxy`) as a child process, its two workers, and
// a backend on loopback

const dir = mkdtempSync(join(tmpdir(), "weir-workers-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const backend = (): Promise<Http.Server> =>
  new Promise((resolve) => {
    const s = Http.createServer((req, res) => {
      const ms = Number(new URL(req.url ?? "/", "http://x").searchParams.get("ms") ?? "0")
      setTimeout(() => res.end(`slept ${ms}`), ms)
    })
    s.listen({ host: "127.0.0.1", port: 0 }, () => resolve(s))
  })

const closeAll = (s: Http.Server) => {
  s.close()
  s.closeAllConnections()
}

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits (a bound, not an assertion) for `cond`, every 50 ms, up to 60 s: starting processes is slow under load. */
const until = async <A>(what: string, cond: () => A | undefined | Promise<A | undefined>, p?: Proc): Promise<A> => {
  for (let i = 0; i < 1200; i++) {
    const v = await cond()
    if (v !== undefined) return v
    if (p !== undefined && p.child.exitCode !== null) throw new Error(`exited early: ${p.stdout()} ${p.stderr()}`)
    await sleep(50)
  }
  throw new Error(`timed out waiting for ${what}: ${p?.stdout()} ${p?.stderr()}`)
}

const ready = (p: Proc) =>
  until("the workers to serve", () => {
    const m = /2 workers serving web on 127\.0\.0\.1:(\d+); admin on http:\/\/127\.0\.0\.1:(\d+)\//.exec(p.stdout())
    return m === null ? undefined : { port: Number(m[1]), admin: Number(m[2]) }
  }, p)

const request = (port: number, path: string, method = "GET", host = "web", headers: Record<string, string> = {}) =>
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

const metrics = async (admin: number): Promise<Record<string, number>> =>
  JSON.parse((await request(admin, "/admin/metrics.json", "GET", "localhost")).body)

const workerPids = (primary: number): Array<number> => {
  try {
    return execFileSync("ps", ["-o", "pid=", "--ppid", String(primary)]).toString().trim().split(/\s+/).map(Number)
      .filter((n) => n > 0)
  } catch {
    return []
  }
}

const config = (backendPort: number) => `
workers: 2
admin: {port: 0, shutdownGraceMs: 5000}
routers:
- protocol: http
  label: web
  dtab: /svc/web => /$/inet/127.1/${backendPort}
  servers: [{port: 0}]
`

describe("weir proxy with workers: 2 (child processes)", { timeout: 120_000 }, () => {
  it("both workers serve the one port; the admin server reports the sum and each worker's own", async () => {
    const b = await backend()
    const p = start(config((b.address() as AddressInfo).port))
    try {
      const { admin, port } = await ready(p)
      // every request on a new connection: the kernel spreads connections over the two listeners
      for (let i = 0; i < 40; i++) expect((await request(port, "/")).status).toBe(200)
      const server = `rt/web/server/127.0.0.1/${port}`
      const m = await until("the workers' counters", async () => {
        const m = await metrics(admin)
        return m[`${server}/requests`] === 40 ? m : undefined
      })
      const w0 = m[`worker/0/${server}/requests`] ?? 0
      const w1 = m[`worker/1/${server}/requests`] ?? 0
      expect(w0).toBeGreaterThan(0)
      expect(w1).toBeGreaterThan(0)
      expect(w0 + w1).toBe(40)
      expect(m[`${server}/status/200`]).toBe(40)
      expect(m["worker/1/process/event_loop_lag_ms/p99"]).toBeGreaterThanOrEqual(0)
      const prom = (await request(admin, "/admin/metrics/prometheus", "GET", "localhost")).body
      expect(prom).toContain(`rt:server:requests{rt="web", server="127.0.0.1/${port}"} 40`)
      expect(prom).toContain(`rt:server:requests{worker="1", rt="web", server="127.0.0.1/${port}"} ${w1}`)
    } finally {
      p.child.kill("SIGKILL")
      closeAll(b)
    }
  })

  it("a worker that dies is logged and started again; requests keep being served", async () => {
    const b = await backend()
    const p = start(config((b.address() as AddressInfo).port))
    try {
      const { admin, port } = await ready(p)
      const before = await until("two workers", () => {
        const pids = workerPids(p.child.pid!)
        return pids.length === 2 ? pids : undefined
      })
      process.kill(before[1]!, "SIGKILL")
      await until(
        "the restart",
        () => /worker \d \(pid \d+\) exited with signal SIGKILL; starting it again/.test(p.stdout()) || undefined,
        p
      )
      const after = await until("a new worker", () => {
        const pids = workerPids(p.child.pid!)
        return pids.length === 2 && !pids.includes(before[1]!) ? pids : undefined
      }, p)
      expect(after).toContain(before[0])
      for (let i = 0; i < 10; i++) expect((await request(port, "/")).status).toBe(200)
      // the new worker reports again
      await until("both workers' metrics", async () => {
        const m = await metrics(admin)
        return m["worker/0/process/event_loop_lag_ms/max"] !== undefined &&
            m["worker/1/process/event_loop_lag_ms/max"] !== undefined
          ? true
          : undefined
      })
    } finally {
      p.child.kill("SIGKILL")
      closeAll(b)
    }
  })

  it("SIGHUP reaches every worker; SIGTERM drains them all and exits 0", async () => {
    const b = await backend()
    const p = start(config((b.address() as AddressInfo).port))
    try {
      const { port } = await ready(p)
      const pids = await until("two workers", () => {
        const pids = workerPids(p.child.pid!)
        return pids.length === 2 ? pids : undefined
      })
      p.child.kill("SIGHUP")
      await until("both workers' reloads", () =>
        p.stdout().includes("worker 0: SIGHUP: TLS files reloaded") &&
          p.stdout().includes("worker 1: SIGHUP: TLS files reloaded") || undefined, p)
      // slow requests on ten connections: spread over both workers
      const inFlight = Array.from({ length: 10 }, () => request(port, "/?ms=1500"))
      await sleep(500)
      p.child.kill("SIGTERM")
      for (const r of await Promise.all(inFlight)) expect(r).toEqual({ status: 200, body: "slept 1500" })
      expect(await p.exited).toBe(0)
      expect(p.stdout()).toContain("weir: shutting down")
      expect(p.stdout()).not.toContain("starting it again")
      for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow()
      await expect(request(port, "/")).rejects.toThrow()
    } finally {
      p.child.kill("SIGKILL")
      closeAll(b)
    }
  })

  it("POST /admin/shutdown drains every worker", async () => {
    const b = await backend()
    const p = start(config((b.address() as AddressInfo).port))
    try {
      const { admin, port } = await ready(p)
      const inFlight = Array.from({ length: 10 }, () => request(port, "/?ms=1000"))
      await sleep(300)
      const q = await request(admin, "/admin/shutdown", "POST", "localhost", { "x-weir-admin": "1" })
      expect(q).toEqual({ status: 200, body: "quitting\n" })
      for (const r of await Promise.all(inFlight)) expect(r.status).toBe(200)
      expect(await p.exited).toBe(0)
      expect(workerPids(p.child.pid!)).toEqual([])
    } finally {
      p.child.kill("SIGKILL")
      closeAll(b)
    }
  })

  it("a worker that cannot start stops the proxy with exit 1", async () => {
    const b = await backend()
    // the port is taken by a listener without SO_REUSEPORT
    const port = (b.address() as AddressInfo).port
    const p = start(config(port).replace("servers: [{port: 0}]", `servers: [{port: ${port}}]`))
    try {
      expect(await p.exited).toBe(1)
      expect(p.stdout()).toContain("worker 0 could not start")
    } finally {
      p.child.kill("SIGKILL")
      closeAll(b)
    }
  })
})
