import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Aperture from "../../src/loadbalancer/Aperture.js"
import * as Balancer from "../../src/loadbalancer/Balancer.js"
import * as Heap from "../../src/loadbalancer/Heap.js"
import * as P2C from "../../src/loadbalancer/P2C.js"
import * as P2CEwma from "../../src/loadbalancer/P2CEwma.js"
import * as RoundRobin from "../../src/loadbalancer/RoundRobin.js"
import { addresses, makeCluster } from "./helpers.js"

describe("Balancer", () => {
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
