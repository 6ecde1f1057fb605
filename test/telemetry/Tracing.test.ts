import { describe, expect, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Result from "effect/Result"
import * as S from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as ClientStack from "../../src/ClientStack.js"
import * as Telemeters from "../../src/config/telemeter/index.js"
import * as TraceLog from "../../src/config/telemeter/TraceLog.js"
import * as Failure from "../../src/Failure.js"
import * as Headers from "../../src/http/Headers.js"
import * as HttpTracing from "../../src/http/HttpTracing.js"
import * as Router from "../../src/http/Router.js"
import type { HttpRequest } from "../../src/http/transport/Message.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Namer from "../../src/naming/Namer.js"
import * as NameTree from "../../src/naming/NameTree.js"
import * as Path from "../../src/naming/Path.js"
import * as Config from "../../src/proxy/Config.js"
import * as Service from "../../src/Service.js"
import * as Stats from "../../src/Stats.js"
import * as SpanExporter from "../../src/telemetry/SpanExporter.js"
import * as Tracing from "../../src/telemetry/Tracing.js"
import * as Zipkin from "../../src/telemetry/Zipkin.js"
import * as TraceFilter from "../../src/TraceFilter.js"

const capture = (sampleRate = 1) => {
  const spans: Array<Tracing.SpanData> = []
  const tracing = Tracing.make([{ sampleRate, export: (s) => spans.push(s) }])!
  return { spans, tracing }
}

describe("Tracing", () => {
  it("admits a trace by its id: never at 0, always at 1, monotone in between", () => {
    const low = "0000000000000000000" + "0000000000001"
    const high = "00000000000000000" + "fffffffffffffff"
    expect(Tracing.admits(low, 0)).toBe(false)
    expect(Tracing.admits(high, 1)).toBe(true)
    expect(Tracing.admits(low, 0.01)).toBe(true)
    expect(Tracing.admits(high, 0.99)).toBe(false)
    const ids = Array.from({ length: 2000 }, () => Tracing.randomId(32))
    const at = (r: number) => ids.filter((id) => Tracing.admits(id, r))
    expect(at(0.1).every((id) => Tracing.admits(id, 0.5))).toBe(true)
    expect(at(0.5).length).toBeGreaterThan(at(0.1).length)
    expect(Tracing.make([])).toBeUndefined()
  })

  it.effect("a library client's attempts are spans under the caller's span; requeues are siblings", () =>
    Effect.gen(function*() {
      const { spans, tracing } = capture()
      let calls = 0
      const flaky = Service.make((_: string) =>
        ++calls === 1
          ? Effect.fail(new Failure.ConnectionFailed({ address: "127.0.0.1:1", written: false, reason: "refused" }))
          : Effect.succeed("ok")
      )
      const client = yield* ClientStack.single(flaky)
      const answer = yield* client.call("x").pipe(Effect.withSpan("user operation"), Effect.withTracer(tracing.tracer))
      expect(answer).toBe("ok")
      const user = spans.find((s) => s.name === "user operation")!
      const attempts = spans.filter((s) => s.name === "attempt")
      expect(attempts).toHaveLength(2)
      expect(attempts.every((a) => a.parentSpanId === user.spanId && a.traceId === user.traceId)).toBe(true)
      expect(attempts.map((a) => [a.kind, a.attributes.get("weir.response_class"), a.error !== undefined])).toEqual([
        ["client", "retryable_failure", true],
        ["client", "success", false]
      ])
    }))

  it.effect("no current span, or an unsampled one, makes no attempt span", () =>
    Effect.gen(function*() {
      const { spans, tracing } = capture()
      const client = yield* ClientStack.single(Service.make((_: string) => Effect.succeed("ok")))
      yield* client.call("x").pipe(Effect.withTracer(tracing.tracer))
      yield* client.call("x").pipe(Effect.withSpan("quiet", { sampled: false }), Effect.withTracer(tracing.tracer))
      expect(spans).toEqual([])
      // and with the module off, not even under a sampled span
      const off = yield* ClientStack.single(Service.make((_: string) => Effect.succeed("ok"))).pipe(
        Effect.provideService(TraceFilter.Enabled, false)
      )
      yield* off.call("x").pipe(Effect.withSpan("user"), Effect.withTracer(tracing.tracer))
      expect(spans.map((s) => s.name)).toEqual(["user"])
    }))

  it.effect("each sink exports only the traces its rate keeps, unless the trace was forced", () =>
    Effect.gen(function*() {
      const all: Array<string> = []
      const none: Array<string> = []
      const tracing = Tracing.make([
        { sampleRate: 1, export: (s) => all.push(s.name) },
        { sampleRate: 0, export: (s) => none.push(s.name) }
      ])!
      expect(tracing.sampleRate).toBe(1)
      yield* Effect.void.pipe(Effect.withSpan("kept"), Effect.withTracer(tracing.tracer))
      const unkept = "0000000000000000" + "ffffffffffffffff"
      yield* Effect.void.pipe(
        Effect.withSpan("forced", { annotations: Context.make(Tracing.Origin, { traceId: unkept, forced: true }) }),
        Effect.withTracer(tracing.tracer)
      )
      yield* Effect.void.pipe(
        Effect.withSpan("unforced", { annotations: Context.make(Tracing.Origin, { traceId: unkept, forced: false }) }),
        Effect.withTracer(tracing.tracer)
      )
      expect(all).toEqual(["kept", "forced", "unforced"])
      expect(none).toEqual(["forced"])
    }))
})

describe("SpanExporter", () => {
  it.effect("batches every interval, drops past capacity and counts both", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      const sent: Array<ReadonlyArray<number>> = []
      const exporter = yield* SpanExporter.make<number>({
        stats,
        capacity: 3,
        batchSize: 2,
        send: (batch) => Effect.sync(() => void sent.push(batch))
      })
      for (let i = 0; i < 5; i++) exporter.push(i)
      expect(exporter.queued()).toBe(3)
      expect(stats.counterValue("dropped")).toBe(2)
      yield* TestClock.adjust("999 millis")
      expect(sent).toEqual([])
      yield* TestClock.adjust("1 millis")
      expect(sent).toEqual([[0, 1], [2]])
      expect(stats.counterValue("spans")).toBe(3)
    }))

  it.effect("a failed send drops its batch, counted; the next batch goes", () =>
    Effect.gen(function*() {
      const stats = Stats.makeInMemory()
      let fail = true
      const exporter = yield* SpanExporter.make<number>({
        stats,
        send: () => fail ? Effect.fail("collector down") : Effect.void
      })
      exporter.push(1)
      exporter.push(2)
      yield* TestClock.adjust("1 second")
      expect([stats.counterValue("failures"), stats.counterValue("dropped")]).toEqual([1, 2])
      fail = false
      exporter.push(3)
      yield* TestClock.adjust("1 second")
      expect(stats.counterValue("spans")).toBe(1)
    }))

  it.live("post fails on a closed port without throwing", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(SpanExporter.post(new URL("http://127.0.0.1:1/api/v2/spans"), {}, "[]"))
      expect(Exit.isFailure(exit)).toBe(true)
    }))
})

describe("io.l5d.tracelog", () => {
  it.effect("logs each sampled span at the configured level, every second", () =>
    Effect.gen(function*() {
      const lines: Array<[string, string]> = []
      const logger = Logger.make((o) => void lines.push([o.logLevel, String(o.message)]))
      yield* Effect.gen(function*() {
        const scope = yield* Scope.make()
        const started = yield* TraceLog.plugin.make({
          kind: "io.l5d.tracelog",
          sampleRate: 1,
          level: "warn",
          host: "edge-1"
        })({ registry: Stats.makeInMemory(), snapshot: () => ({}) as never }).pipe(Scope.provide(scope))
        const tracing = Tracing.make([started.tracer!])!
        yield* Effect.void.pipe(
          Effect.withSpan("/svc/books", { kind: "server", attributes: { "weir.path": "/svc/books" } }),
          Effect.withTracer(tracing.tracer)
        )
        yield* TestClock.adjust("1 second")
        expect(lines).toHaveLength(1)
        expect(lines[0]![0]).toBe("Warn")
        expect(lines[0]![1]).toMatch(
          /^trace [0-9a-f]{32} span [0-9a-f]{16} parent - server "\/svc\/books" [\d.]+ms ok host=edge-1 weir\.path=\/svc\/books$/
        )
      }).pipe(Effect.provideService(Logger.CurrentLoggers, new Set([logger])))
    }))

  it("the tracing telemeters decode with linkerd's keys and defaults, and refuse unknown keys", () => {
    const decode = S.decodeUnknownSync(Telemeters.registry.schema)
    expect(decode({ kind: "io.l5d.tracelog" })).toEqual({
      kind: "io.l5d.tracelog",
      sampleRate: 1,
      level: "INFO",
      host: "localhost"
    })
    expect(decode({ kind: "io.l5d.zipkin" })).toEqual({
      kind: "io.l5d.zipkin",
      host: "localhost",
      port: 9411,
      sampleRate: 0.001
    })
    expect(decode({ kind: "io.zipkin.http", initialSampleRate: 0.5 })).toMatchObject({
      host: "localhost:9411",
      hostHeader: "zipkin",
      initialSampleRate: 0.5
    })
    expect(decode({ kind: "io.weir.otlp", headers: { "x-key": "k" } })).toEqual({
      kind: "io.weir.otlp",
      endpoint: "http://localhost:4318/v1/traces",
      headers: { "x-key": "k" },
      encoding: "protobuf",
      serviceName: "weir",
      sampleRate: 0.001
    })
    const problems = (yaml: string) => {
      const parsed = Config.parse(yaml)
      return Result.isFailure(parsed) ? parsed.failure.map((p) => p.path) : []
    }
    const base = "routers: [{protocol: http, servers: [{port: 0}]}]\n"
    expect(problems(base + "telemetry: [{kind: io.l5d.zipkin, scribe: true}]")).toEqual(["telemetry[0].scribe"])
    expect(problems(base + "telemetry: [{kind: io.l5d.zipkin, sampleRate: 2}]")).toEqual(["telemetry[0].sampleRate"])
    expect(problems(base + "telemetry: [{kind: io.weir.otlp, endpoint: ftp://x}]")).toEqual(["telemetry[0].endpoint"])
    expect(problems(base + "telemetry: [{kind: io.l5d.tracelog, level: LOUD}]")).toEqual(["telemetry[0].level"])
    expect(problems(base + "telemetry: [{kind: io.zipkin.http, host: \"a b:9411\"}]")).toEqual(["telemetry[0].host"])
    expect(problems(base + "telemetry: [{kind: io.l5d.zipkin, host: \"zip kin\"}]")).toEqual(["telemetry[0].host"])
  })
})

describe("Zipkin v2", () => {
  it("encodes ids, kind, microsecond times, tags, the peer and an error", () => {
    const span: Tracing.SpanData = {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      parentSpanId: "a3ce929d0e0e4736",
      name: "GET attempt",
      kind: "client",
      startTime: 1_700_000_000_000_123_000n,
      endTime: 1_700_000_000_002_123_999n,
      attributes: new Map<string, unknown>([["net.peer.name", "10.0.0.7"], ["net.peer.port", 8080], [
        "http.status_code",
        503
      ]]),
      events: [],
      error: "connection refused"
    }
    expect(Zipkin.fromSpan(span, "weir")).toEqual({
      traceId: span.traceId,
      id: span.spanId,
      parentId: span.parentSpanId,
      name: "GET attempt",
      kind: "CLIENT",
      timestamp: 1_700_000_000_000_123,
      duration: 2000,
      localEndpoint: { serviceName: "weir" },
      remoteEndpoint: { ipv4: "10.0.0.7", port: 8080 },
      tags: {
        "net.peer.name": "10.0.0.7",
        "net.peer.port": "8080",
        "http.status_code": "503",
        error: "connection refused"
      }
    })
  })
})

const request = (host: string, headers: Record<string, string> = {}): HttpRequest => ({
  method: "GET",
  url: "/",
  version: "1.1",
  headers: { host, ...headers },
  body: { _tag: "Empty" }
})

describe("HttpTracing", () => {
  // the low 52 bits decide: 0.0…01 is kept at any rate above 0, 0.f…f at none below 1
  const low = "0000000000000000" + "0000000000000001"
  const high = "0000000000000000" + "ffffffffffffffff"
  const l5d = (traceId: string, flags: string) => ({
    spanId: "00000000000000aa",
    parentId: "00000000000000aa",
    traceId,
    flags
  })

  it("reads l5d-sample as linkerd does: a number clamped to [0, 1], anything else ignored", () => {
    expect(HttpTracing.sampleRateOf("0.25")).toBe(0.25)
    expect(HttpTracing.sampleRateOf(" 1 ")).toBe(1)
    expect(HttpTracing.sampleRateOf("7")).toBe(1)
    expect(HttpTracing.sampleRateOf("-0.5")).toBe(0)
    expect(HttpTracing.sampleRateOf("lots")).toBeUndefined()
    expect(HttpTracing.sampleRateOf("")).toBeUndefined()
    expect(HttpTracing.sampleRateOf(undefined)).toBeUndefined()
  })

  it("l5d-sample replaces the telemeters' rates for an undecided request, never a caller's decision", () => {
    const never = capture(0).tracing
    const always = capture(1).tracing
    // no caller context: the header's rate decides, and a kept request is recorded by every sink
    const kept = HttpTracing.decide(never, request("web"), undefined, "1")
    expect([kept.sampled, kept.forced]).toEqual([true, true])
    const dropped = HttpTracing.decide(always, request("web"), undefined, "0")
    expect([dropped.sampled, dropped.forced]).toEqual([false, false])
    // a caller context without a decision (l5d-ctx-trace without SamplingKnown): the rate applies to its id
    expect(HttpTracing.decide(never, request("web"), l5d(low.slice(16), "0000000000000000"), "0.5").sampled).toBe(true)
    expect(HttpTracing.decide(always, request("web"), l5d(high.slice(16), "0000000000000000"), "0.5").sampled).toBe(
      false
    )
    // the decision travels on: the next hop reads SamplingKnown|Sampled, or SamplingKnown alone
    expect(Headers.decodeTrace(kept.l5d)!.flags).toBe("0000000000000006")
    const out = request("web")
    const d = HttpTracing.decide(always, out, undefined, "0")
    expect(Headers.decodeTrace(d.l5d)!.flags).toBe("0000000000000002")
    // an unsampled trace starting here is written in l5d-ctx-trace only: W3C downstreams sample by
    // their own rules
    expect(out.headers["traceparent"]).toBeUndefined()
    // a caller's trace goes on unsampled in W3C form too, even when it came in Finagle's
    const joined = request("web")
    HttpTracing.decide(always, joined, l5d(low.slice(16), "0000000000000002"), undefined)
    expect(joined.headers["traceparent"]).toMatch(new RegExp(`^00-0{16}${low.slice(16)}-[0-9a-f]{16}-00$`))
    // a caller that decided is obeyed whatever l5d-sample says
    const unsampled = request("web", { traceparent: `00-${low}-00f067aa0ba902b7-00` })
    expect(HttpTracing.decide(always, unsampled, undefined, "1").sampled).toBe(false)
    const sampled = request("web", { traceparent: `00-${high}-00f067aa0ba902b7-01` })
    expect(HttpTracing.decide(never, sampled, undefined, "0").sampled).toBe(true)
    // a value that is not a number leaves the telemeters' rates to decide
    expect(HttpTracing.decide(never, request("web"), undefined, "often").sampled).toBe(false)
  })

  it("clearTraceContext removes W3C and B3 context and nothing else", () => {
    const headers: Record<string, string> = {
      host: "web",
      traceparent: `00-${low}-00f067aa0ba902b7-01`,
      tracestate: "vendor=x",
      b3: `${low}-00f067aa0ba902b7-1`,
      "x-b3-traceid": low,
      "x-b3-spanid": "00f067aa0ba902b7",
      "x-b3-parentspanid": "00f067aa0ba902b8",
      "x-b3-sampled": "1",
      "x-b3-flags": "1",
      "x-request-id": "r"
    }
    HttpTracing.clearTraceContext(headers)
    expect(headers).toEqual({ host: "web", "x-request-id": "r" })
  })

  it.effect("a binding miss is a `bind` span under the request's span; a cached binding makes none", () =>
    Effect.gen(function*() {
      const { spans, tracing } = capture()
      let lookups = 0
      // a namer that answers (the name does not exist) when the test says, after 2 s of the test's clock
      const looked = yield* Deferred.make<void>()
      const answer = yield* Deferred.make<void>()
      const slow = Namer.make(() => {
        lookups++
        return Stream.concat(
          Stream.fromEffect(
            Effect.andThen(Deferred.succeed(looked, undefined), Effect.as(Deferred.await(answer), NameTree.neg))
          ),
          Stream.never
        )
      })
      const lookedStuck = yield* Deferred.make<void>()
      const never = Namer.make(() =>
        Stream.fromEffectDrain(Effect.andThen(Deferred.succeed(lookedStuck, undefined), Effect.never))
      )
      const router = yield* Router.make({
        label: "t",
        servers: [],
        stats: Stats.noop,
        dtab: Dtab.parseUnsafe("/svc/slow => /#/slow/x; /svc/stuck => /#/never/x"),
        interpreter: yield* Interpreter.make({
          namers: [[Path.parseUnsafe("/#/slow"), slow], [Path.parseUnsafe("/#/never"), never]]
        }),
        bindingTimeout: Duration.seconds(5),
        tracing
      })
      const first = yield* Effect.forkChild(router.route(request("slow", { "l5d-dtab": "/x => /y" })))
      yield* Deferred.await(looked)
      yield* TestClock.adjust("2 seconds")
      yield* Deferred.succeed(answer, undefined)
      expect((yield* Fiber.join(first)).status).toBe(502)
      const server = spans.find((s) => s.kind === "server")!
      const bind = spans.find((s) => s.name === "bind")!
      expect(bind.parentSpanId).toBe(server.spanId)
      expect(bind.traceId).toBe(server.traceId)
      expect(bind.kind).toBe("internal")
      expect(bind.endTime - bind.startTime).toBe(2_000_000_000n)
      expect(Object.fromEntries(bind.attributes)).toEqual({ "weir.path": "/svc/slow", "weir.dtab.local": "/x=>/y" })
      expect(bind.error).toBeUndefined()
      // the binding is cached now: the same name and dtab bind at once, without a span
      expect((yield* router.route(request("slow", { "l5d-dtab": "/x => /y" }))).status).toBe(502)
      expect(spans.filter((s) => s.name === "bind")).toHaveLength(1)
      expect(spans.filter((s) => s.kind === "server")).toHaveLength(2)
      expect(lookups).toBe(1)
      // a namer that never answers: the span ends in error at the binding timeout
      const stuck = yield* Effect.forkChild(router.route(request("stuck")))
      yield* Deferred.await(lookedStuck)
      yield* TestClock.adjust("5 seconds")
      expect((yield* Fiber.join(stuck)).status).toBe(503)
      const timedOut = spans.filter((s) => s.name === "bind")[1]!
      expect(timedOut.endTime - timedOut.startTime).toBe(5_000_000_000n)
      expect(timedOut.error).toBeDefined()
    }))

  it.effect("without a sampled request there is no bind span (and no span at all)", () =>
    Effect.gen(function*() {
      const { spans, tracing } = capture(0)
      const router = yield* Router.make({
        label: "t",
        servers: [],
        stats: Stats.noop,
        dtab: Dtab.parseUnsafe("/svc/slow => /#/slow/x"),
        interpreter: yield* Interpreter.make({
          namers: [[Path.parseUnsafe("/#/slow"), Namer.make(() => Stream.make(NameTree.neg))]]
        }),
        tracing
      })
      expect((yield* router.route(request("slow"))).status).toBe(502)
      expect(spans).toEqual([])
    }))
})
