/**
 * The one entry point that says whether a config can run here: `check(text)` decodes it
 * (`Config.parse`: every problem of the document, plugin kinds this version does not run and
 * conflicts between entries included) and then checks it against this machine (an `io.l5d.fs`
 * `rootDir` that is not a directory). `weir check` and the proxy's startup use it; every problem
 * comes back in one list, each with its location.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as fs from "node:fs"
import * as Config from "./Config.js"

/**
 * Problems of a config on this machine: an `io.l5d.fs` `rootDir` that is not a directory (relative
 * paths are resolved against the working directory).
 *
 * @since 0.1.0
 * @category validation
 */
export const checkEnvironment = (config: Config.Config): Array<Config.Problem> => {
  const problems: Array<Config.Problem> = []
  config.namers.forEach((n, i) => {
    if (n.kind !== "io.l5d.fs") return
    let ok = false
    try {
      ok = fs.statSync(n.rootDir).isDirectory()
    } catch {
      ok = false
    }
    if (!ok) problems.push({ path: `namers[${i}].rootDir`, message: `${n.rootDir} is not a directory` })
  })
  return problems
}

/**
 * Every problem of a decoded (or hand-built) config that keeps it from running here: conflicts
 * between entries (`Config.conflicts`) and this machine's (`checkEnvironment`).
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (config: Config.Config): Array<Config.Problem> => [
  ...Config.conflicts(config),
  ...checkEnvironment(config)
]

/**
 * Decodes and checks config text (YAML or JSON): every problem, each with its location, or the
 * config ready to run.
 *
 * @since 0.1.0
 * @category validation
 */
export const check = (text: string): Result.Result<Config.Config, Array<Config.Problem>> => {
  const decoded = Config.parse(text)
  if (Result.isFailure(decoded)) return decoded
  const problems = checkEnvironment(decoded.success)
  return problems.length > 0 ? Result.fail(problems) : decoded
}
