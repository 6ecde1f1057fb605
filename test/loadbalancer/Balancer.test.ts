import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import * as Aperture from "../../src/loadbalancer/Aperture.js"
import * as Balancer from "../../src/loadbalancer/Balancer.js"
import * as Heap from "../../src/loadbalancer/Heap.js"
import * as P2C from "../../src/loadbalancer/P2C.js"
import * as P2CEwma from "../../src/loadbalancer/P2CEwma.js"
import * as RoundRobin from "../../src/loadbalancer/RoundRobin.js"
import { addresses, makeCluster } from "./helpers.js"

describe("Balancer", () => {
  it("fromKind builds every kind, with defaults", () => {
    for (const kind of Balancer.kinds) {
      const made = Balancer.fromKind({ kind })
      expect(Result.isSuccess(made)).toBe(true)
      if (Result.isSuccess(made)) expect(made.success.kind).toBe(kind)
    }
    const aperture = Balancer.fromKind({
      kind: "aperture",
      maxEffort: 3,
      smoothWindowMs: 1000,
      lowLoad: 0.875,
      highLoad: 1.125,
      minAperture: 12
    })
    expect(Result.isSuccess(aperture)).toBe(true)
  })

  it("fromKind rejects unknown kinds, unknown keys and bad values, naming the key", () => {
    const message = (config: unknown) => {
      const made = Balancer.fromKind(config as Balancer.Config)
      return Result.isFailure(made) ? made.failure.message : "ok"
    }
    expect(message({ kind: "leastRequest" })).toMatch(/^loadBalancer\.kind: expected one of roundRobin, p2c/)
    expect(message({ kind: "p2c", decayTimeMs: 5 })).toMatch(/^loadBalancer\.decayTimeMs: unknown key/)
    expect(message({ kind: "ewma", decayTimeMs: -1 })).toMatch(/^loadBalancer\.decayTimeMs: expected/)
    expect(message({ kind: "p2c", maxEffort: 1.5 })).toMatch(/^loadBalancer\.maxEffort: expected an integer/)
    expect(message({ kind: "aperture", lowLoad: 3 })).toMatch(/^loadBalancer\.lowLoad: must be below highLoad/)
    expect(message(null)).toMatch(/^loadBalancer\.kind/)
  })

  it.effect("Balancer.make reads the Factory param; the default is p2c", () =>
    Effect.gen(function*() {
      const cluster = makeCluster()
      const lb = yield* Balancer.make(Stream.make(addresses(2)), cluster.endpoint)
      expect(lb.algorithm).toBe("p2c_least_loaded")
      const ewma = yield* Balancer.make(Stream.make(addresses(2)), cluster.endpoint).pipe(
        Effect.provide(P2CEwma.layer({ decayTime: "5 seconds" }))
      )
      expect(ewma.algorithm).toBe("p2c_peak_ewma")
      expect(yield* ewma.call(1)).toMatch(/^10\.0\.0\.1/)
    }))

  it.effect("layerFromKind fails with InvalidConfig on bad config", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Effect.void.pipe(Effect.provide(Balancer.layerFromKind({ kind: "nope" } as unknown as Balancer.Config)))
      )
      expect(error._tag).toBe("InvalidConfig")
    }))
})

describe("balancer options", () => {
  it("invalid options fail at construction with the constructor and option named", () => {
    expect(() => P2C.factory({ maxEffort: -1 })).toThrow(`P2C: option "maxEffort" must be an integer >= 0, got -1`)
    expect(() => RoundRobin.factory({ maxEffort: 1.5 })).toThrow(/RoundRobin: option "maxEffort"/)
    expect(() => Heap.factory({ maxEffort: Number.NaN })).toThrow(/Heap: option "maxEffort"/)
    expect(() => P2CEwma.factory({ decayTime: -5 })).toThrow(/P2CEwma: option "decayTime" must be a positive finite/)
    expect(() => Aperture.factory({ lowLoad: 2, highLoad: 1 })).toThrow(/Aperture: option "highLoad"/)
    expect(() => Aperture.factory({ minAperture: 0 })).toThrow(/Aperture: option "minAperture"/)
    expect(() => Aperture.factory({ smoothWindow: -1 })).toThrow(/Aperture: option "smoothWindow"/)
    expect(P2C.factory({ maxEffort: 0 }).kind).toBe("p2c")
  })
})
