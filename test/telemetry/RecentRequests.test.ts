import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Result from "effect/Result"
import * as S from "effect/Schema"
import * as Problems from "../../src/config/Problems.js"
import * as Telemeters from "../../src/config/telemeter/index.js"
import * as RecentRequestsPlugin from "../../src/config/telemeter/RecentRequests.js"
import * as ClientState from "../../src/proxy/ClientState.js"
import * as RequestsPage from "../../src/proxy/RequestsPage.js"
import * as Stats from "../../src/Stats.js"
import * as Metrics from "../../src/telemetry/Metrics.js"
import * as RecentRequests from "../../src/telemetry/RecentRequests.js"

const entry = (n: number): RecentRequests.Entry => ({
  timestamp: 1_700_000_000_000 + n,
  router: "web",
  method: "GET",
  uri: `/${n}`,
  host: "books",
  service: "/svc/books",
  status: 200,
  durationMs: n,
  retries: 0
})

const decode = (input: unknown) => S.decodeUnknownResult(Telemeters.registry.schema)(input, Problems.parseOptions)

describe("RecentRequests", () => {
  it("keeps the newest `capacity` entries, newest first", () => {
    const ring = RecentRequests.makeUnsafe({ sampleRate: 1, capacity: 3 })
    expect(ring.entries()).toEqual([])
    ring.record(entry(1))
    ring.record(entry(2))
    expect(ring.entries().map((e) => e.uri)).toEqual(["/2", "/1"])
    for (let n = 3; n <= 7; n++) ring.record(entry(n))
    expect(ring.entries().map((e) => e.uri)).toEqual(["/7", "/6", "/5"])
  })

  it("samples at sampleRate with the injected random numbers", () => {
    const draws = [0.1, 0.5, 0.29, 0.3, 0.99]
    let i = 0
    const ring = RecentRequests.makeUnsafe({ sampleRate: 0.3, nextDouble: () => draws[i++]! })
    expect(draws.map(() => ring.sample())).toEqual([true, false, true, false, false])
    expect(RecentRequests.makeUnsafe({ sampleRate: 0, nextDouble: () => 0 }).sample()).toBe(false)
    expect(RecentRequests.makeUnsafe({ sampleRate: 1, nextDouble: () => 0.999 }).sample()).toBe(true)
  })

  it.effect("draws from Effect's Random: a seed gives the same sample every run", () =>
    Effect.gen(function*() {
      const run = Effect.map(RecentRequests.make({ sampleRate: 0.25 }), (ring) => {
        let kept = 0
        for (let n = 0; n < 1000; n++) if (ring.sample()) kept++
        return kept
      })
      const a = yield* run.pipe(Random.withSeed(7))
      const b = yield* run.pipe(Random.withSeed(7))
      expect(a).toBe(b)
      expect(a).toBeGreaterThan(180)
      expect(a).toBeLessThan(320)
    }))

  it("combine: each recorder samples on its own and records what it sampled", () => {
    const all = RecentRequests.makeUnsafe({ sampleRate: 1 })
    const none = RecentRequests.makeUnsafe({ sampleRate: 0 })
    expect(RecentRequests.combine([])).toBeUndefined()
    expect(RecentRequests.combine([all])).toBe(all)
    const both = RecentRequests.combine([all, none])!
    expect(both.sample()).toBe(true)
    both.record(entry(1))
    expect(all.entries().length).toBe(1)
    expect(none.entries().length).toBe(0)
  })

  it("entryOf rounds the duration and leaves out what was not captured", () => {
    const capture: RecentRequests.Capture = {
      timestamp: 5,
      start: 10,
      router: "web",
      method: "GET",
      uri: "/",
      host: "",
      service: undefined,
      client: undefined,
      endpoint: undefined,
      retries: 0,
      error: undefined
    }
    const e = RecentRequests.entryOf(capture, 400, "Unknown destination", 12.34567)
    expect(e).toEqual({
      timestamp: 5,
      router: "web",
      method: "GET",
      uri: "/",
      host: "",
      status: 400,
      error: "Unknown destination",
      durationMs: 2.346,
      retries: 0
    })
  })

  it("the page escapes what it shows and shows the first line of an error", () => {
    const ring = RecentRequests.makeUnsafe({ sampleRate: 1, capacity: 2 })
    ring.record({ ...entry(1), uri: "/<script>", status: 502, error: "Unable to route request!\n\nservice name" })
    const html = RequestsPage.requestsHtml(ring)
    expect(html).toContain("<td>/&lt;script&gt;</td>")
    expect(html).toContain("<td>502 Unable to route request!</td>")
    expect(html).toContain(`data-rows="1"`)
  })
})

describe("the io.l5d.recentRequests plugin", () => {
  it("requires sampleRate and defaults capacity to 10", () => {
    const ok = decode({ kind: "io.l5d.recentRequests", sampleRate: 0.5 })
    expect(Result.isSuccess(ok) && ok.success).toEqual({ kind: "io.l5d.recentRequests", sampleRate: 0.5, capacity: 10 })
    expect(Result.isFailure(decode({ kind: "io.l5d.recentRequests" }))).toBe(true)
  })

  it("rejects a rate outside 0 … 1, a capacity outside 1 … 10000 and unknown keys", () => {
    for (
      const bad of [
        { sampleRate: 1.5 },
        { sampleRate: -0.1 },
        { sampleRate: 1, capacity: 0 },
        { sampleRate: 1, capacity: RecentRequestsPlugin.maxCapacity + 1 },
        { sampleRate: 1, capacity: 2.5 },
        { sampleRate: 1, bogus: true }
      ]
    ) {
      expect(Result.isFailure(decode({ kind: "io.l5d.recentRequests", ...bad }))).toBe(true)
    }
  })

  it.effect("builds a ring the admin server shows, serving no endpoint of its own", () =>
    Effect.gen(function*() {
      const config = decode({ kind: "io.l5d.recentRequests", sampleRate: 1, capacity: 3 })
      if (Result.isFailure(config)) throw new Error("does not decode")
      const registry = Stats.makeInMemory()
      const exporter = Metrics.makeExporter(registry)
      const started = yield* Telemeters.registry.make(config.success)({ registry, snapshot: exporter.snapshot })
      expect(started.endpoints).toEqual([])
      expect(started.recentRequests?.capacity).toBe(3)
      expect(started.recentRequests?.sample()).toBe(true)
    }))
})

describe("ClientState", () => {
  it("names accrual states as /client_state.json shows them", () => {
    expect(ClientState.accrualName("Alive")).toBe("alive")
    expect(ClientState.accrualName("Dead")).toBe("dead")
    expect(ClientState.accrualName("ProbeOpen")).toBe("probing")
    expect(ClientState.accrualName("ProbeClosed")).toBe("probing")
    expect(ClientState.accrualName(undefined)).toBe("none")
  })
})
