/**
 * Distributed tracing end to end, on loopback: an OpenTelemetry-instrumented caller and app (the
 * OTel Node SDK, W3C propagation, exporting OTLP/JSON) around two weir hops; the spans of all four
 * arrive at a local OTLP receiver (weir's as protobuf from one hop and JSON from the other) and, for
 * weir's, at a Zipkin v2 receiver, all in one trace and linked parent to child.
 */
import { describe, expect, it } from "@effect/vitest"
import { context, propagation, SpanKind, trace } from "@opentelemetry/api"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as Headers from "../../src/http/Headers.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import * as Stats from "../../src/Stats.js"
import { rawBackend, rawCall } from "../h2/support.js"
import { backend, getUrl as get } from "../http/support.js"
import { waitFor } from "../support/poll.js"
import { type ReceivedSpan, receiver } from "../support/traceReceivers.js"

const linker = (yaml: string) =>
  Effect.gen(function*() {
    const parsed = Config.parse(yaml)
    if (Result.isFailure(parsed)) throw new Error(JSON.stringify(parsed.failure))
    const registry = Stats.makeInMemory()
    const l = yield* Linker.make(parsed.success, { registry })
    return { linker: l, registry, url: `http://127.0.0.1:${l.routers[0]!.servers[0]!.port}` }
  })

const router = (label: string, port: number, telemetry: string, extra = "") => `
admin: {port: 0}
routers:
- protocol: http
  label: ${label}
  dtab: /svc => /$/inet/127.0.0.1/${port}
  servers: [{port: 0}]
${extra}
telemetry:
${telemetry}
`

describe("distributed tracing", () => {
  it.live("a trace crosses an OTel caller, two weir hops and an OTel app, parent-linked at OTLP and Zipkin", () =>
    Effect.gen(function*() {
      const collector = yield* receiver()
      const provider = new NodeTracerProvider({
        spanProcessors: [
          new SimpleSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${collector.port}/v1/traces` }))
        ]
      })
      provider.register()
      yield* Effect.addFinalizer(() => Effect.promise(() => provider.shutdown()))
      const tracer = trace.getTracer("otel-app")
      const app = yield* backend((req, res) => {
        const parent = propagation.extract(context.active(), req.headers)
        const span = tracer.startSpan("app handles", { kind: SpanKind.SERVER }, parent)
        req.resume()
        req.on("end", () => {
          span.end()
          res.writeHead(200, { "content-type": "text/plain" }).end("app")
        })
      })
      const scope = yield* Scope.make()
      const inner = yield* linker(router(
        "inner",
        app.port,
        `- kind: io.weir.otlp
  endpoint: http://127.0.0.1:${collector.port}/v1/traces
  serviceName: weir-inner
  sampleRate: 0
- kind: io.l5d.zipkin
  host: 127.0.0.1
  port: ${collector.port}
  sampleRate: 0`
      )).pipe(Scope.provide(scope))
      const edge = yield* linker(router(
        "edge",
        inner.linker.routers[0]!.servers[0]!.port,
        `- kind: io.weir.otlp
  endpoint: http://127.0.0.1:${collector.port}/v1/traces
  encoding: json
  serviceName: weir-edge
  sampleRate: 0
- kind: io.zipkin.http
  host: 127.0.0.1:${collector.port}
  sampleRate: 0`
      )).pipe(Scope.provide(scope))

      // the caller samples; weir's sampleRate 0 still records it, as the caller decided
      const caller = tracer.startSpan("caller", { kind: SpanKind.CLIENT })
      const headers: Record<string, string> = { host: "books" }
      propagation.inject(trace.setSpan(context.active(), caller), headers)
      const reply = yield* get(`${edge.url}/books/1`, headers)
      caller.end()
      expect(reply.status).toBe(200)
      expect(reply.body).toBe("app")
      yield* Effect.promise(() => provider.forceFlush())
      yield* Scope.close(scope, Exit.void)

      const traceId = caller.spanContext().traceId
      const otlp = collector.spans.filter((s) => s.via !== "zipkin")
      const zipkin = collector.spans.filter((s) => s.via === "zipkin")
      expect(new Set(collector.spans.map((s) => s.traceId))).toEqual(new Set([traceId]))
      const byService = (service: string, kind: string) => otlp.filter((s) => s.service === service && s.kind === kind)
      // OTLP kinds: 2 server, 3 client
      const [edgeServer] = byService("weir-edge", "2")
      const [edgeAttempt] = byService("weir-edge", "3")
      const [innerServer] = byService("weir-inner", "2")
      const [innerAttempt] = byService("weir-inner", "3")
      // OTLP kind 1, internal: each hop bound /svc/books for the first time, a binding miss
      const [edgeBind] = byService("weir-edge", "1")
      const [innerBind] = byService("weir-inner", "1")
      const appSpan = otlp.find((s) => s.name === "app handles")!
      const callerSpan = otlp.find((s) => s.name === "caller")!
      expect([edgeServer, edgeAttempt, innerServer, innerAttempt].map((s) => s?.via)).toEqual([
        "otlp-json",
        "otlp-json",
        "otlp-protobuf",
        "otlp-protobuf"
      ])
      expect(edgeServer!.parentSpanId).toBe(callerSpan.spanId)
      expect(edgeAttempt!.parentSpanId).toBe(edgeServer!.spanId)
      expect(innerServer!.parentSpanId).toBe(edgeAttempt!.spanId)
      expect(innerAttempt!.parentSpanId).toBe(innerServer!.spanId)
      expect(appSpan.parentSpanId).toBe(innerAttempt!.spanId)
      expect([edgeBind!.name, edgeBind!.parentSpanId, innerBind!.name, innerBind!.parentSpanId]).toEqual([
        "bind",
        edgeServer!.spanId,
        "bind",
        innerServer!.spanId
      ])
      expect(edgeBind!.attributes).toMatchObject({ "weir.path": "/svc/books", "weir.dtab.local": "" })
      expect(edgeServer!.name).toBe("/svc/books")
      expect(edgeServer!.attributes).toMatchObject({
        "weir.router": "edge",
        "weir.path": "/svc/books",
        "weir.bound": `/$/inet/127.0.0.1/${inner.linker.routers[0]!.servers[0]!.port}`,
        "http.status_code": 200,
        "weir.response_class": "success",
        "weir.dtab.local": ""
      })
      expect(String(edgeServer!.attributes["weir.dtab"]).replace(/ /g, "")).toBe(
        `/svc=>/$/inet/127.0.0.1/${inner.linker.routers[0]!.servers[0]!.port}`
      )
      expect(innerAttempt!.attributes).toMatchObject({
        "weir.endpoint": `127.0.0.1:${app.port}`,
        "http.status_code": 200,
        "weir.response_class": "success"
      })
      // Zipkin got weir's six spans, the same ids
      const key = (s: ReceivedSpan) => `${s.spanId}<${s.parentSpanId}`
      expect(zipkin.map(key).sort()).toEqual(
        [edgeServer!, edgeBind!, edgeAttempt!, innerServer!, innerBind!, innerAttempt!].map(key).sort()
      )
      expect(zipkin.find((s) => s.spanId === innerAttempt!.spanId)).toMatchObject({
        kind: "client",
        attributes: { remoteEndpoint: { ipv4: "127.0.0.1", port: app.port }, "http.status_code": "200" }
      })
      expect(edge.registry.counterValue("telemetry/io.weir.otlp/spans")).toBe(3)
      expect(edge.registry.counterValue("telemetry/io.zipkin.http/spans")).toBe(3)
    }))

  it.live("retries are sibling attempt spans under the request's span", () =>
    Effect.gen(function*() {
      const collector = yield* receiver()
      let n = 0
      const flaky = yield* backend((req, res) => {
        req.resume()
        req.on("end", () => {
          n++
          res.writeHead(n <= 2 ? 503 : 200).end(n <= 2 ? "busy" : "fine")
        })
      })
      const scope = yield* Scope.make()
      const weir = yield* linker(
        router(
          "web",
          flaky.port,
          `- kind: io.weir.otlp
  endpoint: http://127.0.0.1:${collector.port}/v1/traces
  sampleRate: 1.0`,
          `  service:
    responseClassifier:
      kind: io.l5d.http.retryableRead5XX`
        ).replace("\n\ntelemetry", "\ntelemetry")
      ).pipe(Scope.provide(scope))
      const reply = yield* get(`${weir.url}/`, { host: "web" })
      expect(reply.status).toBe(200)
      yield* Scope.close(scope, Exit.void)
      const server = collector.spans.filter((s) => s.kind === "2")
      const attempts = collector.spans.filter((s) => s.kind === "3")
      expect(server).toHaveLength(1)
      expect(attempts).toHaveLength(3)
      expect(attempts.every((a) => a.parentSpanId === server[0]!.spanId)).toBe(true)
      // each attempt as the client judged it (the path's classifier, which made them retryable, judges the request)
      expect(attempts.map((a) => [a.attributes["http.status_code"], a.attributes["weir.response_class"]])).toEqual([
        [503, "failure"],
        [503, "failure"],
        [200, "success"]
      ])
      expect(new Set(attempts.map((a) => a.attributes["weir.endpoint"]))).toEqual(new Set([`127.0.0.1:${flaky.port}`]))
      expect(server[0]!.attributes["http.status_code"]).toBe(200)
    }))

  it.live("an unsampled caller produces no spans, and its decision and B3 form travel on", () =>
    Effect.gen(function*() {
      const collector = yield* receiver()
      const app = yield* backend((req, res) => {
        req.resume()
        req.on("end", () => res.writeHead(200).end("ok"))
      })
      const scope = yield* Scope.make()
      const weir = yield* linker(router(
        "web",
        app.port,
        `- kind: io.l5d.zipkin
  host: 127.0.0.1
  port: ${collector.port}
  sampleRate: 1.0`
      )).pipe(Scope.provide(scope))
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
      expect((yield* get(`${weir.url}/`, { host: "web", traceparent: `00-${traceId}-00f067aa0ba902b7-00` })).status)
        .toBe(200)
      expect(
        (yield* get(`${weir.url}/`, { host: "web", b3: "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0" })).status
      )
        .toBe(200)
      // without a caller, sampleRate 1.0 traces it
      expect((yield* get(`${weir.url}/`, { host: "web" })).status).toBe(200)
      yield* Scope.close(scope, Exit.void)

      const [w3c, b3, fresh] = app.seen.map((r) => r.headers)
      expect(w3c!["traceparent"]).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`))
      expect(w3c!["traceparent"]).not.toContain("00f067aa0ba902b7")
      expect(w3c!["b3"]).toBeUndefined()
      expect(b3!["b3"]).toMatch(/^80f198ee56343ba864fe8b2a57d3eff7-[0-9a-f]{16}-0-e457b5a2e4d86bd1$/)
      expect(b3!["traceparent"]).toMatch(/^00-80f198ee56343ba864fe8b2a57d3eff7-[0-9a-f]{16}-00$/)
      expect(fresh!["traceparent"]).toMatch(/-01$/)
      // only the third request's two spans (server and attempt) were recorded
      expect(collector.spans).toHaveLength(2)
      expect(new Set(collector.spans.map((s) => s.traceId)).size).toBe(1)
      expect(fresh!["traceparent"]).toContain(collector.spans[0]!.traceId)
      expect(fresh!["l5d-reqid"]).toBe(collector.spans[0]!.traceId.slice(16))
    }))

  it.live("B3 multi-header and l5d-ctx-trace callers: their trace continues, in their own form", () =>
    Effect.gen(function*() {
      const collector = yield* receiver()
      const app = yield* backend((req, res) => {
        req.resume()
        req.on("end", () => res.writeHead(200).end("ok"))
      })
      const scope = yield* Scope.make()
      const weir = yield* linker(router(
        "web",
        app.port,
        `- kind: io.l5d.zipkin
  host: 127.0.0.1
  port: ${collector.port}
  sampleRate: 0`
      )).pipe(Scope.provide(scope))
      // X-B3-* with Sampled: 1 is traced though the rate is 0, and answered in X-B3-*
      expect(
        (yield* get(`${weir.url}/`, {
          host: "web",
          "x-b3-traceid": "463ac35c9f6413ad",
          "x-b3-spanid": "a2fb4a1d1a96d312",
          "x-b3-sampled": "1"
        })).status
      ).toBe(200)
      // linkerd's l5d-ctx-trace with Finagle's SamplingKnown|Sampled flags (6)
      const l5d = Headers.encodeTrace({
        spanId: "00000000000000aa",
        parentId: "00000000000000bb",
        traceId: "1234567890abcdef",
        flags: "0000000000000006"
      })
      expect((yield* get(`${weir.url}/`, { host: "web", "l5d-ctx-trace": l5d })).status).toBe(200)
      yield* Scope.close(scope, Exit.void)

      const [multi, linkerd] = app.seen.map((r) => r.headers)
      const servers = collector.spans.filter((s) => s.kind === "server")
      const attempts = collector.spans.filter((s) => s.kind === "client")
      expect(servers.map((s) => [s.traceId, s.parentSpanId])).toEqual([
        ["0000000000000000463ac35c9f6413ad", "a2fb4a1d1a96d312"],
        ["00000000000000001234567890abcdef", "00000000000000aa"]
      ])
      expect(multi).toMatchObject({
        "x-b3-traceid": "0000000000000000463ac35c9f6413ad",
        "x-b3-spanid": attempts[0]!.spanId,
        "x-b3-parentspanid": servers[0]!.spanId,
        "x-b3-sampled": "1"
      })
      expect(multi!["b3"]).toBeUndefined()
      const next = Headers.decodeTrace(String(linkerd!["l5d-ctx-trace"]))!
      expect(next).toMatchObject({
        traceId: "1234567890abcdef",
        spanId: attempts[1]!.spanId,
        parentId: servers[1]!.spanId,
        flags: "0000000000000006"
      })
      expect(linkerd!["l5d-reqid"]).toBe("1234567890abcdef")
      expect(linkerd!["traceparent"]).toBe(`00-00000000000000001234567890abcdef-${attempts[1]!.spanId}-01`)
    }))

  it.live("l5d-sample sets the rate for one undecided request; a caller's own decision wins", () =>
    Effect.gen(function*() {
      const collector = yield* receiver()
      const app = yield* backend((req, res) => {
        req.resume()
        req.on("end", () => res.writeHead(200).end("ok"))
      })
      const scope = yield* Scope.make()
      const weir = yield* linker(router(
        "web",
        app.port,
        `- kind: io.l5d.zipkin
  host: 127.0.0.1
  port: ${collector.port}
  sampleRate: 0`
      )).pipe(Scope.provide(scope))
      // traced at rate 0 because the request asks for 1.0
      expect((yield* get(`${weir.url}/`, { host: "web", "l5d-sample": "1.0" })).status).toBe(200)
      // the caller said unsampled: l5d-sample does not override it
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
      expect(
        (yield* get(`${weir.url}/`, {
          host: "web",
          "l5d-sample": "1",
          traceparent: `00-${traceId}-00f067aa0ba902b7-00`
        })).status
      ).toBe(200)
      // no header: the telemeter's rate, 0
      expect((yield* get(`${weir.url}/`, { host: "web" })).status).toBe(200)
      yield* Scope.close(scope, Exit.void)

      const [asked, refused, plain] = app.seen.map((r) => r.headers)
      // the server span, its attempt, and the bind span of the name's first binding (Zipkin: no kind)
      expect(collector.spans.map((s) => s.kind).sort()).toEqual(["", "client", "server"])
      const server = collector.spans.find((s) => s.kind === "server")!
      expect(server.parentSpanId).toBeUndefined()
      // consumed, and the decision travels on in W3C and Finagle form
      expect(asked!["l5d-sample"]).toBeUndefined()
      expect(asked!["traceparent"]).toMatch(new RegExp(`^00-${server.traceId}-[0-9a-f]{16}-01$`))
      expect(Headers.decodeTrace(String(asked!["l5d-ctx-trace"]))!.flags).toBe("0000000000000006")
      expect(refused!["traceparent"]).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`))
      expect(refused!["l5d-sample"]).toBeUndefined()
      // an unsampled trace that starts at weir: l5d-ctx-trace only
      expect(plain!["traceparent"]).toBeUndefined()
      expect(Headers.decodeTrace(String(plain!["l5d-ctx-trace"]))!.flags).toBe("0000000000000002")
    }))

  it.live("a clearContext server starts a new trace: the caller's context is neither used nor passed on", () =>
    Effect.gen(function*() {
      const collector = yield* receiver()
      const app = yield* backend((req, res) => {
        req.resume()
        req.on("end", () => res.writeHead(200).end("ok"))
      })
      const scope = yield* Scope.make()
      const weir = yield* linker(
        router(
          "edge",
          app.port,
          `- kind: io.l5d.zipkin
  host: 127.0.0.1
  port: ${collector.port}
  sampleRate: 1.0`
        ).replace("servers: [{port: 0}]", "servers: [{port: 0, clearContext: true}]")
      ).pipe(Scope.provide(scope))
      const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
      const l5d = Headers.encodeTrace({
        spanId: "00000000000000aa",
        parentId: "00000000000000bb",
        traceId: "1234567890abcdef",
        flags: "0000000000000002"
      })
      // every context an untrusted caller could send, all saying "do not sample"
      const reply = yield* get(`${weir.url}/`, {
        host: "web",
        traceparent: `00-${callerTrace}-00f067aa0ba902b7-00`,
        tracestate: "vendor=secret",
        b3: `${callerTrace}-00f067aa0ba902b7-0`,
        "x-b3-traceid": callerTrace,
        "x-b3-spanid": "00f067aa0ba902b7",
        "x-b3-parentspanid": "00f067aa0ba902b8",
        "x-b3-sampled": "0",
        "x-b3-flags": "0",
        "l5d-ctx-trace": l5d,
        "l5d-sample": "0"
      })
      expect(reply.status).toBe(200)
      yield* Scope.close(scope, Exit.void)

      // sampled at the edge's own rate, as a root: no parent, a trace id of its own
      const server = collector.spans.find((s) => s.kind === "server")!
      const attempt = collector.spans.find((s) => s.kind === "client")!
      expect(collector.spans.map((s) => s.kind).sort()).toEqual(["", "client", "server"])
      expect(server.parentSpanId).toBeUndefined()
      expect(server.traceId).not.toBe(callerTrace)
      expect(server.traceId.slice(16)).not.toBe("1234567890abcdef")
      const seen = app.seen[0]!.headers
      expect(seen["traceparent"]).toBe(`00-${server.traceId}-${attempt.spanId}-01`)
      for (const h of ["tracestate", "b3", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled"]) {
        expect(seen[h]).toBeUndefined()
      }
      expect(seen["x-b3-flags"]).toBeUndefined()
      expect(seen["l5d-sample"]).toBeUndefined()
      expect(Headers.decodeTrace(String(seen["l5d-ctx-trace"]))!.traceId).toBe(server.traceId.slice(16))
    }))

  it.live("an exporter whose collector fails drops and counts spans; requests are unaffected", () =>
    Effect.gen(function*() {
      const failing = yield* receiver({ status: 500 })
      const app = yield* backend((req, res) => {
        req.resume()
        req.on("end", () => res.writeHead(200).end("ok"))
      })
      const scope = yield* Scope.make()
      const weir = yield* linker(router(
        "web",
        app.port,
        `- kind: io.weir.otlp
  endpoint: http://127.0.0.1:${failing.port}/v1/traces
  sampleRate: 1.0`
      )).pipe(Scope.provide(scope))
      for (let i = 0; i < 3; i++) expect((yield* get(`${weir.url}/`, { host: "web" })).status).toBe(200)
      yield* Scope.close(scope, Exit.void)
      yield* waitFor(() => failing.requests.length > 0, "an export attempt")
      // a server and an attempt span per request, and the first request's bind span
      expect(weir.registry.counterValue("telemetry/io.weir.otlp/dropped")).toBe(7)
      expect(weir.registry.counterValue("telemetry/io.weir.otlp/failures")).toBeGreaterThan(0)
      expect(weir.registry.counterValue("telemetry/io.weir.otlp/spans")).toBe(0)
    }))

  it.live("an h2 router traces the same way: a server span and an attempt span, context on the stream", () =>
    Effect.gen(function*() {
      const collector = yield* receiver()
      const app = yield* rawBackend((stream) => {
        stream.respond({ ":status": 200 })
        stream.end("h2 ok")
      })
      const scope = yield* Scope.make()
      const parsed = Config.parse(`
admin: {port: 0}
routers:
- protocol: h2
  label: grpc
  dtab: /svc => /$/inet/127.0.0.1/${app.port}
  servers: [{port: 0}]
telemetry:
- kind: io.l5d.zipkin
  host: 127.0.0.1
  port: ${collector.port}
  sampleRate: 1.0
`)
      if (Result.isFailure(parsed)) throw new Error(JSON.stringify(parsed.failure))
      const l = yield* Linker.make(parsed.success).pipe(Scope.provide(scope))
      const reply = yield* rawCall(l.routers[0]!.servers[0]!.port, {
        ":method": "GET",
        ":path": "/",
        ":authority": "books",
        b3: "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1"
      })
      expect(reply.headers[":status"]).toBe(200)
      yield* Scope.close(scope, Exit.void)
      const server = collector.spans.find((s) => s.kind === "server")!
      const attempt = collector.spans.find((s) => s.kind === "client")!
      expect(server).toMatchObject({ traceId: "80f198ee56343ba864fe8b2a57d3eff7", parentSpanId: "e457b5a2e4d86bd1" })
      expect(attempt.parentSpanId).toBe(server.spanId)
      const seen = app.seen[0]!
      expect(seen["traceparent"]).toBe(`00-80f198ee56343ba864fe8b2a57d3eff7-${attempt.spanId}-01`)
      expect(seen["b3"]).toBe(`80f198ee56343ba864fe8b2a57d3eff7-${attempt.spanId}-1-${server.spanId}`)
    }))
})
