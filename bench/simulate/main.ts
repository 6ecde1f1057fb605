/**
 * Simulator speed: wall time of simulated scenarios. Run with `npm run bench:simulate`.
 *
 * For each scenario in examples/simulations/ and each of its variants, prints the number of requests,
 * the simulated duration, the wall time and the simulated requests per wall second. Each variant runs
 * once to warm up and then `RUNS` times (default 3); the median is reported.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { readFileSync } from "node:fs"
import * as Scenario from "../../src/testing/Scenario.js"
import * as Simulation from "../../src/testing/Simulation.js"

const runs = Number(process.env["RUNS"] ?? 3)
const files = process.argv.length > 2 ? process.argv.slice(2) : [
  "examples/simulations/beyond-round-robin.yaml",
  "examples/simulations/circuit-breaking.yaml",
  "examples/simulations/retry-storm-100.yaml"
]

const rows: Array<Array<string>> = [[
  "scenario",
  "variant",
  "requests",
  "simulated s",
  "wall ms (median)",
  "requests/s"
]]
for (const file of files) {
  const scenario = Scenario.parse(readFileSync(file, "utf8"), file)
  if (Result.isFailure(scenario)) throw new Error(scenario.failure.message)
  for (const v of Scenario.variants(scenario.success)) {
    const times: Array<number> = []
    let requests = 0
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now()
      const outcome = await Effect.runPromise(Simulation.runVariant(scenario.success, v.name, v.client))
      const t = performance.now() - t0
      requests = outcome.report.requests
      if (i > 0) times.push(t)
    }
    times.sort((a, b) => a - b)
    const median = times[Math.floor(times.length / 2)]!
    rows.push([
      file.replace(/^.*\//, ""),
      v.name,
      String(requests),
      String(Duration.toSeconds(scenario.success.durationMs)),
      median.toFixed(0),
      (requests / (median / 1000)).toFixed(0)
    ])
  }
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
for (const r of rows) console.log(r.map((c, i) => i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)).join("  "))
console.log(`node ${process.version}, ${runs} runs after 1 warm-up`)
