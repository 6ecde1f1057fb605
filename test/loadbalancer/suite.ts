import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Random from "effect/Random"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as Address from "../../src/Address.js"
import type * as Balancer from "../../src/loadbalancer/Balancer.js"
import * as Stats from "../../src/Stats.js"
import { addresses, makeCluster, settle, until, updatable } from "./helpers.js"

/**
 * The behaviour every balancer shares. `factory` builds the balancer under test; `spread` is the
 * relative tolerance of the even-spread check (0 for exact).
 */
export const balancerSuite = (
  name: string,
  factory: () => Balancer.Factory,
  options: { readonly spread: number } = { spread: 0.15 }
) =>
  describe(`balancer conformance: ${name}`, () => {
    it.effect("an empty set fails with NoBrokersAvailable and status Closed", () =>
      Effect.gen(function*() {
        const cluster = makeCluster()
        const lb = yield* factory().make(Stream.make([]), cluster.endpoint, { label: "/svc/empty" })
        const error = yield* Effect.flip(lb.call(1))
        expect(error._tag).toBe("NoBrokersAvailable")
        expect(error.message).toContain("/svc/empty")
        expect(lb.status).toBe("Closed")
      }))

    it.effect("spreads evenly over equal nodes", () =>
      Effect.gen(function*() {
        const cluster = makeCluster()
        const set = addresses(10)
        const lb = yield* factory().make(Stream.make(set), cluster.endpoint)
        const requests = 10_000
        for (let i = 0; i < requests; i++) yield* lb.call(i)
        const mean = requests / set.length
        for (const a of set) {
          expect(Math.abs(cluster.at(a).calls - mean)).toBeLessThanOrEqual(mean * options.spread)
        }
        expect(lb.status).toBe("Open")
      }).pipe(Random.withSeed(1)))

    it.effect("waits for the first set, or fails after the binding timeout", () =>
      Effect.gen(function*() {
        const cluster = makeCluster()
        const feed = yield* updatable
        const lb = yield* factory().make(feed.stream, cluster.endpoint)
        expect(lb.status).toBe("Busy")
        const waiting = yield* Effect.forkChild(lb.call(1))
        yield* settle
        yield* feed.set(addresses(2))
        expect(yield* Fiber.join(waiting)).toMatch(/^10\.0\.0\.1:800[01]$/)

        const never = yield* factory().make(Stream.never, cluster.endpoint, { bindingTimeout: "1 second" })
        const timedOut = yield* Effect.forkChild(Effect.flip(never.call(1)))
        yield* TestClock.adjust("1 second")
        const error = yield* Fiber.join(timedOut)
        expect(error._tag).toBe("RequestTimeout")
      }))

    it.effect("a removed node gets no new requests, finishes in-flight ones, then closes", () => {
      const cluster = makeCluster()
      return Effect.gen(function*() {
        const feed = yield* updatable
        const set = addresses(3)
        const lb = yield* factory().make(feed.stream, cluster.endpoint)
        yield* feed.set(set)
        cluster.gate.closeUnsafe()
        const first = yield* Effect.forEach(
          Array.from({ length: 30 }, (_, i) => i),
          (i) => Effect.forkChild(lb.call(i))
        )
        const inFlight = () => [...cluster.mocks.values()].reduce((n, m) => n + m.inFlight, 0)
        yield* until(() => inFlight() === 30, "in flight")
        const gone = cluster.at(set[0]!)
        const goneInFlight = gone.inFlight
        expect(goneInFlight).toBeGreaterThan(0)
        yield* feed.set(set.slice(1))
        yield* until(() => lb.nodes().length === 2, "removal")
        const second = yield* Effect.forEach(
          Array.from({ length: 30 }, (_, i) => i),
          (i) => Effect.forkChild(lb.call(i))
        )
        yield* settle
        expect(gone.calls).toBe(goneInFlight)
        expect(gone.closed).toBe(0)
        cluster.gate.openUnsafe()
        const results = yield* Effect.forEach([...first, ...second], Fiber.join)
        expect(results.filter((r) => r === gone.key).length).toBe(goneInFlight)
        yield* until(() => gone.closed === 1, "scope closed")
        expect(cluster.at(set[1]!).closed).toBe(0)
      }).pipe(Effect.ensuring(Effect.sync(() => cluster.gate.openUnsafe())), Random.withSeed(2))
    })

    it.effect("avoids a Busy node", () =>
      Effect.gen(function*() {
        const cluster = makeCluster()
        const set = addresses(3)
        cluster.at(set[0]!).status = "Busy"
        const stats = Stats.makeInMemory()
        const lb = yield* factory().make(Stream.make(set), cluster.endpoint, { stats })
        for (let i = 0; i < 1000; i++) yield* lb.call(i)
        expect(cluster.at(set[0]!).calls).toBe(0)
        expect(stats.counterValue("loadbalancer/panicked")).toBe(0)
        expect(stats.gaugeValues().get("loadbalancer/busy")).toBe(1)
        expect(stats.gaugeValues().get("loadbalancer/available")).toBe(2)
      }).pipe(Random.withSeed(3)))

    it.effect("panics (and still sends) when every node is unhealthy", () =>
      Effect.gen(function*() {
        const cluster = makeCluster()
        const set = addresses(4)
        for (const a of set) cluster.at(a).status = "Busy"
        const stats = Stats.makeInMemory()
        const lb = yield* factory().make(Stream.make(set), cluster.endpoint, { stats })
        for (let i = 0; i < 100; i++) yield* lb.call(i)
        expect(stats.counterValue("loadbalancer/panicked")).toBe(100)
        expect(set.reduce((n, a) => n + cluster.at(a).calls, 0)).toBe(100)
        expect(lb.status).toBe("Busy")
      }).pipe(Random.withSeed(4)))

    it.effect("updates keep node identity; a weight change updates in place", () =>
      Effect.gen(function*() {
        const cluster = makeCluster()
        const feed = yield* updatable
        const stats = Stats.makeInMemory()
        const lb = yield* factory().make(feed.stream, cluster.endpoint, { stats })
        const set = addresses(3)
        yield* feed.set(set.slice(0, 2))
        yield* feed.set(set)
        yield* feed.set([Address.make(set[0]!.host, set[0]!.port, { weight: 3 }), set[1]!, set[2]!])
        yield* until(() => stats.counterValue("loadbalancer/updates") === 3, "updates")
        for (const a of set) expect(cluster.at(a).opened).toBe(1)
        expect(stats.counterValue("loadbalancer/adds")).toBe(3)
        expect(stats.counterValue("loadbalancer/removes")).toBe(0)
        expect(lb.nodes().find((n) => n.key === Address.key(set[0]!))?.address.weight).toBe(3)
        expect(stats.gaugeValues().get("loadbalancer/size")).toBe(3)
        yield* feed.set(set)
        yield* until(() => stats.counterValue("loadbalancer/updates") === 4, "updates")
        const rebuilds = stats.counterValue("loadbalancer/rebuilds")
        yield* feed.set(set)
        yield* until(() => stats.counterValue("loadbalancer/updates") === 5, "updates")
        expect(stats.counterValue("loadbalancer/rebuilds")).toBe(rebuilds)
      }))

    it.effect("closing the balancer's scope closes every endpoint", () =>
      Effect.gen(function*() {
        const cluster = makeCluster()
        const set = addresses(3)
        const scope = yield* Scope.make()
        const lb = yield* factory().make(Stream.make(set), cluster.endpoint).pipe(Scope.provide(scope))
        yield* lb.call(1)
        yield* Scope.close(scope, Exit.void)
        for (const a of set) expect(cluster.at(a).closed).toBe(1)
      }))
  })
