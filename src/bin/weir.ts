#!/usr/bin/env node
import { restartWithHeapFlags } from "../cli/Heap.js"

restartWithHeapFlags()

const { NodeRuntime, NodeServices } = await import("@effect/platform-node")
const Effect = await import("effect/Effect")
const { run } = await import("../cli/Main.js")

run.pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
