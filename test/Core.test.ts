import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import * as Failure from "../src/Failure.js"
import * as Filter from "../src/Filter.js"
import * as Service from "../src/Service.js"
import * as Stack from "../src/Stack.js"
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
