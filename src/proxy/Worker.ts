/**
 * One worker process of a proxy with `workers: N` (`Workers.ts` is the primary's side): it asks the
 * primary for the config, runs it as a whole proxy (`Linker`) with the ports worker `0` bound, and
 * reports when it serves. It answers the primary's requests for its metrics; worker `0`, whose admin
 * server reports every worker's, gathers the others' through the primary before a metrics endpoint
 * answers (and every few seconds, for the telemeters that push). `POST /admin/shutdown` is passed to
 * the primary, which drains every worker. A worker drains when the primary says so, on `SIGTERM`
 * (then the primary starts it again), or when the primary is gone; it leaves `SIGINT` (a terminal's
 * Ctrl-C) to the primary.
 *
 * @since 0.1.0
 */
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Problems from "../config/Problems.js"
import type * as Metrics from "../telemetry/Metrics.js"
import * as WorkerMetrics from "../telemetry/WorkerMetrics.js"
import * as Linker from "./Linker.js"
import * as Validate from "./Validate.js"
import * as Workers from "./Workers.js"

/**
 * Whether this process is a worker started by `Workers.supervise`.
 *
 * @since 0.1.0
 * @category model
 */
export const isWorker = (): boolean => process.env["WEIR_WORKER"] !== undefined && process.send !== undefined

const send = (m: Workers.FromWorker): void => {
  if (process.connected) process.send!(m, undefined, {}, () => {})
}

const refreshEveryMs = 5_000
const refreshTimeoutMs = 3_000

/**
 * The metrics hooks of worker `0`: its exporter reports every worker's metrics (`WorkerMetrics`),
 * the others' as last gathered through the primary.
 */
const gathering = (capture: (local: Metrics.Exporter) => void) => {
  let others: ReadonlyArray<WorkerMetrics.WorkerSnapshot> = []
  let nextId = 0
  const waiting = new Map<number, () => void>()
  const onCollected = (id: number, snapshots: ReadonlyArray<WorkerMetrics.WorkerSnapshot>) => {
    others = snapshots
    const done = waiting.get(id)
    waiting.delete(id)
    done?.()
  }
  const refresh = (): Promise<void> =>
    new Promise((resolve) => {
      const id = nextId++
      const timer = setTimeout(() => {
        waiting.delete(id)
        resolve()
      }, refreshTimeoutMs)
      waiting.set(id, () => {
        clearTimeout(timer)
        resolve()
      })
      send({ t: "collect", id })
    })
  const exporter = (local: Metrics.Exporter): Metrics.Exporter => {
    capture(local)
    return {
      registry: local.registry,
      roll: local.roll,
      snapshot: () => WorkerMetrics.combine([{ worker: 0, snapshot: local.snapshot() }, ...others])
    }
  }
  return { hooks: { exporter, refresh }, onCollected }
}

/**
 * Runs this worker until it is drained; completes with the exit code (`1` when it cannot start).
 *
 * @since 0.1.0
 * @category running
 */
export const run: Effect.Effect<number> = Effect.scoped(Effect.gen(function*() {
  const start = yield* Deferred.make<Extract<Workers.ToWorker, { t: "start" }>>()
  const drained = yield* Deferred.make<Duration.Duration>()
  let local: Metrics.Exporter | undefined
  let onCollected: (id: number, s: ReadonlyArray<WorkerMetrics.WorkerSnapshot>) => void = () => {}
  const onMessage = (m: Workers.ToWorker) => {
    switch (m.t) {
      case "start":
        return Deferred.doneUnsafe(start, Effect.succeed(m))
      case "drain":
        return Deferred.doneUnsafe(drained, Effect.succeed(Duration.millis(m.graceMs)))
      case "collect":
        if (local !== undefined) send({ t: "snapshot", id: m.id, snapshot: local.snapshot() })
        return
      case "collected":
        return onCollected(m.id, m.snapshots)
    }
  }
  const onSigterm = () => Deferred.doneUnsafe(drained, Effect.succeed(Duration.seconds(10)))
  const onDisconnect = () => Deferred.doneUnsafe(drained, Effect.succeed(Duration.seconds(10)))
  const ignore = () => {}
  yield* Effect.acquireRelease(
    Effect.sync(() => {
      process.on("message", onMessage)
      process.on("SIGTERM", onSigterm)
      process.on("SIGINT", ignore)
      process.on("disconnect", onDisconnect)
    }),
    () =>
      Effect.sync(() => {
        process.off("message", onMessage)
        process.off("SIGTERM", onSigterm)
        process.off("SIGINT", ignore)
        process.off("disconnect", onDisconnect)
      })
  )
  send({ t: "hello" })
  const { worker, workers, text, ports } = yield* Deferred.await(start)
  const checked = Validate.check(text)
  if (Result.isFailure(checked)) {
    yield* Console.error(`weir: worker ${worker}: invalid config\n${Problems.formatProblems(checked.failure)}`)
    return 1
  }
  const config = Workers.forWorker(checked.success, worker, ports)
  const capture = (l: Metrics.Exporter) => {
    local = l
  }
  const metrics = worker === 0 && workers > 1
    ? gathering(capture)
    : { hooks: { exporter: (l: Metrics.Exporter) => (capture(l), l), refresh: () => Promise.resolve() } }
  if ("onCollected" in metrics) onCollected = metrics.onCollected
  const started = yield* Effect.result(Linker.make(config, { metrics: metrics.hooks }))
  if (Result.isFailure(started)) {
    yield* Console.error(`weir: worker ${worker}: cannot start\n${started.failure.message}`)
    return 1
  }
  const linker = started.success
  yield* Effect.acquireRelease(
    Effect.sync(() => {
      const reload = () =>
        Effect.runFork(linker.reloadTls.pipe(Effect.matchEffect({
          onFailure: (e) =>
            Console.error(`weir: worker ${worker}: SIGHUP: some TLS files were not reloaded\n${e.message}`),
          onSuccess: () => Console.log(`weir: worker ${worker}: SIGHUP: TLS files reloaded`)
        })))
      process.on("SIGHUP", reload)
      const timer = worker === 0 && workers > 1
        ? setInterval(() => void metrics.hooks.refresh(), refreshEveryMs)
        : undefined
      timer?.unref()
      return () => {
        process.off("SIGHUP", reload)
        if (timer !== undefined) clearInterval(timer)
      }
    }),
    (stop) => Effect.sync(stop)
  )
  send({
    t: "ready",
    ports: { servers: linker.routers.map((r) => r.servers.map((s) => s.port)), admin: linker.admin.port }
  })
  // a shutdown asked of this worker's admin server is the primary's to carry out, for every worker
  yield* Effect.forkScoped(Effect.flatMap(linker.shutdownRequested, (grace) =>
    Effect.sync(() => {
      if (process.connected) send({ t: "shutdown", graceMs: Duration.toMillis(grace) })
      else Deferred.doneUnsafe(drained, Effect.succeed(grace))
    })))
  const grace = yield* Deferred.await(drained)
  yield* linker.drain(grace)
  return 0
}))
