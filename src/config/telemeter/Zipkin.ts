/**
 * The Zipkin telemeters `io.l5d.zipkin` and `io.zipkin.http`: sampled spans are sent to a Zipkin
 * collector as Zipkin v2 JSON (`POST /api/v2/spans`), in batches every second (`telemetry/SpanExporter`:
 * bounded queue, failures dropped and counted under `telemetry/<kind>/`).
 *
 * linkerd's `io.l5d.zipkin` sent Thrift over Scribe (port 1463) and linkerd-zipkin's
 * `io.zipkin.http` sent over HTTP; weir speaks only HTTP v2 JSON, which every Zipkin since 2.0 (and
 * Jaeger, Tempo, the OpenTelemetry Collector's zipkin receiver) accepts, so `io.l5d.zipkin`'s port
 * defaults to Zipkin's HTTP port 9411 — a Scribe port would answer nothing weir sends.
 *
 * ```yaml
 * telemetry:
 * - kind: io.l5d.zipkin
 *   host: localhost        # the default
 *   port: 9411             # the default (HTTP, not Scribe)
 *   sampleRate: 0.001      # the default
 * - kind: io.zipkin.http
 *   host: localhost:9411   # the default: host[:port]
 *   hostHeader: zipkin     # the default: the Host header sent
 *   initialSampleRate: 0.001  # the default (linkerd-zipkin's name); `sampleRate` is accepted too
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import * as SpanExporter from "../../telemetry/SpanExporter.js"
import type * as Telemeter from "../../telemetry/Telemeter.js"
import type * as Tracing from "../../telemetry/Tracing.js"
import * as Zipkin from "../../telemetry/Zipkin.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, Port, Probability, withDefault } from "../Schemas.js"

const parsesAs = (what: string, url: (s: string) => string) =>
  S.makeFilter((s: string) => {
    try {
      new URL(url(s))
      return undefined
    } catch {
      return what
    }
  })

const hostUrl = (host: string) => `http://${host.includes(":") ? `[${host}]` : host}:9411/`

/**
 * `{kind: io.l5d.zipkin, host, port, sampleRate}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.zipkin"),
  host: NonEmptyString.check(parsesAs("a host name or IP address", hostUrl)).pipe(withDefault("localhost")),
  port: Port.pipe(withDefault(9411)),
  sampleRate: Probability.pipe(withDefault(0.001))
})

/**
 * `{kind: io.zipkin.http, host, hostHeader, initialSampleRate, sampleRate}`; `sampleRate`, when
 * given, wins over `initialSampleRate`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const HttpSchema = S.Struct({
  kind: S.Literal("io.zipkin.http"),
  host: NonEmptyString.check(parsesAs("host[:port]", (s) => `http://${s}/`)).pipe(withDefault("localhost:9411")),
  hostHeader: NonEmptyString.pipe(withDefault("zipkin")),
  initialSampleRate: Probability.pipe(withDefault(0.001)),
  sampleRate: S.optionalKey(Probability)
})

/**
 * Starts a Zipkin v2 exporter to `url` recording spans as `serviceName`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (options: {
  readonly kind: string
  readonly url: URL
  readonly hostHeader?: string | undefined
  readonly sampleRate: number
  readonly serviceName?: string | undefined
}): Telemeter.Make =>
(context) =>
  Effect.map(
    SpanExporter.make<Tracing.SpanData>({
      stats: context.registry.scope("telemetry", options.kind),
      send: (batch) =>
        SpanExporter.post(options.url, {
          "content-type": "application/json",
          ...(options.hostHeader !== undefined ? { host: options.hostHeader } : {})
        }, Zipkin.encode(batch, options.serviceName ?? "weir"))
    }),
    (exporter) => ({ endpoints: [], tracer: { sampleRate: options.sampleRate, export: exporter.push } })
  )

const urlOf = (hostPort: string): URL => new URL(`http://${hostPort}/api/v2/spans`)

/**
 * The plugin `io.l5d.zipkin`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.zipkin" },
  make: (config): Telemeter.Make =>
    start({
      kind: config.kind,
      url: new URL(`/api/v2/spans`, hostUrl(config.host).replace(":9411/", `:${config.port}/`)),
      sampleRate: config.sampleRate
    })
})

/**
 * The plugin `io.zipkin.http`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const httpPlugin = Plugin.make({
  schema: HttpSchema,
  example: { kind: "io.zipkin.http" },
  make: (config): Telemeter.Make =>
    start({
      kind: config.kind,
      url: urlOf(config.host),
      hostHeader: config.hostHeader,
      sampleRate: config.sampleRate ?? config.initialSampleRate
    })
})
