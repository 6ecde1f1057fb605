/**
 * `weir/testing`: the kit for testing failure behaviour deterministically under `TestClock`.
 *
 * @since 0.1.0
 */
export {}
export * as Distribution from "./Distribution.js"
export * as LoadGen from "./LoadGen.js"
export * as Mock from "./Mock.js"
export * as Plot from "./Plot.js"
export * as Report from "./Report.js"
export * as Scenario from "./Scenario.js"
export * as SimEndpoint from "./SimEndpoint.js"
export * as Simulation from "./Simulation.js"
