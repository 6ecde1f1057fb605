/**
 * `weir proxy CONFIG`: runs the proxy a config file describes (routers, namers, admin server).
 *
 * A config with problems is reported (every problem with its location) and the command exits `1`
 * without starting anything; so does a failure to start (a port in use), after closing whatever had
 * started. On `SIGTERM`, `SIGINT` or `POST /admin/shutdown` the proxy stops accepting, lets requests
 * in flight finish within the grace period (`admin.shutdownGraceMs`, default 10 s, or the request's
 * `?grace=`) and exits `0`. A second signal exits at once with `1`. `SIGHUP` reads every TLS
 * certificate, key and CA file again (new connections use them; one that cannot be used keeps its
 * predecessor and is reported).
 *
 * With `workers: N` (or `auto`) this process starts N worker processes, each a whole proxy on the
 * same ports, and supervises them (`proxy/Workers.ts`); the signals above apply to all of them.
 *
 * The module stays free of the command-line framework: `weir proxy CONFIG` runs {@link runProxy}
 * without loading it (`src/bin/weir.ts`); the `proxy` command itself is defined in `Main.ts`.
 *
 * @since 0.1.0
 */
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Linker from "../proxy/Linker.js"
import * as Worker from "../proxy/Worker.js"
import * as Workers from "../proxy/Workers.js"
import { checkConfig, ExitCode, readConfigText } from "./ConfigFile.js"

const onSignals = (onSignal: (signal: NodeJS.Signals) => void): Effect.Effect<void, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      process.on("SIGTERM", onSignal)
      process.on("SIGINT", onSignal)
    }),
    () =>
      Effect.sync(() => {
        process.off("SIGTERM", onSignal)
        process.off("SIGINT", onSignal)
      })
  )

const onHangup = (reload: () => void): Effect.Effect<void, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => process.on("SIGHUP", reload)),
    () => Effect.sync(() => process.off("SIGHUP", reload))
  )

/**
 * Runs the proxy of a config file until it is shut down, then ends the process with exit code `0`.
 *
 * @since 0.1.0
 * @category running
 */
export const runProxy = (file: string): Effect.Effect<void, ExitCode> =>
  Effect.gen(function*() {
    if (Worker.isWorker()) {
      const code = yield* Worker.run
      return yield* Effect.sync(() => process.exit(code))
    }
    const text = yield* readConfigText(file)
    const config = yield* checkConfig(file, text)
    const workers = Workers.count(config.workers)
    if (workers > 1) {
      const code = yield* Workers.supervise({ text, config, workers, log: (line) => console.log(line) })
      if (code !== 0) yield* Console.error(`${file}: cannot start`)
      return yield* Effect.sync(() => process.exit(code))
    }
    yield* Effect.scoped(Effect.gen(function*() {
      const signalled = yield* Deferred.make<NodeJS.Signals>()
      let signals = 0
      yield* onSignals((signal) => {
        signals++
        if (signals > 1) process.exit(1)
        Deferred.doneUnsafe(signalled, Effect.succeed(signal))
      })
      const linker = yield* Linker.make(config).pipe(
        Effect.tapError((e) => Console.error(`${file}: cannot start\n${e.message}`)),
        Effect.mapError(() => new ExitCode({ code: 1, message: "cannot start" }))
      )
      yield* onHangup(() =>
        Effect.runFork(linker.reloadTls.pipe(Effect.matchEffect({
          onFailure: (e) => Console.error(`weir: SIGHUP: some TLS files were not reloaded\n${e.message}`),
          onSuccess: () => Console.log("weir: SIGHUP: TLS files reloaded")
        })))
      )
      const addresses = linker.routers.flatMap((r) => r.servers.map((s) => `${r.label} on ${s.ip}:${s.port}`))
      yield* Console.log(
        `weir: serving ${addresses.join(", ")}; admin on ${
          config.admin.tls === undefined ? "http" : "https"
        }://${linker.admin.ip}:${linker.admin.port}/`
      )
      const grace: Duration.Duration = yield* Effect.raceFirst(
        linker.shutdownRequested,
        Effect.map(Deferred.await(signalled), () => config.admin.shutdownGraceMs)
      )
      yield* Console.log("weir: shutting down")
      yield* linker.drain(grace)
    }))
    yield* Effect.sync(() => process.exit(0))
  }).pipe(Effect.uninterruptible)
