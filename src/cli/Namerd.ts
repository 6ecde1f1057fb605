/**
 * `weir namerd CONFIG`: runs namerd as a namerd config file describes (storage, namers, interfaces,
 * admin server). A config with problems is reported (every problem with its location) and the
 * command exits `1` without starting anything; so does a failure to start (the store unreachable,
 * a port in use). On `SIGTERM` or `SIGINT` it closes its interfaces and the store client and exits
 * `0`; a second signal exits at once with `1`.
 *
 * @since 0.1.0
 */
import { Argument, Command } from "effect/cli"
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as ClientConfig from "../config/Client.js"
import type * as NamerdConfig from "../namerd/Config.js"
import { ExitCode, invalidConfig, readConfigText } from "./ConfigFile.js"

/**
 * Reads and decodes a namerd config file; prints every problem and fails with `ExitCode` when there
 * is any.
 *
 * @since 0.1.0
 * @category loading
 */
export const loadNamerdConfig = (file: string): Effect.Effect<NamerdConfig.Config, ExitCode> =>
  Effect.gen(function*() {
    // loaded here, not with the CLI, so that `weir proxy` does not carry namerd (its stores, their
    // clients, its interfaces) in its memory
    const NamerdConfig = yield* Effect.promise(() => import("../namerd/Config.js"))
    const text = yield* readConfigText(file)
    const r = NamerdConfig.parse(text)
    if (Result.isFailure(r)) {
      return yield* invalidConfig(file, r.failure.length, ClientConfig.formatProblems(r.failure))
    }
    return r.success
  })

/**
 * Runs namerd from a config file until a signal, then ends the process with exit code `0`.
 *
 * @since 0.1.0
 * @category running
 */
export const runNamerd = (file: string): Effect.Effect<void, ExitCode> =>
  Effect.gen(function*() {
    const config = yield* loadNamerdConfig(file)
    const Namerd = yield* Effect.promise(() => import("../namerd/Namerd.js"))
    yield* Effect.scoped(Effect.gen(function*() {
      const signalled = yield* Deferred.make<NodeJS.Signals>()
      let signals = 0
      const onSignal = (signal: NodeJS.Signals) => {
        signals++
        if (signals > 1) process.exit(1)
        Deferred.doneUnsafe(signalled, Effect.succeed(signal))
      }
      yield* Effect.acquireRelease(
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
      const namerd = yield* Namerd.make(config).pipe(
        Effect.tapError((e) => Console.error(`${file}: cannot start\n${e.message}`)),
        Effect.mapError(() => new ExitCode({ code: 1, message: "cannot start" }))
      )
      const ifaces = namerd.interfaces.map((i) => `${i.kind} on http://${i.ip}:${i.port}/`)
      yield* Console.log(
        `namerd: storage ${namerd.store.kind}; serving ${
          ifaces.join(", ")
        }; admin on http://${namerd.admin.ip}:${namerd.admin.port}/`
      )
      yield* Deferred.await(signalled)
      yield* Console.log("namerd: shutting down")
    }))
    yield* Effect.sync(() => process.exit(0))
  }).pipe(Effect.uninterruptible)

/**
 * The `namerd` subcommand.
 *
 * @since 0.1.0
 * @category commands
 */
export const namerd = Command.make(
  "namerd",
  {
    config: Argument.String("config").pipe(
      Argument.withDescription("namerd config file (YAML or JSON), or - for stdin")
    )
  },
  ({ config }) => runNamerd(config)
).pipe(Command.withDescription("Run namerd: cluster-wide dtabs in a shared store, served to every linker"))
