/**
 * `weir check CONFIG`: decodes and validates a proxy config without starting anything. Exits `0`
 * and prints `ok`, or exits `1` listing every problem with its location, one per line
 * (`routers[1].client.loadBalancer.kind: unknown kind "rr" (expected one of: p2c, ewma, …)`).
 *
 * @since 0.1.0
 */
import { Argument, Command } from "effect/cli"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { loadConfig } from "./ConfigFile.js"

/**
 * The `check` subcommand.
 *
 * @since 0.1.0
 * @category commands
 */
export const check = Command.make(
  "check",
  { config: Argument.String("config").pipe(Argument.withDescription("Config file (YAML or JSON), or - for stdin")) },
  ({ config }) => loadConfig(config).pipe(Effect.andThen(Console.log(`${config}: ok`)))
).pipe(
  Command.withDescription("Validate a proxy config without starting it; lists every problem with its location")
)
