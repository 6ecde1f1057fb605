/**
 * The telemeter `io.weir.otlp` (weir's own; linkerd 1.x had no OTLP): sampled spans are sent to an
 * OpenTelemetry collector (or any OTLP/HTTP endpoint: Jaeger, Tempo, a vendor) as OTLP/HTTP, in
 * protobuf (the default) or JSON, in batches every second (`telemetry/SpanExporter`: bounded queue,
 * failures dropped and counted under `telemetry/io.weir.otlp/`). The encoding is
 * `effect/observability`'s, so no OpenTelemetry SDK runs in the proxy.
 *
 * ```yaml
 * telemetry:
 * - kind: io.weir.otlp
 *   endpoint: http://localhost:4318/v1/traces   # the default
 *   headers: {authorization: "Bearer …"}        # defaults to none
 *   encoding: protobuf                          # the default; or json
 *   serviceName: weir                           # the default: the resource's service.name
 *   sampleRate: 0.001                           # the default
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import * as Otlp from "../../telemetry/Otlp.js"
import * as SpanExporter from "../../telemetry/SpanExporter.js"
import type * as Telemeter from "../../telemetry/Telemeter.js"
import type * as Tracing from "../../telemetry/Tracing.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, Probability, withDefault } from "../Schemas.js"

const HttpUrl = NonEmptyString.check(
  S.makeFilter((s) => {
    try {
      const u = new URL(s)
      return u.protocol === "http:" || u.protocol === "https:" ? undefined : "an http:// or https:// URL"
    } catch {
      return "an http:// or https:// URL"
    }
  })
)

/**
 * `{kind: io.weir.otlp, endpoint, headers, encoding, serviceName, sampleRate}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.weir.otlp"),
  endpoint: HttpUrl.pipe(withDefault("http://localhost:4318/v1/traces")),
  headers: S.Record(S.String, S.String).pipe(withDefault({})),
  encoding: S.Literals(["protobuf", "json"]).pipe(withDefault("protobuf")),
  serviceName: NonEmptyString.pipe(withDefault("weir")),
  sampleRate: Probability.pipe(withDefault(0.001))
})

/**
 * The plugin: an OTLP/HTTP span exporter, running for as long as the proxy.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.weir.otlp" },
  make: (config): Telemeter.Make => (context) => {
    const url = new URL(config.endpoint)
    const encode = Otlp.encoder(config.encoding, config.serviceName)
    return Effect.map(
      SpanExporter.make<Tracing.SpanData>({
        stats: context.registry.scope("telemetry", config.kind),
        send: (batch) => {
          const { body, contentType } = encode(batch)
          return SpanExporter.post(url, { ...config.headers, "content-type": contentType }, body)
        }
      }),
      (exporter) => ({ endpoints: [], tracer: { sampleRate: config.sampleRate, export: exporter.push } })
    )
  }
})
