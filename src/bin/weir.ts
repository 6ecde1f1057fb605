#!/usr/bin/env node
import { restartWithHeapFlags } from "../cli/Heap.js"

restartWithHeapFlags()

// the modules themselves, not the package's index: that would load every platform module (Redis,
// WebSocket, HTTP client…) into the proxy's memory
const NodeRuntime = await import("@effect/platform-node/NodeRuntime")
const [, , command, config, ...rest] = process.argv
if (command === "proxy" && config !== undefined && (config === "-" || !config.startsWith("-")) && rest.length === 0) {
  // `weir proxy CONFIG`, the process that stays: run without the command-line framework and the
  // platform services only the other commands use (about 5 MB of memory, docs/benchmarks.md)
  const { runProxy } = await import("../cli/Proxy.js")
  NodeRuntime.runMain(runProxy(config))
} else {
  const NodeServices = await import("@effect/platform-node/NodeServices")
  const Effect = await import("effect/Effect")
  const { run } = await import("../cli/Main.js")
  run.pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
}
