/**
 * Load balancers. A balancer turns a stream of address sets (what a namer yields) and an endpoint
 * factory (the per-endpoint stack: connection, failure accrual, per-attempt timeout) into one
 * `Service` in a `Scope`:
 *
 * - Endpoints are keyed by `Address.key`: an address that stays keeps its endpoint and load state,
 *   a changed weight is updated in place. New addresses get an endpoint in a child scope; removed
 *   ones get no new requests, finish those in flight, then their scope closes.
 * - Each request picks a node with the algorithm; nodes that are not `Open` are skipped for up to
 *   `maxEffort` picks (default 5, as linkerd), then the last pick is used anyway (panic mode,
 *   counter `panicked`): the balancer fails open rather than refusing locally.
 * - An empty set fails with `NoBrokersAvailable` (not retryable). Before the first set arrives,
 *   requests wait for it; with `bindingTimeout` they fail with `RequestTimeout` (`binding`) instead.
 * - Status is the best of the nodes' statuses (`Closed` when empty, `Busy` before the first set).
 * - Stats under `loadbalancer/`: gauges `size`, `available`, `busy`, `closed`, `load`; counters
 *   `panicked`, `adds`, `removes`, `updates` (address sets received), `rebuilds`.
 * - Time and randomness come from Effect's `Clock` and `Random`, read when the balancer is built, so
 *   `TestClock` and `Random.withSeed` make every pick reproducible.
 *
 * Algorithms, by linkerd's `loadBalancer.kind`: `roundRobin` (`RoundRobin`), `p2c` (`P2C`, the
 * default), `ewma` (`P2CEwma`), `heap` (`Heap`), `aperture` (`Aperture`). Each module has a
 * `layer(options)` supplying the `Balancer.Factory` param that clients read when they build;
 * `fromKind` picks one from plain config. Source: Finagle's load balancer guide and
 * `finagle-core/.../loadbalancer`.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { Address } from "../Address.js"
import type { Service } from "../Service.js"
import * as Aperture from "./Aperture.js"
import * as Engine from "./Engine.js"
import * as Heap from "./Heap.js"
import * as P2C from "./P2C.js"
import * as P2CEwma from "./P2CEwma.js"
import * as RoundRobin from "./RoundRobin.js"

/**
 * A balanced service (see `Engine.Balanced`).
 *
 * @since 0.1.0
 * @category model
 */
export type Balanced<Req, Rep, E = never, R = never> = Engine.Balanced<Req, Rep, E, R>

/**
 * Options for one balancer instance: `label` (for `NoBrokersAvailable`), `bindingTimeout`, `stats`.
 *
 * @since 0.1.0
 * @category model
 */
export type Options = Engine.Options

/**
 * What a balancer reports about one node.
 *
 * @since 0.1.0
 * @category model
 */
export type NodeInfo = Engine.NodeInfo

/**
 * Builds balancers of one kind (`kind` + `make(addresses, endpoint, options)`).
 *
 * @since 0.1.0
 * @category model
 */
export type Factory = Engine.Factory

/**
 * The balancer kind clients build with (a `Context.Reference`). Defaults to `p2c` with
 * `maxEffort` 5, linkerd's default.
 *
 * @since 0.1.0
 * @category params
 */
export const Factory = Engine.Factory

/**
 * Builds a balancer with the kind in the `Factory` param.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <Req, Rep, E, R, EA = never, RA = never, RE = never>(
  addresses: Stream.Stream<ReadonlyArray<Address>, EA, RA>,
  endpoint: (address: Address) => Effect.Effect<Service<Req, Rep, E, R>, never, Scope.Scope | RE>,
  options?: Options
): Effect.Effect<Balanced<Req, Rep, E, R>, never, Scope.Scope | RA | RE> =>
  Effect.flatMap(Effect.service(Factory), (factory) => factory.make(addresses, endpoint, options))

/**
 * A layer supplying the `Factory` param.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (factory: Factory) => Layer.Layer<never> = Engine.layer

/**
 * Plain-object balancer config, by linkerd's `loadBalancer.kind`, with linkerd's keys and units.
 * Defaults: `maxEffort` 5; `decayTimeMs` 10000; `smoothWindowMs` 5000, `lowLoad` 0.5,
 * `highLoad` 2.0, `minAperture` 1.
 *
 * @since 0.1.0
 * @category config
 */
export type Config =
  | { readonly kind: "roundRobin"; readonly maxEffort?: number | undefined }
  | { readonly kind: "p2c"; readonly maxEffort?: number | undefined }
  | { readonly kind: "ewma"; readonly maxEffort?: number | undefined; readonly decayTimeMs?: number | undefined }
  | { readonly kind: "heap"; readonly maxEffort?: number | undefined }
  | {
    readonly kind: "aperture"
    readonly maxEffort?: number | undefined
    readonly smoothWindowMs?: number | undefined
    readonly lowLoad?: number | undefined
    readonly highLoad?: number | undefined
    readonly minAperture?: number | undefined
  }

/**
 * The kinds `fromKind` accepts.
 *
 * @since 0.1.0
 * @category config
 */
export const kinds: ReadonlyArray<Config["kind"]> = ["roundRobin", "p2c", "ewma", "heap", "aperture"]

/**
 * A balancer config that cannot be built: `path` names the offending key (relative to the
 * `loadBalancer` object, e.g. `kind` or `decayTimeMs`).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidConfig extends Data.TaggedError("InvalidConfig")<{
  readonly path: string
  readonly detail: string
}> {
  override get message(): string {
    return `loadBalancer.${this.path}: ${this.detail}`
  }
}

const allowedKeys: Record<Config["kind"], ReadonlyArray<string>> = {
  roundRobin: ["kind", "maxEffort"],
  p2c: ["kind", "maxEffort"],
  ewma: ["kind", "maxEffort", "decayTimeMs"],
  heap: ["kind", "maxEffort"],
  aperture: ["kind", "maxEffort", "smoothWindowMs", "lowLoad", "highLoad", "minAperture"]
}

const check = (config: Record<string, unknown>): InvalidConfig | undefined => {
  const kind = config["kind"]
  if (typeof kind !== "string" || !(kinds as ReadonlyArray<string>).includes(kind)) {
    return new InvalidConfig({
      path: "kind",
      detail: `expected one of ${kinds.join(", ")}, got ${JSON.stringify(kind)}`
    })
  }
  const allowed = allowedKeys[kind as Config["kind"]]
  for (const key of Object.keys(config)) {
    if (!allowed.includes(key)) {
      return new InvalidConfig({ path: key, detail: `unknown key for kind ${kind} (allowed: ${allowed.join(", ")})` })
    }
  }
  const num = (key: string, ok: (n: number) => boolean, expected: string): InvalidConfig | undefined => {
    const v = config[key]
    if (v === undefined) return undefined
    return typeof v === "number" && Number.isFinite(v) && ok(v)
      ? undefined
      : new InvalidConfig({ path: key, detail: `expected ${expected}, got ${JSON.stringify(v)}` })
  }
  return num("maxEffort", (n) => Number.isInteger(n) && n >= 0, "an integer ≥ 0") ??
    num("decayTimeMs", (n) => n > 0, "a number of milliseconds > 0") ??
    num("smoothWindowMs", (n) => n >= 0, "a number of milliseconds ≥ 0") ??
    num("lowLoad", (n) => n >= 0, "a number ≥ 0") ??
    num("highLoad", (n) => n > 0, "a number > 0") ??
    num("minAperture", (n) => Number.isInteger(n) && n >= 1, "an integer ≥ 1") ??
    ((config["lowLoad"] as number | undefined ?? 0.5) >= (config["highLoad"] as number | undefined ?? 2.0)
      ? new InvalidConfig({ path: "lowLoad", detail: "must be below highLoad" })
      : undefined)
}

/**
 * Picks a balancer factory from plain config (as decoded from linkerd's `loadBalancer` section).
 * Unknown kinds, unknown keys and out-of-range values fail with `InvalidConfig` naming the key.
 *
 * @since 0.1.0
 * @category config
 */
export const fromKind = (config: Config): Result.Result<Factory, InvalidConfig> => {
  const invalid = typeof config === "object" && config !== null
    ? check(config as unknown as Record<string, unknown>)
    : new InvalidConfig({ path: "kind", detail: "expected an object with a kind" })
  if (invalid !== undefined) return Result.fail(invalid)
  switch (config.kind) {
    case "roundRobin":
      return Result.succeed(RoundRobin.factory({ maxEffort: config.maxEffort }))
    case "p2c":
      return Result.succeed(P2C.factory({ maxEffort: config.maxEffort }))
    case "ewma":
      return Result.succeed(P2CEwma.factory({
        maxEffort: config.maxEffort,
        decayTime: config.decayTimeMs === undefined ? undefined : millis(config.decayTimeMs)
      }))
    case "heap":
      return Result.succeed(Heap.factory({ maxEffort: config.maxEffort }))
    case "aperture":
      return Result.succeed(Aperture.factory({
        maxEffort: config.maxEffort,
        smoothWindow: config.smoothWindowMs === undefined ? undefined : millis(config.smoothWindowMs),
        lowLoad: config.lowLoad,
        highLoad: config.highLoad,
        minAperture: config.minAperture
      }))
  }
}

const millis = (ms: number): Duration.Input => `${ms} millis`

/**
 * A layer supplying the `Factory` param from plain config; fails with `InvalidConfig`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromKind = (config: Config): Layer.Layer<never, InvalidConfig> =>
  Result.match(fromKind(config), {
    onSuccess: (factory) => layer(factory),
    onFailure: (error) => Layer.effectDiscard(Effect.fail(error))
  })
