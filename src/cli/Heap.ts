/**
 * V8 heap settings for `weir proxy`. A proxy's live heap is small (about 26 MB with 1,000 open
 * connections, docs/benchmarks.md) but V8's defaults let the young generation and the old generation
 * grow to several times that between collections. As linkerd's launcher sets the JVM's heap options,
 * `weir proxy` starts itself again (`process.execve`: same process id, no parent left behind) with
 * {@link proxyFlags} — unless heap flags were already given (in the node command line or
 * `NODE_OPTIONS`), `WEIR_NODE_FLAGS` names other flags (empty: none), or the platform cannot replace
 * a process image (Windows).
 *
 * @since 0.1.0
 */

/**
 * The heap flags `weir proxy` runs with by default: a 4 MB semi-space (the young generation is
 * collected more often, in shorter pauses, and stays small) and a 512 MB old-space limit (about
 * twenty times the live heap at 1,000 connections).
 *
 * @since 0.1.0
 * @category constants
 */
export const proxyFlags: ReadonlyArray<string> = ["--max-semi-space-size=4", "--max-old-space-size=512"]

const heapFlag = /--(max-semi-space-size|max-old-space-size|max-young-generation-size|optimize-for-size)\b/

/**
 * The argument vector to restart `weir proxy` with, or `undefined` when it should run as it is.
 *
 * @since 0.1.0
 * @category re-exec
 */
export const restartArgs = (
  argv: ReadonlyArray<string>,
  execArgv: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>
): ReadonlyArray<string> | undefined => {
  if (argv[2] !== "proxy" || env["WEIR_RESTARTED"] === "1") return undefined
  if (execArgv.some((a) => heapFlag.test(a)) || heapFlag.test(env["NODE_OPTIONS"] ?? "")) return undefined
  const custom = env["WEIR_NODE_FLAGS"]
  const flags = custom === undefined ? proxyFlags : custom.split(/\s+/).filter((f) => f.length > 0)
  if (flags.length === 0) return undefined
  return [argv[0]!, ...flags, ...execArgv, ...argv.slice(1)]
}

/**
 * Replaces the current process with `weir proxy` under {@link proxyFlags} when {@link restartArgs}
 * says so; returns (doing nothing) otherwise.
 *
 * @since 0.1.0
 * @category re-exec
 */
export const restartWithHeapFlags = (): void => {
  const execve = (process as { execve?: (file: string, args: Array<string>, env: NodeJS.ProcessEnv) => never }).execve
  if (typeof execve !== "function" || process.platform === "win32") return
  const args = restartArgs(process.argv, process.execArgv, process.env)
  if (args === undefined) return
  execve.call(process, process.execPath, [...args], { ...process.env, WEIR_RESTARTED: "1" })
}
