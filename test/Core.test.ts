import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import * as Failure from "../src/Failure.js"
import * as Filter from "../src/Filter.js"
import * as Service from "../src/Service.js"
import * as Stack from "../src/Stack.js"
import * as Stats from "../src/Stats.js"
import { version } from "../src/version.js"

describe("Service", () => {
  it.effect("make, status and combinators", () =>
    Effect.gen(function*() {
      let status: Service.Status = "Open"
      const svc = Service.make((n: number) => Effect.succeed(n * 2), () => status)
      expect(yield* svc.call(21)).toBe(42)
      status = "Busy"
      expect(svc.status).toBe("Busy")
      const mapped = Service.mapResponse(svc, (n) => `${n}`)
      expect(yield* mapped.call(1)).toBe("2")
      expect(mapped.status).toBe("Busy")
      expect(Service.bestOfAll([])).toBe("Closed")
      expect(Service.bestOfAll(["Closed", "Busy"])).toBe("Busy")
      expect(Service.worstOf("Open", "Closed")).toBe("Closed")
    }))
})

describe("Filter", () => {
  it.effect("andThen composes outer first, and maps status", () =>
    Effect.gen(function*() {
      const log: Array<string> = []
      const tag = (name: string) =>
        Filter.make<string, string, never, never>((req, next) =>
          Effect.sync(() => log.push(name)).pipe(Effect.andThen(next.call(`${req}>${name}`)))
        )
      const busy = Filter.make<string, string, never, never>((req, next) => next.call(req), () => "Busy")
      const svc = Filter.andThen(
        Filter.andThen(tag("a"), Filter.andThen(tag("b"), busy)),
        Service.make((s: string) => Effect.succeed(s))
      )
      expect(yield* svc.call("x")).toBe("x>a>b")
      expect(log).toEqual(["a", "b"])
      expect(svc.status).toBe("Busy")
    }))
})

describe("Stack", () => {
  const tagModule = (role: string) =>
    Stack.fromFilter<string, string, never, never>(
      role,
      `appends ${role}`,
      Effect.succeed(Filter.make((req, next) => next.call(`${req}/${role}`)))
    )

  it.effect("builds top first, and is role-addressable", () =>
    Effect.gen(function*() {
      const stack = Stack.make(tagModule("a"), tagModule("b"), tagModule("c"))
      expect(Stack.roles(stack)).toEqual(["a", "b", "c"])
      const edited = Stack.insertAfter(
        Stack.insertBefore(Stack.replace(Stack.remove(stack, "b"), "c", tagModule("z")), "a", tagModule("top")),
        "top",
        tagModule("mid")
      )
      expect(Stack.roles(edited)).toEqual(["top", "mid", "a", "z"])
      const svc = yield* Stack.build(edited, Service.make((s: string) => Effect.succeed(s)))
      expect(yield* svc.call("r")).toBe("r/top/mid/a/z")
      expect(Stack.contains(edited, "b")).toBe(false)
      expect(() => Stack.make(tagModule("a"), tagModule("a"))).toThrow(/twice/)
      expect(() => Stack.remove(stack, "nope")).toThrow(/no module with role "nope"/)
    }))
})

describe("Failure", () => {
  it("flags retryable as data", () => {
    expect(new Failure.Overloaded({ reason: "queueFull" }).retryable).toBe(true)
    expect(new Failure.RequestTimeout({ scope: "attempt", timeout: 1000 as never }).retryable).toBe(false)
    expect(new Failure.ConnectionFailed({ address: "a:1", reason: "refused", written: false }).retryable).toBe(true)
    expect(new Failure.ConnectionFailed({ address: "a:1", reason: "reset", written: true }).retryable).toBe(false)
    expect(Failure.isRetryable(new Failure.NoBrokersAvailable({ name: "/svc/x" }))).toBe(false)
    expect(Failure.isFailure(new Failure.NoBrokersAvailable({ name: "/svc/x" }))).toBe(true)
    expect(Failure.isFailure(new Error("x"))).toBe(false)
    expect(new Failure.NoBrokersAvailable({ name: "/svc/x" }).message).toBe("No hosts are available for /svc/x")
  })
})

describe("package", () => {
  it("version matches package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
    expect(version).toBe(pkg.version)
  })
})

describe("Stats", () => {
  it("bucketed histograms report percentiles within 1 %, exact min/max/count/sum, in bounded memory", () => {
    const stats = Stats.makeInMemory()
    const h = stats.scope("rt", "web").histogram("request_latency_ms")
    const values: Array<number> = []
    let x = 12345
    for (let i = 0; i < 200_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648
      const v = 0.05 + (x / 2147483648) * 2000
      values.push(v)
      h.add(v)
    }
    values.sort((a, b) => a - b)
    const s = stats.histogramSummary("rt/web/request_latency_ms")
    expect(s.count).toBe(200_000)
    expect(s.min).toBe(values[0])
    expect(s.max).toBe(values[values.length - 1])
    expect(s.sum).toBeCloseTo(values.reduce((a, b) => a + b, 0), 3)
    for (const [q, got] of [[0.5, s.p50], [0.9, s.p90], [0.99, s.p99], [0.999, s.p9990]] as const) {
      const exact = Stats.percentile(values, q)
      expect(Math.abs(got - exact) / exact).toBeLessThan(0.01)
    }
    stats.resetHistograms()
    expect(stats.histogramSummary("rt/web/request_latency_ms").count).toBe(0)
    expect(Stats.summarize([2]).p50).toBe(2)
    expect(Stats.summarize([0, 0, 5]).p50).toBe(0)
    expect(stats.histogramSummary("nothing").count).toBe(0)
  })

  it("counters() memoizes a family of counters by label", () => {
    const stats = Stats.makeInMemory()
    const failures = Stats.counters(stats.scope("rt", "web"), "failures")
    expect(failures("Overloaded")).toBe(failures("Overloaded"))
    failures("Overloaded").incr()
    failures("RequestTimeout").incr(2)
    expect(stats.counterValue("rt/web/failures/Overloaded")).toBe(1)
    expect(stats.counterValue("rt/web/failures/RequestTimeout")).toBe(2)
  })
})
