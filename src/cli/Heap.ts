/**
 * V8 heap settings for `weir proxy`. A proxy's live heap is small (about 26 MB with 1,000 open
 * connections, docs/benchmarks.md) but V8's defaults let the young generation and the old generation
 * grow to several times that between collections. As linkerd's launcher sets the JVM's heap options,
 * `weir proxy` starts itself again (`process.execve`: same process id, no parent left behind) with
 * {@link proxyFlags} ({@link h2ProxyFlags} when its config has an h2 router; with
 * {@link oneCpuFlags} when it can run on one CPU only) and one malloc arena
 * ({@link restartEnv}) — unless heap flags were already given (in the node command line or
 * `NODE_OPTIONS`), `WEIR_NODE_FLAGS` names other flags (empty: none), or the platform cannot replace
 * a process image (Windows).
 *
 * @since 0.1.0
 */
import * as fs from "node:fs"
import * as os from "node:os"

/**
 * The heap flags `weir proxy` runs with by default: a 2 MB semi-space (the young generation is
 * collected more often, in shorter pauses, and stays small: 4 MB of memory for both semi-spaces,
 * touched whole by any load) and a 512 MB old-space limit (about twenty times the live heap at
 * 1,000 connections). 2 MB instead of 4 took 5–6 MB off the peak RSS at 1,000 connections with the
 * same CPU time per request, at 50 and at 1,000 connections (docs/benchmarks.md, "Memory (RSS)").
 *
 * @since 0.1.0
 * @category constants
 */
export const proxyFlags: ReadonlyArray<string> = ["--max-semi-space-size=2", "--max-old-space-size=512"]

/**
 * The heap flags `weir proxy` runs with when its config has an h2 router: a 16 MB semi-space. Every
 * HTTP/2 stream allocates much more than an HTTP/1.1 request (node's stream objects and header
 * conversions on both sides, the trailers the response waits for), and a 100 streams in flight
 * outlive a small young generation: they are copied by every scavenge and promoted, and the garbage
 * collector took about a third of the proxy's time. 16 MB costs about 25 MB more RSS under load and
 * buys about 1.3–1.7× the streams per second (docs/benchmarks.md, `bench/h2`).
 *
 * @since 0.1.0
 * @category constants
 */
export const h2ProxyFlags: ReadonlyArray<string> = ["--max-semi-space-size=16", "--max-old-space-size=512"]

/**
 * Whether a config file's text has an h2 router (`protocol: h2`, in YAML or JSON). A look at the text
 * only, before the config is parsed, to choose the heap flags: a wrong answer costs only memory or speed.
 *
 * @since 0.1.0
 * @category re-exec
 */
export const hasH2Router = (text: string): boolean => /^[^#\n]*\bprotocol["']?\s*:\s*["']?h2\b/m.test(text)

/**
 * What `weir proxy` adds to its heap flags when it can run on one CPU only (its affinity, or its
 * cgroup's CPU limit, as `os.availableParallelism()` reports them): a garbage collector without
 * helper threads. Parallel scavenges and concurrent marking need cores to run beside the main
 * thread; on one, the helpers only take turns with it and add hand-overs (the JVM's ergonomics pick
 * its serial collector below two CPUs for the same reason). Pinned to one core, `bench/proxy/ab.sh`
 * measured about 2 % less CPU per request with it (docs/benchmarks.md).
 *
 * @since 0.1.0
 * @category constants
 */
export const oneCpuFlags: ReadonlyArray<string> = ["--single-threaded-gc"]

const heapFlag = /--(max-semi-space-size|max-old-space-size|max-young-generation-size|optimize-for-size)\b/

/**
 * The argument vector to restart `weir proxy` with, or `undefined` when it should run as it is.
 * `h2`: the config has an h2 router; `cpus`: the CPUs the process may use (one adds {@link oneCpuFlags}).
 *
 * @since 0.1.0
 * @category re-exec
 */
export const restartArgs = (
  argv: ReadonlyArray<string>,
  execArgv: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>,
  h2 = false,
  cpus = 2
): ReadonlyArray<string> | undefined => {
  if (argv[2] !== "proxy" || env["WEIR_RESTARTED"] === "1") return undefined
  if (execArgv.some((a) => heapFlag.test(a)) || heapFlag.test(env["NODE_OPTIONS"] ?? "")) return undefined
  const custom = env["WEIR_NODE_FLAGS"]
  const flags = custom === undefined
    ? [...(h2 ? h2ProxyFlags : proxyFlags), ...(cpus === 1 ? oneCpuFlags : [])]
    : custom.split(/\s+/).filter((f) => f.length > 0)
  if (flags.length === 0) return undefined
  return [argv[0]!, ...flags, ...execArgv, ...argv.slice(1)]
}

/**
 * The environment `weir proxy` restarts with: `MALLOC_ARENA_MAX=1` unless it is set already. glibc's
 * malloc gives each thread that allocates an arena of its own, and keeps what it freed there: V8's
 * helper threads (concurrent compilation and garbage collection) left about 8 MB in arenas of their
 * own at 1,000 connections; with one arena they reuse the main thread's free memory, with no cost in
 * throughput or CPU per request here (docs/benchmarks.md, "Memory (RSS)"). Other C libraries ignore it.
 *
 * @since 0.1.0
 * @category re-exec
 */
export const restartEnv = (env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> => ({
  ...env,
  MALLOC_ARENA_MAX: env["MALLOC_ARENA_MAX"] ?? "1",
  WEIR_RESTARTED: "1"
})

/** Whether the config file `weir proxy` was given has an h2 router (no for stdin or an unreadable file). */
const configHasH2 = (path: string | undefined): boolean => {
  if (path === undefined || path === "-") return false
  try {
    return hasH2Router(fs.readFileSync(path, "utf8"))
  } catch {
    return false
  }
}

/**
 * Replaces the current process with `weir proxy` under {@link proxyFlags} and {@link restartEnv}
 * when {@link restartArgs} says so; returns (doing nothing) otherwise.
 *
 * @since 0.1.0
 * @category re-exec
 */
export const restartWithHeapFlags = (): void => {
  const execve = (process as { execve?: (file: string, args: Array<string>, env: NodeJS.ProcessEnv) => never }).execve
  if (typeof execve !== "function" || process.platform === "win32") return
  const args = restartArgs(
    process.argv,
    process.execArgv,
    process.env,
    configHasH2(process.argv[3]),
    os.availableParallelism()
  )
  if (args === undefined) return
  execve.call(process, process.execPath, [...args], restartEnv(process.env))
}
