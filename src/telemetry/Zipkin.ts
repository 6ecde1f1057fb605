/**
 * Spans in Zipkin's v2 JSON model, as `POST /api/v2/spans` takes them (zipkin2 `Span`: ids as hex,
 * `timestamp` and `duration` in microseconds, `kind` `SERVER`/`CLIENT`, string `tags`, timed
 * `annotations`, `localEndpoint.serviceName`, `remoteEndpoint` from the attempt's peer address).
 * An error is the tag `error` with its message, as Zipkin's UI expects.
 *
 * Source: openzipkin/zipkin-api `zipkin2-api.yaml` (the v2 `Span` and `Endpoint` definitions).
 *
 * @since 0.1.0
 */
import type * as Tracing from "./Tracing.js"

/**
 * One span of Zipkin's v2 model.
 *
 * @since 0.1.0
 * @category model
 */
export interface ZipkinSpan {
  readonly traceId: string
  readonly id: string
  readonly parentId?: string
  readonly name: string
  readonly kind?: "CLIENT" | "SERVER" | "PRODUCER" | "CONSUMER"
  readonly timestamp: number
  readonly duration: number
  readonly localEndpoint: { readonly serviceName: string }
  readonly remoteEndpoint?: { readonly ipv4?: string; readonly ipv6?: string; readonly port?: number }
  readonly tags: Record<string, string>
  readonly annotations?: ReadonlyArray<{ readonly timestamp: number; readonly value: string }>
}

const kinds = { server: "SERVER", client: "CLIENT", producer: "PRODUCER", consumer: "CONSUMER" } as const

const micros = (nanos: bigint): number => Number(nanos / 1000n)

const ipv4 = /^\d{1,3}(\.\d{1,3}){3}$/

const tagValue = (value: unknown): string =>
  typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value)

/**
 * A span in Zipkin's v2 model, recorded by `serviceName`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const fromSpan = (span: Tracing.SpanData, serviceName: string): ZipkinSpan => {
  const tags: Record<string, string> = {}
  for (const [k, v] of span.attributes) tags[k] = tagValue(v)
  if (span.error !== undefined) tags["error"] = span.error
  const host = span.attributes.get("net.peer.name")
  const port = span.attributes.get("net.peer.port")
  const remote = typeof host === "string"
    ? {
      ...(ipv4.test(host) ? { ipv4: host } : host.includes(":") ? { ipv6: host } : {}),
      ...(typeof port === "number" ? { port } : {})
    }
    : undefined
  const kind = span.kind === "internal" ? undefined : kinds[span.kind]
  return {
    traceId: span.traceId,
    id: span.spanId,
    ...(span.parentSpanId !== undefined ? { parentId: span.parentSpanId } : {}),
    name: span.name,
    ...(kind !== undefined ? { kind } : {}),
    timestamp: micros(span.startTime),
    duration: Math.max(1, micros(span.endTime - span.startTime)),
    localEndpoint: { serviceName },
    ...(remote !== undefined && Object.keys(remote).length > 0 ? { remoteEndpoint: remote } : {}),
    tags,
    ...(span.events.length > 0
      ? { annotations: span.events.map(([value, time]) => ({ timestamp: micros(time), value })) }
      : {})
  }
}

/**
 * A batch as the body of `POST /api/v2/spans`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (spans: ReadonlyArray<Tracing.SpanData>, serviceName: string): string =>
  JSON.stringify(spans.map((s) => fromSpan(s, serviceName)))
