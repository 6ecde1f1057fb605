import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Random from "effect/Random"
import { TestClock } from "effect/testing"
import { ConnectionFailed, type Failure } from "../../src/Failure.js"
import * as Filter from "../../src/Filter.js"
import * as Backoff from "../../src/resilience/Backoff.js"
import * as FailureAccrual from "../../src/resilience/FailureAccrual.js"
import * as Stack from "../../src/Stack.js"
import * as Stats from "../../src/Stats.js"
import * as Mock from "../../src/testing/Mock.js"

const boom = new ConnectionFailed({ address: "a", reason: "reset", written: true })
const seed = 1234

describe("FailureAccrual", () => {
  it.effect("dead for the backoff, exactly one probe, revival, and the seeded backoff sequence", () =>
    Effect.gen(function*() {
      const expected = yield* Random.withSeed(Backoff.take(FailureAccrual.defaultBackoff, 3), seed)
      expect(expected[0]).toBe(5000)
      yield* Effect.gen(function*() {
        const stats = Stats.makeInMemory()
        let mode: "ok" | "fail" | "hold" = "fail"
        const mock = yield* Mock.make<number, string, Failure>({
          respond: () => mode === "ok" ? Effect.succeed("ok") : mode === "fail" ? Effect.fail(boom) : undefined
        })
        const accrual = yield* FailureAccrual.make<number, string, Failure, never>({
          policy: FailureAccrual.consecutiveFailures({ failures: 3 }),
          stats
        })
        const svc = Filter.andThen(accrual, mock.service)
        for (let i = 0; i < 2; i++) yield* Effect.flip(svc.call(i))
        expect(accrual.state()).toBe("Alive")
        yield* Effect.flip(svc.call(2))
        expect(accrual.state()).toBe("Dead")
        expect(svc.status).toBe("Busy")
        expect(stats.counterValue("removals")).toBe(1)

        yield* TestClock.adjust(expected[0]! - 1)
        expect(svc.status).toBe("Busy")
        yield* TestClock.adjust(1)
        expect(accrual.state()).toBe("ProbeOpen")
        expect(svc.status).toBe("Open")

        mode = "hold"
        const probe = yield* Effect.forkChild(svc.call(10))
        const p = yield* mock.take
        expect(accrual.state()).toBe("ProbeClosed")
        expect(svc.status).toBe("Busy")
        const other = yield* Effect.forkChild(svc.call(11))
        const q = yield* mock.take
        expect(stats.counterValue("probes")).toBe(1)
        yield* p.fail(boom)
        yield* Effect.flip(Fiber.join(probe))
        expect(accrual.state()).toBe("Dead")
        expect(stats.counterValue("removals")).toBe(1)
        yield* q.fail(boom)
        yield* Effect.flip(Fiber.join(other))

        yield* TestClock.adjust(expected[1]! - 1)
        expect(accrual.state()).toBe("Dead")
        yield* TestClock.adjust(1)
        expect(accrual.state()).toBe("ProbeOpen")
        mode = "ok"
        expect(yield* svc.call(12)).toBe("ok")
        expect(accrual.state()).toBe("Alive")
        expect(stats.counterValue("revivals")).toBe(1)
        expect(stats.counterValue("probes")).toBe(2)

        mode = "fail"
        for (let i = 0; i < 3; i++) yield* Effect.flip(svc.call(i))
        expect(accrual.state()).toBe("Dead")
        expect(stats.counterValue("removals")).toBe(2)
        yield* TestClock.adjust(4999)
        expect(accrual.state()).toBe("Dead")
        yield* TestClock.adjust(1)
        expect(accrual.state()).toBe("ProbeOpen")
        expect(stats.counterValue("removed_for_ms")).toBe(expected[0]! + expected[1]! + 5000)
      }).pipe(Random.withSeed(seed))
    }))

  it.effect("a success resets the consecutive count; a probe interrupted re-opens the probe", () =>
    Effect.gen(function*() {
      let mode: "ok" | "fail" | "hold" = "fail"
      const mock = yield* Mock.make<number, string, Failure>({
        respond: () => mode === "ok" ? Effect.succeed("ok") : mode === "fail" ? Effect.fail(boom) : undefined
      })
      const accrual = yield* FailureAccrual.make<number, string, Failure, never>({
        policy: FailureAccrual.consecutiveFailures({ failures: 2, backoff: Backoff.constant("1 second") })
      })
      const svc = Filter.andThen(accrual, mock.service)
      yield* Effect.flip(svc.call(1))
      mode = "ok"
      yield* svc.call(2)
      mode = "fail"
      yield* Effect.flip(svc.call(3))
      expect(accrual.state()).toBe("Alive")
      yield* Effect.flip(svc.call(4))
      expect(accrual.state()).toBe("Dead")
      yield* TestClock.adjust("1 second")
      mode = "hold"
      const probe = yield* Effect.forkChild(svc.call(5))
      yield* mock.take
      expect(accrual.state()).toBe("ProbeClosed")
      yield* Fiber.interrupt(probe)
      expect(accrual.state()).toBe("ProbeOpen")
    }))

  it.effect("successRate trips once the EWMA over N requests falls below the rate", () =>
    Effect.gen(function*() {
      let ok = true
      const mock = yield* Mock.make<number, string, Failure>({
        respond: () => ok ? Effect.succeed("ok") : Effect.fail(boom)
      })
      const accrual = yield* FailureAccrual.make<number, string, Failure, never>({
        policy: FailureAccrual.successRate(0.5, 10, { backoff: Backoff.constant("1 second") })
      })
      const svc = Filter.andThen(accrual, mock.service)
      for (let i = 0; i < 20; i++) yield* svc.call(i)
      ok = false
      let failures = 0
      while (accrual.state() === "Alive" && failures < 100) {
        yield* Effect.flip(svc.call(0))
        failures++
      }
      // EWMA with window 10: 1·e^(-k/10) < 0.5 after k = 7 failures
      expect(failures).toBe(7)
    }))

  it.effect("successRateWindowed needs the window to elapse and minRequests", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make<number, string, Failure>({ respond: () => Effect.fail(boom) })
      const accrual = yield* FailureAccrual.make<number, string, Failure, never>({
        policy: FailureAccrual.successRateWindowed(0.8, "30 seconds", { backoff: Backoff.constant("1 second") })
      })
      const svc = Filter.andThen(accrual, mock.service)
      for (let i = 0; i < 10; i++) yield* Effect.flip(svc.call(i))
      expect(accrual.state()).toBe("Alive")
      yield* TestClock.adjust("30 seconds")
      for (let i = 0; i < 4; i++) yield* Effect.flip(svc.call(i))
      expect(accrual.state()).toBe("Alive")
      yield* Effect.flip(svc.call(5))
      expect(accrual.state()).toBe("Dead")
    }))

  it.effect("module: none installs nothing; the default trips after 5 failures", () =>
    Effect.gen(function*() {
      const mock = yield* Mock.make<number, string, Failure>({ respond: () => Effect.fail(boom) })
      const stack = Stack.make(FailureAccrual.module<number, string, Failure, never>())
      const plain = yield* Stack.build(stack, mock.service).pipe(
        Effect.provideService(FailureAccrual.Config, FailureAccrual.none)
      )
      expect(plain).toBe(mock.service)
      const stats = Stats.makeInMemory()
      const svc = yield* Stack.build(stack, mock.service).pipe(Effect.provideService(Stats.Receiver, stats))
      for (let i = 0; i < 4; i++) yield* Effect.flip(svc.call(i))
      expect(svc.status).toBe("Open")
      yield* Effect.flip(svc.call(5))
      expect(svc.status).toBe("Busy")
      expect(stats.counterValue("failure_accrual/removals")).toBe(1)
      expect(stats.counterValue("failure_accrual/removed_for_ms")).toBe(Duration.toMillis(Duration.seconds(5)))
    }))

  it.effect("bad policies rejected", () =>
    Effect.gen(function*() {
      const e1 = yield* Effect.flip(
        FailureAccrual.make({ policy: FailureAccrual.consecutiveFailures({ failures: 0 }) })
      )
      expect(e1.option).toBe("failures")
      const e2 = yield* Effect.flip(FailureAccrual.make({ policy: FailureAccrual.successRate(1.2, 10) }))
      expect(e2.option).toBe("successRate")
      const e3 = yield* Effect.flip(FailureAccrual.make({ policy: FailureAccrual.successRateWindowed(0.5, 0) }))
      expect(e3.option).toBe("window")
    }))
})
