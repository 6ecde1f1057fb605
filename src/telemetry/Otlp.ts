/**
 * Spans as OTLP trace data (`ExportTraceServiceRequest`), serialized by `effect/observability`'s
 * `OtlpSerialization` — protobuf (`application/x-protobuf`) or JSON (`application/json`), the two
 * encodings of OTLP/HTTP. weir builds the request itself (its spans come from its own tracer, which
 * fans out to several telemeters) and reuses Effect's encoders, so OTLP needs no OpenTelemetry SDK
 * at run time.
 *
 * Source: opentelemetry-proto `trace/v1/trace.proto` and the OTLP/HTTP specification.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as HttpBody from "effect/http/HttpBody"
import * as OtlpResource from "effect/observability/OtlpResource"
import * as OtlpSerialization from "effect/observability/OtlpSerialization"
import type * as OtlpTracer from "effect/observability/OtlpTracer"
import { version } from "../version.js"
import type * as Tracing from "./Tracing.js"

/**
 * The two OTLP/HTTP encodings.
 *
 * @since 0.1.0
 * @category model
 */
export type Encoding = "protobuf" | "json"

const kinds = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const

type OtlpSpan = OtlpTracer.ScopeSpan["spans"][number]

/**
 * One span in OTLP's model.
 *
 * @since 0.1.0
 * @category encoding
 */
export const fromSpan = (span: Tracing.SpanData): OtlpSpan => ({
  traceId: span.traceId,
  spanId: span.spanId,
  parentSpanId: span.parentSpanId,
  name: span.name,
  kind: kinds[span.kind],
  startTimeUnixNano: String(span.startTime),
  endTimeUnixNano: String(span.endTime),
  attributes: OtlpResource.entriesToAttributes(span.attributes),
  droppedAttributesCount: 0,
  events: span.events.map(([name, time, attributes]) => ({
    name,
    timeUnixNano: String(time),
    attributes: attributes === undefined ? [] : OtlpResource.entriesToAttributes(Object.entries(attributes)),
    droppedAttributesCount: 0
  })),
  droppedEventsCount: 0,
  status: span.error === undefined ? { code: 1 } : { code: 2, message: span.error },
  links: [],
  droppedLinksCount: 0
})

/**
 * The trace data of a batch, under a resource naming `serviceName`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const traceData = (spans: ReadonlyArray<Tracing.SpanData>, serviceName: string): OtlpTracer.TraceData => ({
  resourceSpans: [{
    resource: OtlpResource.make({ serviceName, serviceVersion: version }),
    scopeSpans: [{ scope: { name: "weir", version }, spans: spans.map(fromSpan) }]
  }]
})

/**
 * An encoder of batches: the request body and its content type.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encoder = (
  encoding: Encoding,
  serviceName: string
): (spans: ReadonlyArray<Tracing.SpanData>) => { readonly body: Uint8Array; readonly contentType: string } => {
  const serialization = Effect.runSync(
    Effect.provide(
      Effect.service(OtlpSerialization.OtlpSerialization),
      encoding === "json" ? OtlpSerialization.layerJson : OtlpSerialization.layerProtobuf
    )
  )
  return (spans) => {
    const body = serialization.traces(traceData(spans, serviceName)) as HttpBody.Uint8Array
    return { body: body.body, contentType: body.contentType }
  }
}
