import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as Scenario from "../../src/testing/Scenario.js"
import * as Simulation from "../../src/testing/Simulation.js"

export const examplePath = (name: string): string =>
  fileURLToPath(new URL(`../../examples/simulations/${name}`, import.meta.url))

export const loadExample = (name: string): Scenario.Scenario => {
  const r = Scenario.parse(readFileSync(examplePath(name), "utf8"), name)
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

export const decodeOrThrow = (input: unknown): Scenario.Scenario => {
  const r = Scenario.decode(input)
  if (Result.isFailure(r)) throw new Error(r.failure.message)
  return r.success
}

/** Runs an example scenario and returns its report's variants by name. */
export const runExample = (name: string) =>
  Effect.map(Simulation.run(loadExample(name)), (o) => new Map(o.report.variants.map((v) => [v.name, v])))
