/**
 * What every `weir` subcommand that takes a config file shares: reading it (`-` for stdin), decoding
 * and validating a proxy config with every problem printed, and the error that ends the command with
 * a non-zero exit code. Free of the command-line framework, so that `weir proxy` can run without it
 * (`src/bin/weir.ts`).
 *
 * @since 0.1.0
 */
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Runtime from "effect/Runtime"
import { readFile } from "node:fs/promises"
import * as Problems from "../config/Problems.js"
import type * as Config from "../proxy/Config.js"
import * as Validate from "../proxy/Validate.js"

/**
 * Ends the command with a non-zero exit code; what went wrong has already been printed.
 *
 * @since 0.1.0
 * @category errors
 */
export class ExitCode extends Data.TaggedError("ExitCode")<{ readonly code: number; readonly message: string }> {
  override readonly [Runtime.errorExitCode] = 1
  override readonly [Runtime.errorReported] = false
}

/**
 * Reads a config file (`-` for stdin) as text.
 *
 * @since 0.1.0
 * @category loading
 */
export const readConfigText = (file: string): Effect.Effect<string, ExitCode> =>
  Effect.tryPromise({
    try: async () => {
      if (file !== "-") return readFile(file, "utf8")
      const chunks: Array<Buffer> = []
      for await (const c of process.stdin) chunks.push(c as Buffer)
      return Buffer.concat(chunks).toString("utf8")
    },
    catch: (e) =>
      new ExitCode({ code: 1, message: `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}` })
  }).pipe(Effect.tapError((e) => Console.error(e.message)))

/**
 * Reads, decodes and validates a config file; prints every problem and fails with `ExitCode` when
 * there is any.
 *
 * @since 0.1.0
 * @category loading
 */
export const loadConfig = (file: string): Effect.Effect<Config.Config, ExitCode> =>
  Effect.flatMap(readConfigText(file), (text) => checkConfig(file, text))

/**
 * Decodes and validates the text of proxy config `file`, every problem printed if there is any.
 *
 * @since 0.1.0
 * @category loading
 */
export const checkConfig = (file: string, text: string): Effect.Effect<Config.Config, ExitCode> => {
  const r = Validate.check(text)
  return Result.isFailure(r)
    ? invalidConfig(file, r.failure.length, Problems.formatProblems(r.failure))
    : Effect.succeed(r.success)
}

/**
 * Prints a config file's problems (`count` of them, already `formatted`) and ends the command.
 *
 * @since 0.1.0
 * @category loading
 */
export const invalidConfig = (file: string, count: number, formatted: string): Effect.Effect<never, ExitCode> =>
  Console.error(`${file}: ${count} problem${count === 1 ? "" : "s"}\n${formatted}`).pipe(
    Effect.andThen(Effect.fail(new ExitCode({ code: 1, message: "invalid config" })))
  )
