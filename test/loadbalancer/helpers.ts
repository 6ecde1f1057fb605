import * as Effect from "effect/Effect"
import * as Latch from "effect/Latch"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Address from "../../src/Address.js"
import type { Env, Node } from "../../src/loadbalancer/Engine.js"
import * as Service from "../../src/Service.js"
import type { StatsReceiver } from "../../src/Stats.js"
import * as Stats from "../../src/Stats.js"

/** A scriptable endpoint: its status, latency (ms, on the Clock) and whether calls wait at a gate. */
export interface Mock {
  readonly key: string
  status: Service.Status
  latencyMs: number
  calls: number
  inFlight: number
  opened: number
  closed: number
}

/** A set of mock endpoints keyed by address, and the endpoint factory a balancer uses. */
export const makeCluster = () => {
  const mocks = new Map<string, Mock>()
  const gate = Latch.makeUnsafe(true)
  const mock = (key: string): Mock => {
    let m = mocks.get(key)
    if (m === undefined) {
      m = { key, status: "Open", latencyMs: 0, calls: 0, inFlight: 0, opened: 0, closed: 0 }
      mocks.set(key, m)
    }
    return m
  }
  const endpoint = (address: Address.Address): Effect.Effect<Service.Service<number, string>, never, Scope.Scope> =>
    Effect.gen(function*() {
      const m = mock(Address.key(address))
      m.opened++
      yield* Effect.addFinalizer(() => Effect.sync(() => void m.closed++))
      return Service.make(
        (_: number) =>
          Effect.gen(function*() {
            m.calls++
            m.inFlight++
            yield* gate.await
            if (m.latencyMs > 0) yield* Effect.sleep(m.latencyMs)
            return m.key
          }).pipe(Effect.ensuring(Effect.sync(() => void m.inFlight--))),
        () => m.status
      )
    })
  return { mocks, mock, endpoint, gate, at: (a: Address.Address) => mock(Address.key(a)) }
}

/** `n` distinct addresses. */
export const addresses = (n: number, weight = 1): Array<Address.Address> =>
  Array.from({ length: n }, (_, i) => Address.make("10.0.0.1", 8000 + i, { weight }))

/** A stream of address sets fed by hand. */
export const updatable = Effect.gen(function*() {
  const queue = yield* Queue.unbounded<ReadonlyArray<Address.Address>>()
  return {
    stream: Stream.fromQueue(queue),
    set: (set: ReadonlyArray<Address.Address>) => Queue.offer(queue, set)
  }
})

/** Lets other fibers run until `done()` holds (or fails after many yields). */
export const until = (done: () => boolean, what: string): Effect.Effect<void> =>
  Effect.gen(function*() {
    for (let i = 0; i < 2000; i++) {
      if (done()) return
      yield* Effect.yieldNow
    }
    return yield* Effect.die(new Error(`timed out waiting for ${what}`))
  })

/** Runs other fibers for a while. */
export const settle = Effect.gen(function*() {
  for (let i = 0; i < 50; i++) yield* Effect.yieldNow
})

/** A seeded `Env` for pure distributor tests, drawing from Effect's `Random`. */
export const seededEnv = (seed: number, now: () => number = () => 0, stats: StatsReceiver = Stats.noop): Env => {
  const random = Effect.runSync(Effect.service(Random.Random).pipe(Random.withSeed(seed)))
  return {
    now,
    nextDouble: () => random.nextDoubleUnsafe(),
    nextInt: (n) => Math.floor(random.nextDoubleUnsafe() * n),
    stats
  }
}

/** A plain node for pure distributor tests: `load` is the number of outstanding picks. */
export interface FakeNode extends Node {
  status: Service.Status
  load: number
  pending: number
  weight: number
}

/** `n` fake nodes with distinct tokens. */
export const fakeNodes = (n: number): Array<FakeNode> =>
  Array.from({ length: n }, (_, i) => ({
    key: `n${i}`,
    address: Address.make("10.0.0.1", 8000 + i),
    weight: 1,
    token: (i * 2654435761) % 4294967296,
    status: "Open" as Service.Status,
    load: 0,
    pending: 0
  }))
