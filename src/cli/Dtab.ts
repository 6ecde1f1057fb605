/**
 * `weir dtab`: work with dtabs from the command line.
 *
 * - `weir dtab show TEXT` prints the dtab as Finagle shows it (`/a=>/b;/c=>/d`); on a syntax
 *   error it prints the positioned message and exits `1`.
 * - `weir dtab delegate --dtab TEXT PATH` prints the delegation tree of `PATH` as JSON (linkerd's
 *   `/delegator.json` shape) using the system namers (`/$/…`).
 * - `weir dtab delegate --config FILE [--router LABEL] [--dtab TEXT] PATH` also uses that config's
 *   namers, and binds under the router's dtab followed by `--dtab` (the router may be omitted when
 *   the config has only one).
 *
 * @since 0.1.0
 */
import { Argument, Command, Flag } from "effect/cli"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Namers from "../config/namer/index.js"
import * as Delegation from "../naming/Delegation.js"
import * as Dtab from "../naming/Dtab.js"
import * as Interpreter from "../naming/Interpreter.js"
import type * as Namer from "../naming/Namer.js"
import * as Path from "../naming/Path.js"
import * as ConfigModule from "../proxy/Config.js"
import { ExitCode, loadConfig } from "./ConfigFile.js"

const fail = (message: string): Effect.Effect<never, ExitCode> =>
  Effect.andThen(Console.error(message), Effect.fail(new ExitCode({ code: 1, message })))

const parseDtab = (text: string, what = "dtab"): Effect.Effect<Dtab.Dtab, ExitCode> => {
  const r = Dtab.parse(text)
  return Result.isSuccess(r) ? Effect.succeed(r.success) : fail(`Invalid ${what}: ${r.failure.message}`)
}

/**
 * What `weir dtab show TEXT` prints, or an `ExitCode` failure after printing the parse error.
 *
 * @since 0.1.0
 * @category commands
 */
export const showText = (text: string): Effect.Effect<string, ExitCode> => Effect.map(parseDtab(text), Dtab.show)

/**
 * Options of `delegateText`.
 *
 * @since 0.1.0
 * @category models
 */
export interface DelegateOptions {
  readonly path: string
  readonly dtab?: string | undefined
  readonly config?: string | undefined
  readonly router?: string | undefined
}

/**
 * What `weir dtab delegate` prints: the delegation tree as indented JSON.
 *
 * @since 0.1.0
 * @category commands
 */
export const delegateText = (options: DelegateOptions): Effect.Effect<string, ExitCode> =>
  Effect.scoped(Effect.gen(function*() {
    const pathResult = Path.parse(options.path)
    if (Result.isFailure(pathResult)) return yield* fail(`Invalid path: ${pathResult.failure.message}`)
    let dtab = options.dtab === undefined ? Dtab.empty : yield* parseDtab(options.dtab)
    const namers: Array<readonly [Path.Path, Namer.Namer]> = []
    if (options.config !== undefined) {
      const config = yield* loadConfig(options.config)
      const router = options.router === undefined
        ? (config.routers.length === 1 ? config.routers[0] : undefined)
        : config.routers.find((r) => r.label === options.router)
      if (router === undefined) {
        const labels = config.routers.map((r) => r.label).join(", ")
        return yield* fail(
          options.router === undefined
            ? `--router is required: ${options.config} has routers ${labels}`
            : `no router labelled ${options.router} in ${options.config} (routers: ${labels})`
        )
      }
      dtab = Dtab.concat(router.dtab, dtab)
      for (const [i, n] of config.namers.entries()) {
        const built = yield* Effect.result(Namers.build(n))
        if (Result.isFailure(built)) return yield* fail(`namers[${i}]: ${built.failure.message}`)
        for (const mount of ConfigModule.namerMounts(n)) namers.push([mount, built.success])
      }
    } else if (options.router !== undefined) {
      return yield* fail("--router needs --config")
    }
    const interpreter = yield* Interpreter.make({ namers })
    const tree = yield* Delegation.explain(interpreter, dtab, pathResult.success)
    return JSON.stringify(tree, null, 2)
  }))

const show = Command.make(
  "show",
  { text: Argument.String("dtab").pipe(Argument.withDescription("Dtab text, e.g. '/svc => /#/io.l5d.fs'")) },
  ({ text }) => Effect.flatMap(showText(text), Console.log)
).pipe(
  Command.withDescription("Print a dtab as Finagle shows it; exit 1 with the positioned error if it does not parse")
)

const delegate = Command.make(
  "delegate",
  {
    dtab: Flag.String("dtab").pipe(Flag.optional, Flag.withDescription("Dtab to bind under (after the router's)")),
    config: Flag.String("config").pipe(Flag.optional, Flag.withDescription("Proxy config whose namers to use")),
    router: Flag.String("router").pipe(Flag.optional, Flag.withDescription("Router label in --config")),
    path: Argument.String("path").pipe(Argument.withDescription("Logical name, e.g. /svc/users"))
  },
  (o) =>
    Effect.flatMap(
      delegateText({
        path: o.path,
        dtab: Option.getOrUndefined(o.dtab),
        config: Option.getOrUndefined(o.config),
        router: Option.getOrUndefined(o.router)
      }),
      Console.log
    )
).pipe(Command.withDescription("Print how a path resolves, as linkerd's /delegator.json"))

/**
 * The `dtab` subcommand with `show` and `delegate`.
 *
 * @since 0.1.0
 * @category commands
 */
export const dtab = Command.make("dtab").pipe(
  Command.withDescription("Show dtabs and explain delegation"),
  Command.withSubcommands([show, delegate])
)
