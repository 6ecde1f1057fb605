/**
 * Load balancing over a changing set of addresses: peak EWMA chosen as a Layer, three in-process
 * endpoints (one slow), the set updated while requests flow, stats read back. Runs on Effect's
 * Clock and Random, so under `TestClock` and `Random.withSeed` it is deterministic.
 *
 * Run: `npx tsx examples/library/balancer.ts`
 */
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Random from "effect/Random"
import * as Stream from "effect/Stream"
import { Address, Balancer, P2CEwma, Service, Stats } from "../../src/index.js"

/** The per-endpoint service: here an in-process handler whose latency depends on the port. */
const endpoint = (address: Address.Address) =>
  Effect.succeed(
    Service.make((request: number) =>
      Effect.sleep(address.port === 8081 ? "50 millis" : "5 millis").pipe(
        Effect.as(`${Address.key(address)} answered ${request}`)
      )
    )
  )

export const program = Effect.gen(function*() {
  const stats = Stats.makeInMemory()
  const updates = yield* Queue.unbounded<ReadonlyArray<Address.Address>>()
  const lb = yield* Balancer.make(Stream.fromQueue(updates), endpoint, { label: "/svc/users", stats })

  yield* Queue.offer(updates, [8080, 8081, 8082].map((port) => Address.make("127.0.0.1", port)))
  yield* Effect.forEach(Array.from({ length: 300 }, (_, i) => i), (i) => lb.call(i), { concurrency: 10 })

  // The slow endpoint leaves the set; its in-flight requests finish, then its scope closes.
  yield* Queue.offer(updates, [8080, 8082].map((port) => Address.make("127.0.0.1", port)))
  yield* Effect.forEach(Array.from({ length: 100 }, (_, i) => i), (i) => lb.call(i), { concurrency: 10 })

  return {
    status: lb.status,
    nodes: lb.nodes().map((n) => n.key),
    counters: Object.fromEntries(stats.counters),
    gauges: Object.fromEntries(stats.gaugeValues())
  }
}).pipe(
  Effect.provide(P2CEwma.layer({ decayTime: "10 seconds" })),
  Random.withSeed(1)
)

if (import.meta.url === `file://${process.argv[1]}`) {
  Effect.runPromise(Effect.scoped(program)).then((result) => console.log(JSON.stringify(result, null, 2)))
}
