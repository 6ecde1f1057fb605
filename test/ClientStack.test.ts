import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import * as ClientStack from "../src/ClientStack.js"
import { ConnectionFailed, type Failure, Overloaded } from "../src/Failure.js"
import * as Admission from "../src/resilience/Admission.js"
import * as Backoff from "../src/resilience/Backoff.js"
import * as FailureAccrual from "../src/resilience/FailureAccrual.js"
import * as Retries from "../src/resilience/Retries.js"
import * as Timeout from "../src/resilience/Timeout.js"
import * as Service from "../src/Service.js"
import * as Stack from "../src/Stack.js"
import * as Stats from "../src/Stats.js"
import * as Mock from "../src/testing/Mock.js"

/** A round-robin over Open endpoints, standing in for the real balancer. */
const roundRobin = <Req, Rep, E>(
  endpoints: ReadonlyArray<Service.Service<Req, Rep, E>>
): Service.Service<Req, Rep, E> => {
  let i = 0
  return Service.make(
    (request) =>
      Effect.suspend(() => {
        for (let k = 0; k < endpoints.length; k++) {
          const e = endpoints[(i + k) % endpoints.length]!
          if (e.status === "Open") {
            i = (i + k + 1) % endpoints.length
            return e.call(request)
          }
        }
        return endpoints[i++ % endpoints.length]!.call(request)
      }),
    () => Service.bestOfAll(endpoints.map((e) => e.status))
  )
}

describe("ClientStack", () => {
  it("orders the modules as documented", () => {
    expect(Stack.roles(ClientStack.pathStack())).toEqual(["Stats", "ResponseClassifier", "TotalTimeout", "Retries"])
    expect(Stack.roles(ClientStack.clientStack())).toEqual(["Stats", "BackupRequests", "Requeues"])
    expect(Stack.roles(ClientStack.endpointStack())).toEqual([
      "Tracing",
      "FailureAccrual",
      "RequestTimeout",
      "Admission"
    ])
  })

  it.effect("a refused connection is requeued to another endpoint; a dead node is avoided", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const refused = new ConnectionFailed({ address: "a", reason: "refused", written: false })
      const down = yield* Mock.make<string, string, Failure>({ respond: () => Effect.fail(refused) })
      const up = yield* Mock.make<string, string, Failure>({ respond: (r) => Effect.succeed(`up:${r}`) })
      const client = yield* ClientStack.make<string, string, never, never>({
        balancer: (endpoint) =>
          Effect.map(Effect.all([endpoint(down.service), endpoint(up.service)]), (eps) => roundRobin(eps))
      }).pipe(
        Effect.provideService(Stats.Receiver, stats),
        Effect.provideService(
          FailureAccrual.Config,
          FailureAccrual.consecutiveFailures({ failures: 2, backoff: Backoff.constant("10 seconds") })
        )
      )
      for (let i = 0; i < 6; i++) expect(yield* client.call(`${i}`)).toBe(`up:${i}`)
      expect(down.calls()).toBe(2)
      expect(stats.counterValue("retries/requeues")).toBe(2)
      expect(stats.counterValue("failure_accrual/removals")).toBe(1)
    }))

  it.effect("the total timeout covers retries; attempts get their own timeout; admission sheds load", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const mock = yield* Mock.make<string, string, Failure>()
      const client = yield* ClientStack.single<string, string, never, never>(mock.service).pipe(
        Effect.provideService(Timeout.TotalTimeout, "1 second"),
        Effect.provideService(Timeout.AttemptTimeout, "400 millis"),
        Effect.provideService(Admission.Config, { maxConcurrency: 1, maxPending: 0 }),
        Effect.provideService(FailureAccrual.Config, FailureAccrual.none),
        Effect.provideService(Retries.Config, { maxRetries: 2 }),
        Effect.provideService(Stats.Receiver, stats)
      )
      const fiber = yield* Effect.forkChild(Effect.flip(client.call("a")))
      yield* mock.take
      const shed = yield* Effect.flip(client.call("b"))
      expect(shed).toBeInstanceOf(Overloaded)
      expect(stats.counterValue("retries/total")).toBe(2)
      expect(stats.counterValue("retries/not_open")).toBe(3)
      expect(stats.counterValue("admission/rejected")).toBe(3)
      yield* TestClock.adjust("400 millis")
      const error = yield* Fiber.join(fiber)
      expect(error._tag).toBe("RequestTimeout")
      expect(mock.interrupted()).toBe(1)
    }))
})

describe("examples/library/resilient-client.ts", () => {
  it.live("answers every request through timeouts, retries and requeues", () =>
    Effect.gen(function*() {
      const { program } = yield* Effect.promise(() => import("../examples/library/resilient-client.js"))
      const { counters, results } = yield* program
      expect(results).toEqual(Array.from({ length: 10 }, (_, i) => `hello, request ${i}`))
      expect(counters["retries/requeues"]).toBeGreaterThan(0)
      expect(counters["retries/total"]).toBeGreaterThan(0)
    }))
})

describe("examples/library/readme.ts and stack.ts", () => {
  it.live("the README example answers through the default client stack", () =>
    Effect.gen(function*() {
      const { program } = yield* Effect.promise(() => import("../examples/library/readme.js"))
      expect(yield* program).toEqual({ id: "42", name: "Ada" })
    }))

  it.live("the stack example edits the endpoint stack by role", () =>
    Effect.gen(function*() {
      const { program } = yield* Effect.promise(() => import("../examples/library/stack.js"))
      expect(yield* program).toEqual({ roles: ["Tracing", "FailureAccrual", "RequestTimeout"], answer: "user 42" })
    }))
})
