#!/usr/bin/env node
import { restartWithHeapFlags } from "../cli/Heap.js"

restartWithHeapFlags()

// the modules themselves, not the package's index: that would load every platform module (Redis,
// WebSocket, HTTP client…) into the proxy's memory
const NodeRuntime = await import("@effect/platform-node/NodeRuntime")
const NodeServices = await import("@effect/platform-node/NodeServices")
const Effect = await import("effect/Effect")
const { run } = await import("../cli/Main.js")

run.pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
