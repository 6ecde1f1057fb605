/**
 * weir: Finagle's operational model for TypeScript on Effect 4.
 *
 * @since 0.1.0
 */
export * as Address from "./Address.js"
export * as Failure from "./Failure.js"
export * as Filter from "./Filter.js"
export * as Service from "./Service.js"
export * as Stack from "./Stack.js"
export * as Stats from "./Stats.js"
