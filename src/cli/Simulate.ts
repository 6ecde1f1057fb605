/**
 * `weir simulate SCENARIO [--json] [--plot FILE.svg] [--compare] [--variant NAME…]`: runs a simulation scenario (YAML or JSON, see
 * `weir/testing` `Scenario`) in simulated time and prints a table per variant, or with `--json` the
 * report as JSON; `--plot` also writes the latency-versus-percentile curves of every variant to an
 * SVG file. A bad scenario (unknown key, impossible distribution, unknown kind) is reported with the
 * location of each problem and exit code 1.
 *
 * @since 0.1.0
 */
import { Argument, Command, Flag } from "effect/cli"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import { writeFile } from "node:fs/promises"
import type * as Report from "../testing/Report.js"
import { ExitCode, readConfigText } from "./ConfigFile.js"

/**
 * Options of `simulate`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  readonly json: boolean
  readonly plot: string | undefined
  /** Also print each variant against the first (success difference, tail-latency and load ratios). */
  readonly compare?: boolean | undefined
  /** Run only these variants (by name; `default` for a scenario without variants). All when empty. */
  readonly variants?: ReadonlyArray<string> | undefined
}

const failWith = (message: string) =>
  Effect.andThen(Console.error(message), Effect.fail(new ExitCode({ code: 1, message })))

/**
 * Runs the scenario in `file` and prints the report; fails with `ExitCode` (after printing why) for
 * an unreadable or invalid scenario or a variant that cannot run.
 *
 * @since 0.1.0
 * @category running
 */
export const simulate = (file: string, options: Options): Effect.Effect<Report.Report, ExitCode> =>
  Effect.gen(function*() {
    // loaded here, not with the CLI, so that `weir proxy` does not carry the simulator in its memory
    const [Plot, Report, Scenario, Simulation] = yield* Effect.promise(() =>
      Promise.all([
        import("../testing/Plot.js"),
        import("../testing/Report.js"),
        import("../testing/Scenario.js"),
        import("../testing/Simulation.js")
      ])
    )
    const text = yield* readConfigText(file)
    const scenario = Scenario.parse(text, file)
    if (Result.isFailure(scenario)) return yield* failWith(scenario.failure.message)
    const outcome = yield* Simulation.run(scenario.success, { only: options.variants }).pipe(
      Effect.catchTag("SimulationError", (e) => failWith(`${file}: ${e.message}`))
    )
    yield* Console.log(options.json ? Report.toJson(outcome.report) : Report.toTable(outcome.report))
    if (options.compare === true && !options.json) yield* Console.log("\n" + Report.toComparison(outcome.report))
    if (options.plot !== undefined) {
      const path = options.plot
      const svg = Plot.svg(outcome.latencies, { title: file.replace(/^.*\//, "") })
      yield* Effect.tryPromise({
        try: () => writeFile(path, svg),
        catch: (e) => new ExitCode({ code: 1, message: `cannot write ${path}: ${e instanceof Error ? e.message : e}` })
      }).pipe(Effect.tapError((e) => Console.error(e.message)))
    }
    return outcome.report
  })

/**
 * The `simulate` subcommand.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "simulate",
  {
    scenario: Argument.String("scenario").pipe(
      Argument.withDescription("Scenario file (YAML or JSON), or - for stdin")
    ),
    json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("Print the report as JSON")),
    plot: Flag.String("plot").pipe(
      Flag.optional,
      Flag.withDescription("Also write latency-versus-percentile curves of every variant to this SVG file")
    ),
    compare: Flag.Boolean("compare").pipe(
      Flag.withDefault(false),
      Flag.withDescription("Also print every variant against the first: success difference, p99/p99.9 and load ratios")
    ),
    variant: Flag.String("variant").pipe(
      Flag.atLeast(0),
      Flag.withDescription("Run only this variant (repeatable; `default` for a scenario without variants)")
    )
  },
  ({ compare, json, plot, scenario, variant }) =>
    Effect.asVoid(simulate(scenario, { json, plot: Option.getOrUndefined(plot), compare, variants: variant }))
).pipe(
  Command.withDescription(
    "Run a failure scenario in simulated time (seeded, deterministic) and report success rate, retries, " +
      "latency percentiles and per-endpoint load for each variant"
  )
)
