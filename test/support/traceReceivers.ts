/**
 * Trace collectors for tests, on loopback: one HTTP server takes OTLP/HTTP (`POST /v1/traces`, JSON
 * or protobuf, decoded here with a small protobuf reader for the fields of
 * opentelemetry-proto's `TracesData`) and Zipkin v2 (`POST /api/v2/spans`, JSON). Every span
 * received is normalized to the same shape, tagged with where it came from.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import type * as net from "node:net"

export interface ReceivedSpan {
  readonly via: "otlp-json" | "otlp-protobuf" | "zipkin"
  readonly service: string | undefined
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  /** OTLP's numeric kind, or Zipkin's kind lower-cased. */
  readonly kind: string
  readonly attributes: Record<string, unknown>
}

export interface Receiver {
  readonly port: number
  readonly spans: Array<ReceivedSpan>
  readonly requests: Array<{ readonly path: string; readonly contentType: string }>
}

// protobuf wire format: varints, 64-bit, length-delimited and 32-bit fields
type Field = { readonly no: number; readonly wire: number; readonly value: bigint | Uint8Array }

const fields = (buf: Uint8Array): Array<Field> => {
  const out: Array<Field> = []
  let i = 0
  const varint = (): bigint => {
    let result = 0n
    let shift = 0n
    for (;;) {
      const b = buf[i++]!
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return result
      shift += 7n
    }
  }
  while (i < buf.length) {
    const key = Number(varint())
    const no = key >>> 3
    const wire = key & 7
    if (wire === 0) out.push({ no, wire, value: varint() })
    else if (wire === 1) {
      out.push({ no, wire, value: Buffer.from(buf.subarray(i, i + 8)).readBigUInt64LE() })
      i += 8
    } else if (wire === 2) {
      const len = Number(varint())
      out.push({ no, wire, value: buf.subarray(i, i + len) })
      i += len
    } else if (wire === 5) {
      out.push({ no, wire, value: BigInt(Buffer.from(buf.subarray(i, i + 4)).readUInt32LE()) })
      i += 4
    } else throw new Error(`unsupported wire type ${wire}`)
  }
  return out
}

const bytes = (f: Array<Field>, no: number) => f.filter((x) => x.no === no).map((x) => x.value as Uint8Array)
const one = (f: Array<Field>, no: number) => f.find((x) => x.no === no)?.value
const text = (v: unknown) => v === undefined ? undefined : Buffer.from(v as Uint8Array).toString("utf8")
const hex = (v: unknown) => v === undefined ? undefined : Buffer.from(v as Uint8Array).toString("hex")

const anyValue = (buf: Uint8Array): unknown => {
  const f = fields(buf)[0]
  if (f === undefined) return undefined
  switch (f.no) {
    case 1:
      return text(f.value)
    case 2:
      return f.value === 1n
    case 3:
      return Number(BigInt.asIntN(64, f.value as bigint))
    case 4:
      return Buffer.from(new BigUint64Array([f.value as bigint]).buffer).readDoubleLE()
    default:
      return undefined
  }
}

const attributesOf = (list: Array<Uint8Array>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const kv of list) {
    const f = fields(kv)
    const v = one(f, 2)
    out[text(one(f, 1))!] = v === undefined ? undefined : anyValue(v as Uint8Array)
  }
  return out
}

/** Decodes a protobuf `TracesData` (= `ExportTraceServiceRequest`). */
export const decodeOtlpProtobuf = (body: Uint8Array): Array<ReceivedSpan> => {
  const spans: Array<ReceivedSpan> = []
  for (const rs of bytes(fields(body), 1)) {
    const rsf = fields(rs)
    const resource = one(rsf, 1)
    const service = resource === undefined
      ? undefined
      : attributesOf(bytes(fields(resource as Uint8Array), 1))["service.name"] as string | undefined
    for (const ss of bytes(rsf, 2)) {
      for (const s of bytes(fields(ss), 2)) {
        const f = fields(s)
        const parent = one(f, 4) as Uint8Array | undefined
        spans.push({
          via: "otlp-protobuf",
          service,
          traceId: hex(one(f, 1))!,
          spanId: hex(one(f, 2))!,
          parentSpanId: parent === undefined || parent.length === 0 ? undefined : hex(parent),
          name: text(one(f, 5))!,
          kind: String(one(f, 6) ?? 0n),
          attributes: attributesOf(bytes(f, 9))
        })
      }
    }
  }
  return spans
}

const jsonValue = (v: Record<string, unknown>): unknown =>
  "stringValue" in v
    ? v.stringValue
    : "intValue" in v
    ? Number(v.intValue)
    : "boolValue" in v
    ? v.boolValue
    : "doubleValue" in v
    ? v.doubleValue
    : undefined

/** Decodes an OTLP/JSON `TracesData`. */
export const decodeOtlpJson = (body: any): Array<ReceivedSpan> =>
  (body.resourceSpans ?? []).flatMap((rs: any) => {
    const service = (rs.resource?.attributes ?? []).find((a: any) => a.key === "service.name")?.value?.stringValue
    return (rs.scopeSpans ?? []).flatMap((ss: any) =>
      (ss.spans ?? []).map((s: any): ReceivedSpan => ({
        via: "otlp-json",
        service,
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId === undefined || s.parentSpanId === "" ? undefined : s.parentSpanId,
        name: s.name,
        kind: String(s.kind),
        attributes: Object.fromEntries((s.attributes ?? []).map((a: any) => [a.key, jsonValue(a.value)]))
      }))
    )
  })

/** Starts a collector on 127.0.0.1 taking OTLP/HTTP and Zipkin v2, closed with the scope. */
export const receiver = (options?: { readonly status?: number }): Effect.Effect<Receiver, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<Receiver & { readonly server: http.Server }>((resume) => {
      const spans: Array<ReceivedSpan> = []
      const requests: Receiver["requests"] = []
      const server = http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const body = Buffer.concat(chunks)
          const contentType = String(req.headers["content-type"] ?? "")
          requests.push({ path: req.url ?? "", contentType })
          if (options?.status !== undefined) {
            res.writeHead(options.status).end()
            return
          }
          if (req.url === "/v1/traces") {
            spans.push(
              ...(contentType.startsWith("application/x-protobuf")
                ? decodeOtlpProtobuf(body)
                : decodeOtlpJson(JSON.parse(body.toString("utf8"))))
            )
          } else if (req.url === "/api/v2/spans") {
            for (const s of JSON.parse(body.toString("utf8"))) {
              spans.push({
                via: "zipkin",
                service: s.localEndpoint?.serviceName,
                traceId: s.traceId,
                spanId: s.id,
                parentSpanId: s.parentId,
                name: s.name,
                kind: String(s.kind ?? "").toLowerCase(),
                attributes: {
                  ...s.tags,
                  ...(s.remoteEndpoint !== undefined ? { remoteEndpoint: s.remoteEndpoint } : {})
                }
              })
            }
          }
          res.writeHead(req.url === "/api/v2/spans" ? 202 : 200, { "content-type": "application/json" }).end("{}")
        })
      })
      server.listen(
        0,
        "127.0.0.1",
        () => resume(Effect.succeed({ port: (server.address() as net.AddressInfo).port, spans, requests, server }))
      )
    }),
    (r) =>
      Effect.callback<void>((resume) => {
        r.server.closeAllConnections()
        r.server.close(() => resume(Effect.void))
      })
  )
