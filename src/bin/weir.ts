#!/usr/bin/env node
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import { run } from "../cli/Main.js"

run.pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
