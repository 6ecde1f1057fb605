/**
 * The statsd exporter behind linkerd's `io.l5d.statsd` telemeter: every `gaugeInterval` it sends the
 * registry's metrics over UDP in the statsd text format — counters as the increase since the last
 * send (`|c`), gauges as their value (`|g`), and each latency histogram of the closing window as
 * timers (`|ms`) for its count, mean, p50, p99 and max, so statsd-compatible collectors aggregate them.
 * Names are linkerd's scope joined by `.` under `prefix` (`linkerd.rt.web.service.svc_books.requests`),
 * with characters statsd treats as separators replaced by `_`.
 *
 * linkerd's telemeter sends counter increments and timer samples as they happen, sampled at
 * `sampleRate`; weir aggregates over the interval instead (one packet per metric and interval, never
 * one per request), and `sampleRate` applies to the histogram samples it reports (`|@rate`).
 *
 * ```yaml
 * telemetry:
 * - kind: io.l5d.statsd
 *   experimental: true
 *   prefix: linkerd
 *   hostname: 127.0.0.1
 *   port: 8125
 *   gaugeIntervalMs: 10000
 *   sampleRate: 0.01
 * ```
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as dgram from "node:dgram"
import * as net from "node:net"
import type * as Metrics from "./Metrics.js"

/**
 * Where and how often to send.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** Prepended to every name, then a `.`. Defaults to `linkerd`. */
  readonly prefix?: string | undefined
  /** Defaults to `127.0.0.1`. */
  readonly host?: string | undefined
  /** Defaults to `8125`. */
  readonly port?: number | undefined
  /** Defaults to 10 seconds. */
  readonly interval?: Duration.Input | undefined
  /** Written on histogram samples as `|@rate` when below 1. Defaults to `0.01`. */
  readonly sampleRate?: number | undefined
}

/** Largest payload per datagram: stays under a typical MTU so nothing is fragmented. */
const maxPacket = 1400

/**
 * A metric name in statsd form: the `/`-separated scope joined by `.`, every character other than
 * letters, digits, `_` and `-` replaced by `_`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const statName = (prefix: string, name: string): string => {
  const segments = name.split("/").filter((s) => s !== "").map((s) => s.replace(/[^A-Za-z0-9_-]/g, "_"))
  return prefix === "" ? segments.join(".") : `${prefix}.${segments.join(".")}`
}

/**
 * The statsd lines for one interval: counters as the increase since `previous` (which is updated),
 * gauges, and the window's histogram summaries as timers.
 *
 * @since 0.1.0
 * @category formatting
 */
export const lines = (
  snapshot: Metrics.Snapshot,
  previous: Map<string, number>,
  prefix: string,
  sampleRate: number
): Array<string> => {
  const out: Array<string> = []
  for (const [k, v] of snapshot.counters) {
    const delta = v - (previous.get(k) ?? 0)
    previous.set(k, v)
    if (delta !== 0) out.push(`${statName(prefix, k)}:${delta}|c`)
  }
  for (const [k, v] of snapshot.gauges) if (Number.isFinite(v)) out.push(`${statName(prefix, k)}:${v}|g`)
  const rate = sampleRate < 1 ? `|@${sampleRate}` : ""
  for (const [k, h] of snapshot.histograms) {
    if (h.count === 0) continue
    const name = statName(prefix, k)
    out.push(`${name}.count:${h.count}|g`)
    for (const [field, v] of [["avg", h.avg], ["p50", h.p50], ["p99", h.p99], ["max", h.max]] as const) {
      out.push(`${name}.${field}:${v}|ms${rate}`)
    }
  }
  return out
}

/**
 * Packs lines into datagrams of at most 1,400 bytes, newline-separated (a longer line goes alone).
 *
 * @since 0.1.0
 * @category formatting
 */
export const packets = (ls: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  let current = ""
  for (const l of ls) {
    if (current !== "" && current.length + 1 + l.length > maxPacket) {
      out.push(current)
      current = ""
    }
    current = current === "" ? l : `${current}\n${l}`
  }
  if (current !== "") out.push(current)
  return out
}

/**
 * Sends `snapshot()` to statsd every interval until the scope closes (then once more, so the last
 * interval is not lost). Send errors (no listener, unreachable host) are dropped: statsd is
 * fire-and-forget.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  snapshot: () => Metrics.Snapshot,
  options?: Options
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function*() {
    const host = options?.host ?? "127.0.0.1"
    const port = options?.port ?? 8125
    const prefix = options?.prefix ?? "linkerd"
    const sampleRate = options?.sampleRate ?? 0.01
    const interval = Duration.fromInputUnsafe(options?.interval ?? Duration.seconds(10))
    const socket = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const s = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4")
        s.on("error", () => {})
        s.unref()
        return s
      }),
      (s) => Effect.sync(() => s.close())
    )
    const previous = new Map<string, number>()
    const send = Effect.callback<void>((resume) => {
      const ps = packets(lines(snapshot(), previous, prefix, sampleRate))
      let left = ps.length
      if (left === 0) return resume(Effect.void)
      for (const p of ps) {
        socket.send(p, port, host, () => {
          if (--left === 0) resume(Effect.void)
        })
      }
    })
    yield* Effect.addFinalizer(() => send)
    yield* Effect.forkScoped(Effect.repeat(send, Schedule.spaced(interval)).pipe(Effect.delay(interval)))
  })
