/**
 * The read-only view `ProxyStack.client` gives of its endpoints (what `/client_state.json` shows):
 * the balancer's kind and each node's failure accrual state through its life — alive, dead after
 * the failures, probing once the backoff has passed, alive again after a good probe — under
 * `TestClock`; and no accrual state at all with the `none` policy.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as Address from "../src/Address.js"
import * as Failure from "../src/Failure.js"
import * as RoundRobin from "../src/loadbalancer/RoundRobin.js"
import * as ProxyStack from "../src/ProxyStack.js"
import * as Backoff from "../src/resilience/Backoff.js"
import * as FailureAccrual from "../src/resilience/FailureAccrual.js"
import * as ResponseClass from "../src/resilience/ResponseClass.js"
import type { Service } from "../src/Service.js"
import * as Stats from "../src/Stats.js"

const a = Address.make("10.0.0.1", 80)
const b = Address.make("10.0.0.2", 80)

const build = (policy: FailureAccrual.Policy, failing: Set<string>) =>
  ProxyStack.client<string, string, never, never>({
    label: "/svc/test",
    addresses: Stream.make([a, b]).pipe(Stream.concat(Stream.never)),
    connect: (address) => {
      const key = Address.key(address)
      const service: Service<string, string, Failure.Failure> = {
        call: () =>
          failing.has(key)
            ? Effect.fail(new Failure.ConnectionFailed({ address: key, reason: "refused", written: true }))
            : Effect.succeed(key),
        status: "Open"
      }
      return Effect.succeed(service)
    },
    params: {
      ...ProxyStack.defaultClientParams,
      balancer: RoundRobin.factory(),
      failureAccrual: policy,
      requeueBudget: { minRetriesPerSec: 0, percentCanRetry: 0 }
    },
    classifier: ResponseClass.defaultClassifier,
    stats: Stats.noop
  })

describe("ProxyStack.client inspection", () => {
  it.effect("reports each node's accrual state: alive, dead, probing, alive", () =>
    Effect.gen(function*() {
      const failing = new Set([Address.key(b)])
      const client = yield* build(
        FailureAccrual.consecutiveFailures({ failures: 2, backoff: Backoff.constant(Duration.seconds(10)) }),
        failing
      )
      expect(client.balancer).toBe("roundRobin")
      // let the address set arrive
      yield* Effect.exit(client.call("warm-up"))
      expect(client.accrual(Address.key(a))).toBe("Alive")
      expect(client.accrual(Address.key(b))).toBe("Alive")
      for (let i = 0; i < 6; i++) yield* Effect.exit(client.call("x"))
      expect(client.accrual(Address.key(b))).toBe("Dead")
      expect(client.accrual(Address.key(a))).toBe("Alive")
      expect(client.nodes().find((n) => n.key === Address.key(b))!.status).toBe("Busy")

      yield* TestClock.adjust(Duration.seconds(10))
      expect(client.accrual(Address.key(b))).toBe("ProbeOpen")
      failing.clear()
      for (let i = 0; i < 4; i++) yield* Effect.exit(client.call("x"))
      expect(client.accrual(Address.key(b))).toBe("Alive")
      expect(client.accrual("10.9.9.9:80")).toBeUndefined()
    }))

  it.effect("has no accrual state with the none policy", () =>
    Effect.gen(function*() {
      const client = yield* build({ _tag: "None" }, new Set())
      const fiber = yield* Effect.forkChild(client.call("x"))
      expect(yield* Fiber.join(fiber)).toMatch(/^10\.0\.0\.[12]:80$/)
      expect(client.nodes().length).toBe(2)
      expect(client.accrual(Address.key(a))).toBeUndefined()
    }))
})
