import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import { Address } from "../../src/index.js"
import * as HostResolver from "../../src/namers/HostResolver.js"

describe("HostResolver", () => {
  it.effect("one query per name per time-to-live, shared by concurrent and later callers; IPs untouched", () =>
    Effect.gen(function*() {
      const asked: Array<string> = []
      const resolver = HostResolver.make({
        ttl: "5 seconds",
        lookup: async (host) => {
          asked.push(host)
          return host === "web.local" ? ["127.0.0.2", "127.0.0.1"] : []
        }
      })
      const [a, b] = yield* Effect.all([resolver.resolve("web.local"), resolver.resolve("web.local")], {
        concurrency: "unbounded"
      })
      expect(a).toEqual(["127.0.0.1", "127.0.0.2"])
      expect(b).toEqual(a)
      expect(yield* resolver.resolve("10.0.0.1")).toEqual(["10.0.0.1"])
      const xs = yield* resolver.addresses([
        Address.make("web.local", 80, { weight: 2 }),
        Address.make("127.0.0.9", 81)
      ])
      expect(xs.map((x) => `${Address.key(x)}*${x.weight}`)).toEqual([
        "127.0.0.1:80*2",
        "127.0.0.2:80*2",
        "127.0.0.9:81*1"
      ])
      expect(asked).toEqual(["web.local"])
      yield* TestClock.adjust("5 seconds")
      yield* resolver.resolve("web.local")
      expect(asked).toEqual(["web.local", "web.local"])
      expect(yield* resolver.resolve("nowhere.local")).toEqual(["nowhere.local"])
      expect(resolver.queries()).toBe(3)
    }))
})
