/**
 * The `weir` command line: the root command and its subcommands. Each subcommand lives in its own
 * module under `src/cli/`; this module assembles them, and defines `proxy`'s command for `Proxy.ts`
 * (which stays free of the command-line framework, see there).
 *
 * @since 0.1.0
 */
import { Argument, Command } from "effect/cli"
import { version } from "../version.js"
import { check } from "./Check.js"
import { dtab } from "./Dtab.js"
import { namerctl } from "./Namerctl.js"
import { namerd } from "./Namerd.js"
import { runProxy } from "./Proxy.js"
import { command as simulate } from "./Simulate.js"

/**
 * The `proxy` subcommand (`Proxy.ts`, which is kept free of the command-line framework: `weir proxy
 * CONFIG` runs it directly, `src/bin/weir.ts`).
 *
 * @since 0.1.0
 * @category commands
 */
export const proxy = Command.make(
  "proxy",
  { config: Argument.String("config").pipe(Argument.withDescription("Config file (YAML or JSON), or - for stdin")) },
  ({ config }) => runProxy(config)
).pipe(Command.withDescription("Run the proxy described by a linkerd-1.x-style config file"))

/**
 * The root command.
 *
 * @since 0.1.0
 * @category commands
 */
export const root = Command.make("weir").pipe(
  Command.withDescription(
    "Resilient service proxy and resilience toolkit: Finagle's operational model (load balancing, " +
      "failure accrual, retry budgets, timeouts, dtab routing) for TypeScript on Effect."
  )
)

/**
 * The whole CLI with its subcommands.
 *
 * @since 0.1.0
 * @category commands
 */
export const weir = root.pipe(
  Command.withSubcommands([proxy, check, simulate, dtab, namerd, namerctl])
)

/**
 * Runs the CLI on `process.argv`-style arguments.
 *
 * @since 0.1.0
 * @category running
 */
export const run = Command.run(weir, { version })
