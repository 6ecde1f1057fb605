/**
 * Soak: a real `weir proxy` (the CLI, bundled as deployed) in front of three real node:http
 * backends on loopback, under mixed traffic for SOAK_MINUTES (default 30), sampled every
 * SOAK_SAMPLE_SECS (default 10). Fails (exit 1) on a growth trend in the second half of the run.
 *
 *   npm run soak                              (30 minutes)
 *   SOAK_MINUTES=3 SOAK_RESTART_MINUTES=1 npm run soak
 *
 * Traffic (open loop, SOAK_RPS per second, default 150, at most 64 requests in flight):
 * keep-alive GETs and POSTs, requests on new connections, `l5d-dtab` overrides (a fixed set, so
 * the binding caches stay bounded), hostile overrides to the proxy's own admin address (expected
 * 502: routers refuse to route to the proxy itself), slow clients that trickle a request body,
 * slow readers of a 512 KB response, and every SOAK_RESTART_MINUTES (default 5) one backend is
 * stopped (its connections destroyed) and started again on the same port 3 s later.
 *
 * Samples: the proxy's RSS (/proc/PID/status VmRSS) and open fds (/proc/PID/fd); its V8 heap and
 * event-loop delay from bench/soak/probe.mjs, loaded into the proxy with `--import` (weir's
 * /admin/metrics.json has no process stats); the admin `/admin/ping` round trip; the driver's own
 * event-loop delay. The verdict: least-squares slope over the second half of RSS
 * (> SOAK_MAX_RSS_SLOPE MB per 10 min, default 4), heap (> SOAK_MAX_HEAP_SLOPE, default 3) and fds
 * (> SOAK_MAX_FD_SLOPE per 10 min, default 3); and the proxy must still answer at the end.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"

const env = (name: string, fallback: number): number => {
  const v = process.env[name]
  const n = v === undefined || v === "" ? fallback : Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`)
  return n
}
const minutes = env("SOAK_MINUTES", 30)
const sampleSecs = env("SOAK_SAMPLE_SECS", 10)
const restartMinutes = env("SOAK_RESTART_MINUTES", 5)
const rps = env("SOAK_RPS", 150)
const maxRssSlope = env("SOAK_MAX_RSS_SLOPE", 4)
const maxHeapSlope = env("SOAK_MAX_HEAP_SLOPE", 3)
const maxFdSlope = env("SOAK_MAX_FD_SLOPE", 3)
const maxInFlight = 64
const maxSlow = 8

const root = new URL("../..", import.meta.url).pathname
const work = mkdtempSync(join(tmpdir(), "weir-soak-"))
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
let proxyChild: ChildProcess | undefined
process.on("exit", () => proxyChild?.kill("SIGKILL"))

// ---------------------------------------------------------------------------------------------
// backends
// ---------------------------------------------------------------------------------------------

interface Backend {
  readonly index: number
  port: number
  server: Http.Server | undefined
}

const handler = (index: number) => (req: Http.IncomingMessage, res: Http.ServerResponse) => {
  let size = 0
  req.on("data", (c: Buffer) => (size += c.length))
  req.on("end", () => {
    const url = new URL(req.url ?? "/", "http://x")
    if (url.pathname === "/big") {
      const kb = Math.min(Number(url.searchParams.get("kb") ?? "64"), 4096)
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": kb * 1024 })
      res.end(Buffer.alloc(kb * 1024, 120))
      return
    }
    res.writeHead(200, { "content-type": "text/plain" })
    res.end(`backend ${index} ${req.method} ${size}\n`)
  })
}

const listen = (b: Backend): Promise<void> =>
  new Promise((resolve, reject) => {
    const s = Http.createServer({ keepAliveTimeout: 30_000 }, handler(b.index))
    s.once("error", reject)
    s.listen({ host: "127.0.0.1", port: b.port }, () => {
      b.port = (s.address() as Net.AddressInfo).port
      b.server = s
      resolve()
    })
  })

const stop = (b: Backend): Promise<void> =>
  new Promise((resolve) => {
    const s = b.server
    b.server = undefined
    if (s === undefined) return resolve()
    s.close(() => resolve())
    s.closeAllConnections()
  })

// ---------------------------------------------------------------------------------------------
// the proxy
// ---------------------------------------------------------------------------------------------

const startProxy = async (
  backends: ReadonlyArray<Backend>
): Promise<{ child: ChildProcess; port: number; admin: number; probe: () => Probe | undefined }> => {
  const disco = join(work, "disco")
  mkdirSync(disco)
  writeFileSync(join(disco, "web"), backends.map((b) => `127.0.0.1 ${b.port}`).join("\n") + "\n")
  writeFileSync(join(disco, "other"), `127.0.0.1 ${backends[0]!.port}\n`)
  const config = join(work, "weir.yaml")
  writeFileSync(
    config,
    `admin: {ip: 127.0.0.1, port: 0, shutdownGraceMs: 2000}
namers:
- kind: io.l5d.fs
  rootDir: ${disco}
routers:
- protocol: http
  label: soak
  dtab: |
    /svc => /#/io.l5d.fs;
  servers: [{ip: 127.0.0.1, port: 0}]
  service:
    responseClassifier: {kind: io.l5d.http.retryableRead5XX}
    totalTimeoutMs: 10000
`
  )
  const bundle = join(work, "weir.mjs")
  execFileSync(join(root, "node_modules/.bin/esbuild"), [
    join(root, "src/bin/weir.ts"),
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--log-level=error",
    "--external:etcd3",
    "--banner:js=import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);",
    `--outfile=${bundle}`
  ])
  const args = ["--import", join(root, "bench/soak/probe.mjs"), bundle, "proxy", config]
  let cmd = process.execPath
  let argv = args
  if (process.env.SOAK_PIN !== "0") {
    try {
      execFileSync("taskset", ["-V"], { stdio: "ignore" })
      const cores = Number(execFileSync("nproc").toString().trim())
      if (cores >= 2) {
        cmd = "taskset"
        argv = ["-c", String(cores - 1), process.execPath, ...args]
      }
    } catch {
      // no taskset: the scheduler places the proxy
    }
  }
  const child = spawn(cmd, argv, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, SOAK_PROBE_MS: String(sampleSecs * 1000) }
  })
  proxyChild = child
  let out = ""
  let last: Probe | undefined
  let errBuf = ""
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()))
  child.stderr!.on("data", (c: Buffer) => {
    errBuf += c.toString()
    let nl: number
    while ((nl = errBuf.indexOf("\n")) >= 0) {
      const line = errBuf.slice(0, nl)
      errBuf = errBuf.slice(nl + 1)
      if (line.startsWith("SOAK_PROBE ")) last = JSON.parse(line.slice("SOAK_PROBE ".length)) as Probe
      else if (line.trim() !== "") process.stderr.write(`proxy: ${line}\n`)
    }
  })
  for (let i = 0; i < 600; i++) {
    const m = /on 127\.0\.0\.1:(\d+); admin on http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)
    if (m !== null) return { child, port: Number(m[1]), admin: Number(m[2]), probe: () => last }
    if (child.exitCode !== null) throw new Error(`the proxy exited: ${out}`)
    await sleep(50)
  }
  throw new Error(`the proxy did not start: ${out}`)
}

interface Probe {
  readonly rss: number
  readonly heapUsed: number
  readonly heapTotal: number
  readonly external: number
  readonly arrayBuffers: number
  readonly lagMean: number
  readonly lagP99: number
  readonly lagMax: number
}

// ---------------------------------------------------------------------------------------------
// traffic
// ---------------------------------------------------------------------------------------------

const counts = { ok: 0, failed: 0, refused: 0, refusedWrong: 0, errors: 0, skipped: 0, slow: 0 }
let inFlight = 0
let slowInFlight = 0
const keepAlive = new Http.Agent({ keepAlive: true, maxSockets: 16 })

const request = (
  port: number,
  options: {
    readonly method?: string
    readonly path?: string
    readonly headers?: Record<string, string>
    readonly body?: Buffer
    readonly fresh?: boolean
  }
): Promise<{ status: number; headers: Http.IncomingHttpHeaders; size: number }> =>
  new Promise((resolve, reject) => {
    const req = Http.request(
      {
        host: "127.0.0.1",
        port,
        method: options.method ?? "GET",
        path: options.path ?? "/",
        headers: { host: "web", ...options.headers },
        agent: options.fresh === true ? false : keepAlive,
        timeout: 30_000
      },
      (res) => {
        let size = 0
        res.on("data", (c: Buffer) => (size += c.length))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, size }))
        res.on("error", reject)
      }
    )
    req.on("timeout", () => req.destroy(new Error("client timeout")))
    req.on("error", reject)
    req.end(options.body)
  })

const dtabs = [
  "/svc/web => /#/io.l5d.fs/other",
  "/svc/web => /svc/other",
  "/svc/nope => /#/io.l5d.fs/web",
  "/svc/web => /#/io.l5d.fs/web | /#/io.l5d.fs/other"
]

let seed = 42
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}

const one = (port: number, admin: number, backends: ReadonlyArray<Backend>): void => {
  if (inFlight >= maxInFlight) {
    counts.skipped++
    return
  }
  const r = random()
  let p: Promise<unknown>
  if (r < 0.02) {
    p = request(port, { headers: { "l5d-dtab": `/svc/web => /$/inet/127.0.0.1/${admin}` } }).then((res) => {
      if (res.status === 502 && String(res.headers["l5d-err"] ?? "").includes("refuses")) counts.refused++
      else counts.refusedWrong++
    })
  } else {
    let call: Promise<{ status: number }>
    if (r < 0.72) call = request(port, {})
    else if (r < 0.82) call = request(port, { fresh: true })
    else if (r < 0.90) {
      const d = r < 0.86 ?
        dtabs[Math.floor(random() * dtabs.length)]! :
        `/svc/web => /$/inet/127.0.0.1/${backends[Math.floor(random() * backends.length)]!.port}`
      call = request(port, { headers: { "l5d-dtab": d } })
    } else {
      call = request(port, { method: "POST", body: Buffer.alloc(16 * 1024, 97) })
    }
    p = call.then((res) => {
      if (res.status < 500) counts.ok++
      else counts.failed++
    })
  }
  inFlight++
  p.catch(() => counts.errors++).finally(() => inFlight--)
}

/** A client that sends a 2 KB body in 20 pieces over about 4 s, on its own connection. */
const trickle = (port: number): Promise<void> =>
  new Promise((resolve) => {
    const socket = Net.connect({ host: "127.0.0.1", port })
    let sent = 0
    let timer: NodeJS.Timeout | undefined
    const done = () => {
      if (timer !== undefined) clearInterval(timer)
      socket.destroy()
      resolve()
    }
    socket.setTimeout(30_000, done)
    socket.on("error", done)
    socket.on("connect", () => {
      socket.write("POST /upload HTTP/1.1\r\nHost: web\r\nContent-Length: 2048\r\nConnection: close\r\n\r\n")
      timer = setInterval(() => {
        socket.write(Buffer.alloc(2048 / 20, 98))
        if (++sent === 20) {
          clearInterval(timer)
          timer = undefined
        }
      }, 200)
    })
    socket.on("data", () => {})
    socket.on("end", done)
    socket.on("close", done)
  })

/** A client that reads a 512 KB response 16 KB at a time, every 100 ms. */
const slowReader = (port: number): Promise<void> =>
  new Promise((resolve) => {
    const req = Http.request(
      { host: "127.0.0.1", port, path: "/big?kb=512", headers: { host: "web" }, agent: false, timeout: 60_000 },
      (res) => {
        res.pause()
        const timer = setInterval(() => {
          let got = 0
          let c: Buffer | null
          while (got < 16 * 1024 && (c = res.read() as Buffer | null) !== null) got += c.length
        }, 100)
        res.on("end", () => {
          clearInterval(timer)
          resolve()
        })
        res.on("error", () => {
          clearInterval(timer)
          resolve()
        })
        res.on("close", () => {
          clearInterval(timer)
          resolve()
        })
      }
    )
    req.on("timeout", () => req.destroy())
    req.on("error", () => resolve())
    req.end()
  })

// ---------------------------------------------------------------------------------------------
// samples and verdict
// ---------------------------------------------------------------------------------------------

interface Sample {
  readonly t: number
  readonly rssMb: number
  readonly heapMb: number
  readonly fds: number
  readonly lagP99: number
  readonly pingMs: number
  readonly driverLagP99: number
  readonly ok: number
  readonly failed: number
  readonly errors: number
}

const rssOf = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return m === null ? NaN : Number(m[1]) / 1024
}
const fdsOf = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length

const ping = async (admin: number): Promise<number> => {
  const start = performance.now()
  await new Promise<void>((resolve, reject) => {
    Http.get({ host: "127.0.0.1", port: admin, path: "/admin/ping", agent: false }, (res) => {
      res.resume()
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`ping ${res.statusCode}`))))
    }).on("error", reject)
  })
  return performance.now() - start
}

/** Least-squares slope of `y` over `x`. */
const slope = (xs: ReadonlyArray<number>, ys: ReadonlyArray<number>): number => {
  const n = xs.length
  const mx = xs.reduce((a, b) => a + b, 0) / n
  const my = ys.reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my)
    den += (xs[i]! - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "-")

const main = async () => {
  const backends: Array<Backend> = [0, 1, 2].map((index) => ({ index, port: 0, server: undefined }))
  for (const b of backends) await listen(b)
  const proxy = await startProxy(backends)
  const pid = proxy.child.pid!
  console.log(
    `soak: ${minutes} min, ${rps} req/s, sample every ${sampleSecs} s, backend restart every ${restartMinutes} min;` +
      ` proxy pid ${pid} on 127.0.0.1:${proxy.port}, admin ${proxy.admin}; backends ${
        backends.map((b) => b.port).join(", ")
      }`
  )
  console.log("t_s,rss_mb,heap_mb,fds,lag_p99_ms,ping_ms,driver_lag_p99_ms,ok,failed,errors")
  const driverLag = monitorEventLoopDelay({ resolution: 10 })
  driverLag.enable()
  const t0 = Date.now()
  const end = t0 + minutes * 60_000
  const perTick = rps / 20
  let owed = 0
  const traffic = setInterval(() => {
    owed += perTick
    while (owed >= 1) {
      one(proxy.port, proxy.admin, backends)
      owed--
    }
  }, 50)
  const slow = setInterval(() => {
    if (slowInFlight >= maxSlow) return
    slowInFlight += 2
    counts.slow += 2
    void trickle(proxy.port).finally(() => slowInFlight--)
    void slowReader(proxy.port).finally(() => slowInFlight--)
  }, 2000)
  let next = 0
  const restarts = setInterval(() => {
    const b = backends[next++ % backends.length]!
    void stop(b).then(() => sleep(3000)).then(() => listen(b)).catch((e) => console.error(`restart: ${e}`))
  }, restartMinutes * 60_000)

  const samples: Array<Sample> = []
  while (Date.now() < end) {
    await sleep(Math.min(sampleSecs * 1000, Math.max(0, end - Date.now())))
    if (proxy.child.exitCode !== null) throw new Error("the proxy exited during the soak")
    const probe = proxy.probe()
    const s: Sample = {
      t: (Date.now() - t0) / 1000,
      rssMb: rssOf(pid),
      heapMb: probe === undefined ? NaN : probe.heapUsed / 2 ** 20,
      fds: fdsOf(pid),
      lagP99: probe?.lagP99 ?? NaN,
      pingMs: await ping(proxy.admin).catch(() => NaN),
      driverLagP99: driverLag.percentile(99) / 1e6,
      ok: counts.ok,
      failed: counts.failed,
      errors: counts.errors
    }
    driverLag.reset()
    samples.push(s)
    console.log(
      [
        s.t.toFixed(0),
        f(s.rssMb),
        f(s.heapMb),
        s.fds,
        f(s.lagP99),
        f(s.pingMs),
        f(s.driverLagP99),
        s.ok,
        s.failed,
        s.errors
      ]
        .join(",")
    )
  }
  clearInterval(traffic)
  clearInterval(slow)
  clearInterval(restarts)
  await sleep(2000)
  const alive = await ping(proxy.admin).then(() => true, () => false)
  const endRes = await request(proxy.port, {}).catch(() => undefined)
  proxy.child.kill("SIGTERM")
  keepAlive.destroy()
  for (const b of backends) await stop(b)
  rmSync(work, { recursive: true, force: true })

  const half = samples.slice(Math.floor(samples.length / 2))
  const xs = half.map((s) => s.t / 600)
  const rssSlope = slope(xs, half.map((s) => s.rssMb))
  const heapSlope = slope(xs, half.map((s) => s.heapMb))
  const fdSlope = slope(xs, half.map((s) => s.fds))
  const every = Math.max(1, Math.round(120 / sampleSecs))
  console.log("\n| t (min) | RSS MB | heap MB | fds | proxy loop p99 ms | ping ms | ok | failed | errors |")
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
  for (const [i, s] of samples.entries()) {
    if (i % every !== 0 && i !== samples.length - 1) continue
    console.log(
      `| ${f(s.t / 60)} | ${f(s.rssMb)} | ${f(s.heapMb)} | ${s.fds} | ${f(s.lagP99)} | ${
        f(s.pingMs)
      } | ${s.ok} | ${s.failed} | ${s.errors} |`
    )
  }
  const problems: Array<string> = []
  if (rssSlope > maxRssSlope) problems.push(`RSS grows ${f(rssSlope, 2)} MB/10 min (limit ${maxRssSlope})`)
  if (heapSlope > maxHeapSlope) problems.push(`heap grows ${f(heapSlope, 2)} MB/10 min (limit ${maxHeapSlope})`)
  if (fdSlope > maxFdSlope) problems.push(`fds grow ${f(fdSlope, 2)}/10 min (limit ${maxFdSlope})`)
  if (!alive || endRes === undefined || endRes.status !== 200) problems.push("the proxy no longer answers")
  if (counts.refusedWrong > 0) problems.push(`${counts.refusedWrong} self-routing requests were not refused`)
  console.log(
    `\nsecond-half slopes: RSS ${f(rssSlope, 2)} MB/10 min, heap ${f(heapSlope, 2)} MB/10 min, fds ${
      f(fdSlope, 2)
    }/10 min`
  )
  console.log(
    `requests: ${counts.ok} ok, ${counts.failed} 5XX, ${counts.errors} transport errors, ${counts.refused} refused` +
      ` self-routing, ${counts.skipped} skipped (${maxInFlight} in flight), ${counts.slow} slow clients`
  )
  console.log(problems.length === 0 ? "soak: PASS" : `soak: FAIL\n  ${problems.join("\n  ")}`)
  process.exit(problems.length === 0 ? 0 : 1)
}

main().catch((e) => {
  console.error(e)
  rmSync(work, { recursive: true, force: true })
  process.exit(1)
})
