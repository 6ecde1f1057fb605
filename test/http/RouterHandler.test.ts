import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/testing/TestClock"
import { Readable } from "node:stream"
import type { Address } from "../../src/Address.js"
import { ConnectionFailed } from "../../src/Failure.js"
import * as DstClient from "../../src/http/DstClient.js"
import * as Router from "../../src/http/Router.js"
import type { HttpRequest, HttpResponse } from "../../src/http/transport/Message.js"
import { buffered, request, streamed } from "../../src/http/transport/Message.js"
import type * as Upstream from "../../src/http/transport/Upstream.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Backoff from "../../src/resilience/Backoff.js"
import * as FailureAccrual from "../../src/resilience/FailureAccrual.js"
import * as ResponseClass from "../../src/resilience/ResponseClass.js"
import * as Retries from "../../src/resilience/Retries.js"
import * as RetryBudget from "../../src/resilience/RetryBudget.js"
import * as Service from "../../src/Service.js"
import * as Stats from "../../src/Stats.js"

/** An in-memory upstream per address answering with `answer`; records what it was sent. */
const memory = (answer: (req: HttpRequest, n: number) => Effect.Effect<HttpResponse, ConnectionFailed>) => {
  const seen: Array<HttpRequest> = []
  const maker: DstClient.UpstreamMaker = (address: Address) =>
    Effect.succeed<Upstream.Upstream>({
      address,
      status: "Open",
      connections: () => 0,
      connects: () => 0,
      call: (req) => Effect.suspend(() => answer(req, seen.push({ ...req, headers: { ...req.headers } })))
    })
  return { seen, maker }
}

const ok = (): HttpResponse => ({
  status: 200,
  headers: { "content-type": "text/plain", "content-length": "2", connection: "keep-alive" },
  body: buffered("ok")
})

const web = () => request({ url: "/a?b", headers: { host: "web", connection: "keep-alive, x-drop", "x-drop": "1" } })

const handlerWith = (
  maker: DstClient.UpstreamMaker,
  stats: Stats.InMemory,
  extra?: Partial<Omit<Router.Options, "servers">>
) =>
  Effect.gen(function*() {
    return yield* Router.makeHandler({
      label: "r",
      dtab: Dtab.parseUnsafe("/svc/web => /$/inet/127.0.0.1/8080"),
      interpreter: yield* Interpreter.make(),
      stats,
      ...extra
    }, { port: 4141 }).pipe(Effect.provideService(DstClient.UpstreamMaker, maker))
  })

describe("Router.makeHandler (in-memory upstream)", () => {
  it.effect("forwards with l5d headers, Via and hop-by-hop removal, and records server, service and client stats", () =>
    Effect.gen(function*() {
      const up = memory(() => Effect.sync(ok))
      const stats = Stats.makeInMemory()
      const handler = yield* handlerWith(up.maker, stats)
      for (let i = 0; i < 3; i++) {
        const res = yield* handler(web())
        expect(res.status).toBe(200)
        expect(res.headers["l5d-success-class"]).toBe("1.0")
        expect(res.headers["via"]).toBe("1.1 linkerd")
        // the upstream's framing (`connection`) is left for weir's head writers, which leave it out
        // and write their own; any other hop-by-hop header goes (below: the request's)
        expect(res.headers["connection"]).toBe("keep-alive")
      }
      const sent = up.seen[0]!
      expect(sent.url).toBe("/a?b")
      expect(sent.headers["l5d-dst-service"]).toBe("/svc/web")
      expect(sent.headers["l5d-dst-client"]).toBe("/$/inet/127.0.0.1/8080")
      expect(sent.headers["l5d-reqid"]).toMatch(/^[0-9a-f]{16}$/)
      expect(sent.headers["via"]).toBe("1.1 linkerd")
      expect(sent.headers["connection"]).toBeUndefined()
      expect(sent.headers["x-drop"]).toBeUndefined()
      const ids = new Set(up.seen.map((r) => r.headers["l5d-reqid"]))
      expect(ids.size).toBe(3)
      const server = "rt/r/server/127.0.0.1/4141"
      const client = "rt/r/client/$/inet/127.0.0.1/8080"
      expect(stats.counterValue(`${server}/requests`)).toBe(3)
      expect(stats.counterValue(`${server}/success`)).toBe(3)
      expect(stats.counterValue(`${server}/status/200`)).toBe(3)
      expect(stats.counterValue(`${server}/status/2XX`)).toBe(3)
      expect(stats.counterValue("rt/r/service/svc/web/requests")).toBe(3)
      expect(stats.counterValue("rt/r/service/svc/web/success")).toBe(3)
      expect(stats.counterValue(`${client}/requests`)).toBe(3)
      expect(stats.counterValue(`${client}/success`)).toBe(3)
      expect(stats.counterValue(`${client}/status/200`)).toBe(3)
      expect(stats.histogramSummary(`${client}/request_latency_ms`).count).toBe(3)
      expect(stats.histogramSummary("rt/r/service/svc/web/retries/per_request").count).toBe(3)
      expect(stats.histogramSummary(`${client}/retries/requeues_per_request`).count).toBe(3)
      expect(stats.counters.get(`${server}/requests`)).toBe(3)
      expect(new Map(stats.counters).get(`${client}/success`)).toBe(3)
    }))

  it.effect("a retryable 5XX with a streamed body is read whole and retried; the retry's answer is returned", () =>
    Effect.gen(function*() {
      const up = memory((_req, n) =>
        Effect.sync(() =>
          n === 1
            ? {
              status: 503,
              headers: { "content-type": "text/plain" },
              body: streamed(Readable.from([Buffer.from("busy")]))
            }
            : ok()
        )
      )
      const stats = Stats.makeInMemory()
      const handler = yield* handlerWith(up.maker, stats, {
        service: () => ({ classifier: "io.l5d.http.retryableRead5XX" })
      })
      const res = yield* handler(web())
      expect(res.status).toBe(200)
      expect(res.headers["l5d-success-class"]).toBe("1.0")
      expect(up.seen.length).toBe(2)
      expect(stats.counterValue("rt/r/service/svc/web/retries/total")).toBe(1)
      expect(stats.counterValue("rt/r/client/$/inet/127.0.0.1/8080/status/503")).toBe(1)
    }))

  it.effect("a non-retryable 5XX passes through with l5d-success-class 0.0 and counts as a failure", () =>
    Effect.gen(function*() {
      const up = memory(() => Effect.sync(() => ({ status: 500, headers: {}, body: buffered("boom") })))
      const stats = Stats.makeInMemory()
      const handler = yield* handlerWith(up.maker, stats)
      const res = yield* handler(web())
      expect(res.status).toBe(500)
      expect(res.headers["l5d-success-class"]).toBe("0.0")
      expect(up.seen.length).toBe(1)
      expect(stats.counterValue("rt/r/service/svc/web/failures")).toBe(1)
      expect(stats.counterValue("rt/r/server/127.0.0.1/4141/failures")).toBe(1)
      expect(stats.counterValue("rt/r/client/$/inet/127.0.0.1/8080/failures")).toBe(1)
    }))

  it.effect("a connection that was never made is requeued; failure accrual marks the endpoint dead after 5", () =>
    Effect.gen(function*() {
      const refused = new ConnectionFailed({ address: "127.0.0.1:8080", reason: "refused", written: false })
      const up = memory(() => Effect.fail(refused))
      const stats = Stats.makeInMemory()
      const handler = yield* handlerWith(up.maker, stats)
      // requeues after the first wait their backoff (5 ms … 100 ms, jittered): let the clock run
      const fiber = yield* Effect.forkChild(handler(web()))
      for (let i = 0; i < 100 && fiber.pollUnsafe() === undefined; i++) yield* TestClock.adjust("20 millis")
      const res = yield* Fiber.join(fiber)
      expect(res.status).toBe(502)
      expect(res.headers["l5d-err"]).toBeDefined()
      const client = "rt/r/client/$/inet/127.0.0.1/8080"
      // five sends: the fifth failure marks the only endpoint dead, so requeues stop (not open)
      expect(up.seen.length).toBe(5)
      expect(stats.counterValue(`${client}/retries/requeues`)).toBe(4)
      expect(stats.counterValue(`${client}/retries/not_open`)).toBe(1)
      expect(stats.counterValue(`${client}/failure_accrual/removals`)).toBe(1)
      expect(stats.counterValue(`${client}/failures/ConnectionFailed`)).toBe(1)
      expect(stats.counterValue("rt/r/service/svc/web/failures/ConnectionFailed")).toBe(1)
    }))

  it.effect("failure accrual and client stats judge a request by its service's classifier", () =>
    Effect.gen(function*() {
      const up = memory(() => Effect.sync(() => ({ status: 500, headers: {}, body: buffered("boom") })))
      const client = "rt/r/client/$/inet/127.0.0.1/8080"
      // nonRetryable5XX (the default): six 500s, the fifth marks the endpoint dead
      const byDefault = Stats.makeInMemory()
      const h1 = yield* handlerWith(up.maker, byDefault)
      for (let i = 0; i < 6; i++) yield* h1(web())
      expect(byDefault.counterValue(`${client}/failure_accrual/removals`)).toBe(1)
      expect(byDefault.counterValue(`${client}/failures`)).toBe(6)
      // allSuccessful: the same 500s are successes, for the client's stats and its accrual too
      const allOk = Stats.makeInMemory()
      const h2 = yield* handlerWith(up.maker, allOk, { service: () => ({ classifier: "io.l5d.http.allSuccessful" }) })
      for (let i = 0; i < 6; i++) yield* h2(web())
      expect(allOk.counterValue(`${client}/failure_accrual/removals`)).toBe(0)
      expect(allOk.counterValue(`${client}/success`)).toBe(6)
      expect(allOk.counterValue(`${client}/status/500`)).toBe(6)
    }))

  it.effect("a Via chain longer than maxCallDepth is refused before routing", () =>
    Effect.gen(function*() {
      const up = memory(() => Effect.sync(ok))
      const stats = Stats.makeInMemory()
      const handler = yield* handlerWith(up.maker, stats, { maxCallDepth: 1 })
      const res = yield* handler(request({ url: "/", headers: { host: "web", via: "1.1 a, 1.1 b" } }))
      expect(res.status).toBe(400)
      expect(up.seen.length).toBe(0)
      expect(stats.counterValue("rt/r/server/127.0.0.1/4141/failures")).toBe(1)
    }))
})

describe("pieces the router fuses", () => {
  it.effect("Retries' prepare runs before classification and its response is what is classified", () =>
    Effect.gen(function*() {
      let n = 0
      const svc = Service.make((_: string) => Effect.sync(() => ++n === 1 ? "retry-me" : "fine"))
      const seen: Array<string> = []
      const filter = Retries.makeUnsafe<string, string, never, never>({
        classifier: (_req, exit) =>
          Exit.isSuccess(exit) && exit.value === "RETRY-ME" ? ResponseClass.RetryableFailure : ResponseClass.Success,
        backoff: Backoff.immediate,
        budget: RetryBudget.infinite,
        maxRetries: 3,
        stats: Stats.noop,
        prepare: (_req, rep) => {
          seen.push(rep)
          return rep === "retry-me" ? Effect.succeed("RETRY-ME") : undefined
        }
      })
      expect(yield* filter.apply("q", svc)).toBe("fine")
      expect(seen).toEqual(["retry-me", "fine"])
    }))

  it.effect("FailureAccrual's enter and record are apply's two halves", () =>
    Effect.gen(function*() {
      const accrual = yield* FailureAccrual.makeUnsafe<string, number, string, never>(
        FailureAccrual.consecutiveFailures({ failures: 2 }),
        ResponseClass.defaultClassifier,
        Stats.noop
      )
      expect(accrual.state()).toBe("Alive")
      accrual.enter()
      expect(accrual.record("a", Exit.fail("x"))).toBeUndefined()
      accrual.enter()
      const after = accrual.record("b", Exit.fail("y"))
      expect(after).toBeDefined()
      yield* after!
      expect(accrual.state()).toBe("Dead")
      expect(accrual.status!("Open")).toBe("Busy")
    }))
})
