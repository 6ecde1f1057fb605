/**
 * The `weir` command line: the root command and its subcommands. Each subcommand lives in its own
 * module under `src/cli/`; this module only assembles them.
 *
 * @since 0.1.0
 */
import { Command } from "effect/cli"
import { version } from "../version.js"
import { check } from "./Check.js"
import { dtab } from "./Dtab.js"
import { namerctl } from "./Namerctl.js"
import { namerd } from "./Namerd.js"
import { proxy } from "./Proxy.js"
import { command as simulate } from "./Simulate.js"

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
