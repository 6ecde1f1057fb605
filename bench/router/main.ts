/**
 * The router's own per-request cost, in process and without sockets: the handler a router's server
 * runs (`HttpRouter.makeHandler`: admission, server stats, identification, binding, path stack,
 * client stack, balancer, failure accrual) in front of an in-memory upstream that answers `200 ok`
 * at once (swapped in through `DstClient.UpstreamMaker`), against the same in-memory upstream
 * called directly. The difference is what routing costs per request.
 *
 * Setup as in `bench/proxy/weir.ts`: `Host: web` → `/svc/web` → `/$/inet/127.0.0.1/PORT`, default
 * client and service parameters, `Stats.makeInMemory()`.
 *
 * Usage: `npx tsx bench/router/main.ts` (env `N` requests per round, default 200000; `ROUNDS`,
 * default 5; `CONC`, default 50; `TIMEOUTS=1` adds a total and an attempt timeout; `TRACING=1` adds
 * the same router with a tracing telemeter at `sampleRate` 0 and at 1.0 — spans handed to an
 * in-memory sink that keeps nothing, so it is the request path's own cost, not an exporter's —
 * interleaved with the plain router in every round (each round starting at the next case), and prints
 * the median of their per-round ratios to it, in wall time and in this process's CPU time — the
 * latter much less disturbed by other load on the machine). `RECENT=<rate>` adds an
 * `io.l5d.recentRequests` recorder sampling at that rate to every router. Prints
 * ns/request, median (and best) of the rounds after a warm-up, for one request at a time (the
 * upstream answers synchronously) and `CONC` at a time (the upstream answers each batch on the next
 * `setImmediate`, so requests overlap as behind a real socket).
 *
 * Like `bench/proxy`, it measures weir as deployed: run under `tsx`, it bundles itself with esbuild
 * and runs the bundle in plain `node` (`tsx` compiles with `keepNames`, which wraps every closure a
 * request creates in a `defineProperty` call and inflates the cost about 1.5×). `--no-bundle` runs it
 * under the loader as it is.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Address } from "../../src/Address.js"
import * as DstClient from "../../src/http/DstClient.js"
import * as Router from "../../src/http/Router.js"
import type { HttpRequest, HttpResponse } from "../../src/http/transport/Message.js"
import { buffered } from "../../src/http/transport/Message.js"
import type * as Upstream from "../../src/http/transport/Upstream.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Stats from "../../src/Stats.js"
import * as RecentRequests from "../../src/telemetry/RecentRequests.js"
import * as Tracing from "../../src/telemetry/Tracing.js"

const N = Number(process.env.N ?? 200_000)
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const CONC = Number(process.env.CONC ?? 50)
/** `TIMEOUTS=1`: a 10 s total timeout per service and a 5 s attempt timeout per client. */
const TIMEOUTS = process.env.TIMEOUTS === "1"
/** `TRACING=1`: also the router with tracing at sampleRate 0 and 1.0. */
const TRACING = process.env.TRACING === "1"
/** `RECENT=<rate>`: a recent-requests recorder (capacity 10) sampling at that rate. */
const RECENT = process.env.RECENT === undefined ? undefined : Number(process.env.RECENT)
const PORT = 18080

const okBody = buffered("ok")

/** A fresh response each time: the router writes headers into it. */
const ok = (): HttpResponse => ({
  status: 200,
  headers: { "content-type": "text/plain", "content-length": "2", "connection": "keep-alive" },
  body: okBody
})

/** The request as the server would hand it over: fresh headers object each time. */
const request = (): HttpRequest => ({
  method: "GET",
  url: "/",
  version: "1.1",
  headers: { host: "web", "user-agent": "wrk", accept: "*/*" },
  body: { _tag: "Empty" },
  remote: "127.0.0.1:40000"
})

/** In-memory upstream answers: at once (sequential) or batched per `setImmediate` (concurrent). */
let mode: "sync" | "async" = "sync"
let queue: Array<(effect: Effect.Effect<HttpResponse>) => void> = []
let flushScheduled = false
const flush = () => {
  flushScheduled = false
  const q = queue
  queue = []
  for (const resume of q) resume(Effect.succeed(ok()))
}
const answer: Effect.Effect<HttpResponse> = Effect.suspend(() =>
  mode === "sync" ? Effect.succeed(ok()) : Effect.callback<HttpResponse>((resume) => {
    queue.push(resume)
    if (!flushScheduled) {
      flushScheduled = true
      setImmediate(flush)
    }
  })
)

const memoryUpstream = (address: Address): Upstream.Upstream => ({
  address,
  status: "Open",
  connections: () => 1,
  connects: () => 1,
  call: () => answer
})

const makeUpstream: DstClient.UpstreamMaker = (address) => Effect.succeed(memoryUpstream(address))

/** Runs `total` requests through `handler`, `concurrency` at a time; resolves with elapsed ns. */
const drive = (
  run: (effect: Effect.Effect<HttpResponse>, onExit: (exit: Exit.Exit<HttpResponse>) => void) => void,
  handler: (request: HttpRequest) => Effect.Effect<HttpResponse>,
  total: number,
  concurrency: number
): Promise<number> =>
  new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint()
    let started = 0
    let done = 0
    let syncDone = 0
    let inLoop = false
    const onExit = (exit: Exit.Exit<HttpResponse>) => {
      if (exit._tag !== "Success" || exit.value.status !== 200) {
        reject(new Error(`unexpected outcome: ${JSON.stringify(Exit.isSuccess(exit) ? exit.value.status : exit)}`))
        return
      }
      done++
      if (done === total) resolve(Number(process.hrtime.bigint() - t0))
      else if (inLoop) syncDone++
      else pump()
    }
    const pump = () => {
      // start requests until `concurrency` are in flight; requests that finish synchronously free their slot at once
      inLoop = true
      while (started < total && started - done < concurrency) {
        started++
        run(handler(request()), onExit)
      }
      inLoop = false
      if (syncDone > 0 && started < total) {
        syncDone = 0
        setImmediate(pump)
      }
    }
    pump()
  })

const median = (xs: Array<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

const program = Effect.gen(function*() {
  const interpreter = yield* Interpreter.make()
  const stats = Stats.makeInMemory()
  let spans = 0
  const tracingAt = (sampleRate: number) => Tracing.make([{ sampleRate, export: () => void spans++ }])
  const makeHandler = (tracing: Tracing.Tracing | undefined) =>
    Router.makeHandler({
      label: "bench",
      dtab: Dtab.parseUnsafe(`/svc/web => /$/inet/127.0.0.1/${PORT}`),
      interpreter,
      stats,
      ...(TIMEOUTS
        ? {
          service: () => ({ totalTimeout: Duration.seconds(10) }),
          client: () => ({ attemptTimeout: Duration.seconds(5) })
        }
        : {}),
      tracing,
      ...(RECENT !== undefined ? { recorder: RecentRequests.makeUnsafe({ sampleRate: RECENT }) } : {})
    }, { port: 18082 }).pipe(Effect.provideService(DstClient.UpstreamMaker, makeUpstream))
  const handler = yield* makeHandler(undefined)
  const traced0 = TRACING ? yield* makeHandler(tracingAt(0)) : undefined
  const traced1 = TRACING ? yield* makeHandler(tracingAt(1)) : undefined
  const direct = (_request: HttpRequest) => answer
  const context = yield* Effect.context<never>()
  const runCb = Effect.runCallbackWith(context)
  const run = (effect: Effect.Effect<HttpResponse>, onExit: (exit: Exit.Exit<HttpResponse>) => void) => {
    runCb(effect, { onExit })
  }
  /** CPU time (user + system) of this process per request in the last `measure`, in ns. */
  let lastCpu = 0
  const measure = async (h: typeof handler, concurrency: number) => {
    mode = concurrency === 1 ? "sync" : "async"
    const cpu0 = process.cpuUsage()
    const wall = (await drive(run, h, N, concurrency)) / N
    const cpu = process.cpuUsage(cpu0)
    lastCpu = ((cpu.user + cpu.system) * 1000) / N
    return wall
  }
  const results: Record<string, Array<number>> = {}
  const cpuResults: Record<string, Array<number>> = {}
  const cases: Array<readonly [string, typeof handler, number]> = [
    ["direct, sequential", direct, 1],
    ["router, sequential", handler, 1],
    ...(traced0 !== undefined && traced1 !== undefined
      ? [
        ["router+trace@0, sequential", traced0, 1] as const,
        ["router+trace@1, sequential", traced1, 1] as const
      ]
      : []),
    [`direct, ${CONC} concurrent`, direct, CONC],
    [`router, ${CONC} concurrent`, handler, CONC],
    ...(traced0 !== undefined && traced1 !== undefined
      ? [
        [`router+trace@0, ${CONC} concurrent`, traced0, CONC] as const,
        [`router+trace@1, ${CONC} concurrent`, traced1, CONC] as const
      ]
      : [])
  ]
  if (process.env.PROFILE_CASE !== undefined) {
    // one case only, for `node --cpu-prof` on the bundle
    const [, h, c] = cases.find(([name]) => name === process.env.PROFILE_CASE)!
    for (let r = 0; r < ROUNDS; r++) {
      console.log(`${process.env.PROFILE_CASE}: ${yield* Effect.promise(() => measure(h, c))}`)
    }
    return
  }
  // warm-up
  yield* Effect.promise(async () => {
    for (const [, h, c] of cases) await measure(h, c)
  })
  for (let r = 0; r < ROUNDS; r++) {
    // with TRACING, each round starts at the next case, so no variant always follows the same one
    const order = TRACING ? [...cases.slice(r % cases.length), ...cases.slice(0, r % cases.length)] : cases
    for (const [name, h, c] of order) {
      const ns = yield* Effect.promise(() => measure(h, c))
      ;(results[name] ??= []).push(ns)
      ;(cpuResults[name] ??= []).push(lastCpu)
    }
  }
  const m = (name: string) => median(results[name]!)
  console.log(`N=${N} rounds=${ROUNDS}: median (best) ns/request`)
  for (const [name] of cases) {
    console.log(
      `${name.padEnd(28)} ${m(name).toFixed(0).padStart(7)} (${Math.min(...results[name]!).toFixed(0)}) ns/req`
    )
  }
  console.log(
    `router overhead, sequential   ${(m("router, sequential") - m("direct, sequential")).toFixed(0).padStart(7)} ns/req`
  )
  console.log(
    `router overhead, ${CONC} concurrent ${
      (m(`router, ${CONC} concurrent`) - m(`direct, ${CONC} concurrent`)).toFixed(0).padStart(7)
    } ns/req`
  )
  if (TRACING) {
    for (const mode of ["sequential", `${CONC} concurrent`]) {
      const base = m(`router, ${mode}`)
      // per round, so that load shifts between rounds cancel out in the ratio
      const ratios = (name: string, of = results) =>
        of[name]!.map((v, i) => v / of[`router, ${mode}`]![i]!).sort((a, b) => a - b)
      for (const rate of ["0", "1"]) {
        const name = `router+trace@${rate}, ${mode}`
        const rs = ratios(name)
        const cs = ratios(name, cpuResults)
        console.log(
          `tracing at ${rate === "0" ? "0  " : "1.0"}, ${mode.padEnd(14)} CPU ${
            ((median(cs) - 1) * 100).toFixed(1).padStart(6)
          } % (median per-round CPU-time ratio; per-round ${cs.map((r) => r.toFixed(3)).join(" ")}; CPU ns/req ${
            median(cpuResults[name]!).toFixed(0)
          } vs ${median(cpuResults[`router, ${mode}`]!).toFixed(0)})`
        )
        console.log(
          `tracing at ${rate === "0" ? "0  " : "1.0"}, ${mode.padEnd(14)} wall ${
            ((median(rs) - 1) * 100).toFixed(1).padStart(6)
          } % (median per-round ratio; ratio of medians ${(m(name) / base).toFixed(3)}; per-round ${
            rs.map((r) => r.toFixed(3)).join(" ")
          })`
        )
      }
    }
    console.log(`(spans recorded: ${spans})`)
  }
  const served = stats.counterValue(`rt/bench/server/127.0.0.1/18082/requests`)
  const clientOk = stats.counterValue(`rt/bench/client/$/inet/127.0.0.1/${PORT}/success`)
  console.log(`(server requests ${served}, client successes ${clientOk})`)
})

/** Bundles this file with esbuild and runs the bundle in plain node; the exit code is the bundle's. */
const runBundled = (): number => {
  const here = fileURLToPath(import.meta.url)
  const root = path.resolve(path.dirname(here), "../..")
  const dir = mkdtempSync(path.join(tmpdir(), "weir-router-bench-"))
  const out = path.join(dir, "bench.mjs")
  const built = spawnSync(path.join(root, "node_modules/.bin/esbuild"), [
    here,
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--log-level=error",
    "--banner:js=import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);",
    `--outfile=${out}`
  ], { stdio: "inherit" })
  if (built.status !== 0) return built.status ?? 1
  const ran = spawnSync(process.execPath, [out], { stdio: "inherit", env: { ...process.env, [bundledFlag]: "1" } })
  rmSync(dir, { recursive: true, force: true })
  return ran.status ?? 1
}

const bundledFlag = "WEIR_ROUTER_BENCH_BUNDLED"

if (process.env[bundledFlag] === "1" || process.argv.includes("--no-bundle")) {
  Effect.runPromise(Effect.scoped(program)).catch((e) => {
    console.error(e)
    process.exitCode = 1
  })
} else {
  process.exitCode = runBundled()
}
