/**
 * `workers: N` (or `auto`, one per available core): the proxy as N processes, each a whole weir
 * (routers, namers, clients), sharing every server's port. As nginx's master and `worker_processes`,
 * one primary process starts the workers and keeps them running; it serves nothing itself.
 *
 * ```yaml
 * workers: auto        # or a number; default 1 (no worker processes: the proxy is one process)
 * routers: [...]
 * ```
 *
 * - **Ports**: every worker listens on each server's port with `SO_REUSEPORT` (`reusePort`), so the
 *   kernel spreads new connections over the workers. Worker `0` starts first; a port configured as
 *   `0` is the one worker `0` got, for every worker.
 * - **Admin**: worker `0` serves the admin server at `admin.ip:admin.port`. Its metrics endpoints
 *   report the sum of every worker's metrics, and each worker's own under `worker/<k>/…` (the label
 *   `worker="k"` in the Prometheus form; `telemetry/WorkerMetrics.ts` says how they combine). The
 *   other workers' admin servers listen on a free loopback port each (for debugging one worker).
 *   Statsd telemeters and serverset announcers run in worker `0` only (statsd gets the sum).
 * - **Shutdown**: `SIGTERM`, `SIGINT` (to the primary) and `POST /admin/shutdown` drain every worker
 *   within the grace; the primary exits `0` once all have exited (a second signal: at once, `1`).
 * - **Crashes**: a worker that exits on its own is logged and started again, after 250 ms doubling
 *   up to 30 s while it keeps exiting within 10 s of its start. A worker that cannot start at
 *   startup (a port in use) stops everything and the primary exits `1`.
 * - **Reload**: `SIGHUP` to the primary is passed to every worker (each reads its TLS files again).
 *
 * Workers are the same program (`process.argv`) started with `WEIR_WORKER=<k>`; the primary hands
 * them the config text over the IPC channel (`proxy/Worker.ts` is their side).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { type ChildProcess, fork } from "node:child_process"
import * as Os from "node:os"
import type * as Metrics from "../telemetry/Metrics.js"
import type * as WorkerMetrics from "../telemetry/WorkerMetrics.js"
import type * as Config from "./Config.js"

/**
 * The ports worker `0` bound: per router, per server; and the admin server's.
 *
 * @since 0.1.0
 * @category model
 */
export interface Ports {
  readonly servers: ReadonlyArray<ReadonlyArray<number>>
  readonly admin: number
}

/**
 * A message from the primary to a worker.
 *
 * @since 0.1.0
 * @category protocol
 */
export type ToWorker =
  | {
    readonly t: "start"
    readonly worker: number
    readonly workers: number
    readonly text: string
    readonly ports?: Ports | undefined
  }
  | { readonly t: "collect"; readonly id: number }
  | { readonly t: "collected"; readonly id: number; readonly snapshots: ReadonlyArray<WorkerMetrics.WorkerSnapshot> }
  | { readonly t: "drain"; readonly graceMs: number }

/**
 * A message from a worker to the primary.
 *
 * @since 0.1.0
 * @category protocol
 */
export type FromWorker =
  | { readonly t: "hello" }
  | { readonly t: "ready"; readonly ports: Ports }
  | { readonly t: "snapshot"; readonly id: number; readonly snapshot: Metrics.Snapshot }
  | { readonly t: "collect"; readonly id: number }
  | { readonly t: "shutdown"; readonly graceMs?: number | undefined }

/**
 * The number of worker processes a `workers` setting asks for: `auto` is the available cores
 * (`os.availableParallelism()`); absent is `1`.
 *
 * @since 0.1.0
 * @category model
 */
export const count = (setting: Config.Config["workers"], cores: number = Os.availableParallelism()): number =>
  setting === undefined ? 1 : setting === "auto" ? Math.max(1, cores) : setting

const socketDefaults = { noDelay: true, reuseAddr: true, reusePort: false, keepAlive: false }

/**
 * The config worker `worker` runs: every server with `reusePort`, on the ports worker `0` bound
 * (`ports`, once known); the admin server on a free loopback port except in worker `0`; announcers
 * and statsd telemeters in worker `0` only.
 *
 * @since 0.1.0
 * @category model
 */
export const forWorker = (config: Config.Config, worker: number, ports: Ports | undefined): Config.Config => ({
  ...config,
  admin: worker === 0
    ? { ...config.admin, ...(ports !== undefined ? { port: ports.admin } : {}) }
    : { ...config.admin, ip: "127.0.0.1", port: 0 },
  routers: config.routers.map((r, i) => ({
    ...r,
    ...(worker === 0 ? {} : { announcers: undefined }),
    servers: r.servers.map(({ announce, ...s }, j) => ({
      ...s,
      ...(worker === 0 && announce !== undefined ? { announce } : {}),
      port: ports?.servers[i]?.[j] ?? s.port,
      socketOptions: { ...(s.socketOptions ?? socketDefaults), reusePort: true }
    }))
  })),
  telemetry: worker === 0 ? config.telemetry : config.telemetry.filter((t) => t.kind !== "io.l5d.statsd")
})

/**
 * What `supervise` needs: the config as text (for the workers) and decoded, how many workers, and
 * where to log.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  readonly text: string
  readonly config: Config.Config
  readonly workers: number
  readonly log: (line: string) => void
  /** The program and arguments of a worker; defaults to this process's (`process.argv`). */
  readonly argv?: ReadonlyArray<string> | undefined
}

interface Slot {
  child: ChildProcess | undefined
  startedAt: number
  ready: boolean
  crashes: number
  timer: ReturnType<typeof setTimeout> | undefined
}

const firstRestartMs = 250
const maxRestartMs = 30_000
const stableMs = 10_000
const collectTimeoutMs = 2_000

/**
 * Runs the workers until they are shut down; completes with the exit code the primary should end
 * with (`0` after a drain, `1` when a worker could not start or after a second signal).
 *
 * @since 0.1.0
 * @category running
 */
export const supervise = (options: Options): Effect.Effect<number> =>
  Effect.callback<number>((resume) => {
    const { config, workers, log } = options
    const [execPath, script, ...args] = options.argv ?? process.argv
    const graceMs = Duration.toMillis(config.admin.shutdownGraceMs)
    const slots: Array<Slot> = Array.from(
      { length: workers },
      () => ({ child: undefined, startedAt: 0, ready: false, crashes: 0, timer: undefined })
    )
    let ports: Ports | undefined
    let started = false
    let stopping: number | undefined
    let killTimer: ReturnType<typeof setTimeout> | undefined
    let signals = 0
    let nextId = 0
    const collections = new Map<number, {
      readonly waiting: Set<number>
      readonly snapshots: Array<WorkerMetrics.WorkerSnapshot>
      readonly reply: () => void
    }>()

    const send = (k: number, m: ToWorker) => {
      const child = slots[k]!.child
      // a worker that went away meanwhile is noticed by its exit
      if (child?.connected === true) child.send(m, () => {})
    }

    const spawn = (k: number) => {
      const slot = slots[k]!
      slot.timer = undefined
      slot.ready = false
      slot.startedAt = Date.now()
      const child = fork(script!, args, {
        execPath: execPath!,
        execArgv: process.execArgv,
        env: { ...process.env, WEIR_WORKER: String(k), WEIR_RESTARTED: "1" },
        serialization: "advanced",
        stdio: ["ignore", "inherit", "inherit", "ipc"]
      })
      slot.child = child
      child.on("message", (m: FromWorker) => onMessage(k, m))
      child.on("error", () => {})
      child.once("exit", (code, signal) => onExit(k, child, code, signal))
    }

    const onMessage = (k: number, m: FromWorker) => {
      switch (m.t) {
        case "hello":
          return send(k, { t: "start", worker: k, workers, text: options.text, ports })
        case "ready": {
          slots[k]!.ready = true
          if (k === 0 && ports === undefined) {
            ports = m.ports
            for (let j = 1; j < workers; j++) spawn(j)
          }
          if (!started && slots.every((s) => s.ready)) {
            started = true
            const scheme = config.admin.tls === undefined ? "http" : "https"
            log(
              `weir: ${workers} workers serving ${describe(config, ports!)}; admin on ${scheme}://${config.admin.ip}:${
                ports!.admin
              }/`
            )
          }
          return
        }
        case "shutdown":
          return stop(m.graceMs ?? graceMs, 0)
        case "collect":
          return collect(m.id)
        case "snapshot": {
          const c = collections.get(m.id)
          if (c === undefined || !c.waiting.delete(k)) return
          c.snapshots.push({ worker: k, snapshot: m.snapshot })
          if (c.waiting.size === 0) c.reply()
        }
      }
    }

    const collect = (requestId: number) => {
      const id = nextId++
      const waiting = new Set<number>()
      for (let k = 1; k < workers; k++) if (slots[k]!.ready && slots[k]!.child?.connected === true) waiting.add(k)
      const timer = setTimeout(() => reply(), collectTimeoutMs)
      const snapshots: Array<WorkerMetrics.WorkerSnapshot> = []
      const reply = () => {
        clearTimeout(timer)
        collections.delete(id)
        send(0, { t: "collected", id: requestId, snapshots })
      }
      collections.set(id, { waiting, snapshots, reply })
      if (waiting.size === 0) return reply()
      for (const k of waiting) send(k, { t: "collect", id })
    }

    const onExit = (k: number, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null) => {
      const slot = slots[k]!
      if (slot.child !== child) return
      slot.child = undefined
      for (const c of collections.values()) if (c.waiting.delete(k) && c.waiting.size === 0) c.reply()
      const how = signal !== null ? `signal ${signal}` : `code ${code}`
      if (stopping !== undefined) {
        if (slots.every((s) => s.child === undefined)) finish(stopping)
        return
      }
      if (!started && !slot.ready) {
        log(`weir: worker ${k} could not start (exited with ${how}); stopping`)
        return stop(graceMs, 1)
      }
      slot.ready = false
      slot.crashes = Date.now() - slot.startedAt < stableMs ? slot.crashes + 1 : 1
      const delay = Math.min(maxRestartMs, firstRestartMs * 2 ** (slot.crashes - 1))
      log(`weir: worker ${k} (pid ${child.pid}) exited with ${how}; starting it again in ${delay} ms`)
      slot.timer = setTimeout(() => spawn(k), delay)
    }

    const stop = (grace: number, code: number) => {
      if (stopping !== undefined) return
      stopping = code
      for (const s of slots) {
        if (s.timer !== undefined) clearTimeout(s.timer)
        s.timer = undefined
      }
      for (let k = 0; k < workers; k++) send(k, { t: "drain", graceMs: grace })
      for (const s of slots) if (s.child !== undefined && !s.child.connected) s.child.kill("SIGTERM")
      killTimer = setTimeout(() => {
        for (const s of slots) s.child?.kill("SIGKILL")
      }, grace + 5_000)
      if (slots.every((s) => s.child === undefined)) finish(code)
    }

    const finish = (code: number) => {
      if (killTimer !== undefined) clearTimeout(killTimer)
      process.off("SIGTERM", onSignal)
      process.off("SIGINT", onSignal)
      process.off("SIGHUP", onHangup)
      resume(Effect.succeed(code))
    }

    const onSignal = () => {
      signals++
      if (signals === 1) {
        log("weir: shutting down")
        return stop(graceMs, 0)
      }
      for (const s of slots) s.child?.kill("SIGKILL")
      process.exit(1)
    }
    const onHangup = () => {
      for (const s of slots) s.child?.kill("SIGHUP")
    }
    process.on("SIGTERM", onSignal)
    process.on("SIGINT", onSignal)
    process.on("SIGHUP", onHangup)
    spawn(0)
  })

/**
 * The router servers of a config with the ports worker `0` bound, for the primary's log line.
 *
 * @since 0.1.0
 * @category model
 */
export const describe = (config: Config.Config, ports: Ports): string =>
  config.routers.flatMap((r, i) => r.servers.map((s, j) => `${r.label} on ${s.ip}:${ports.servers[i]?.[j] ?? s.port}`))
    .join(", ")
