/**
 * Export of the in-memory stats registry (`Stats.InMemory`) in linkerd 1.x's admin formats:
 * `/admin/metrics.json` (flat or `?tree=1`) and the `io.l5d.prometheus` text exposition.
 *
 * Names follow linkerd: `rt/<router>/server/<ip>/<port>/…`, `rt/<router>/service/<svc>/…`,
 * `rt/<router>/client/<id>/…` (ids and service names keep their inner `/`). Histograms are
 * exported per snapshot window (linkerd's default: one minute): `<name>.count` and, when the
 * count is positive, `.max .min .p50 .p90 .p95 .p99 .p9990 .p9999 .sum .avg`.
 *
 * @since 0.1.0
 */
import type * as Stats from "../Stats.js"

/**
 * The first segment of a metric name after an id, for each metric family linkerd exports under a
 * server, service or client scope. Used to find where a multi-segment id (`svc/foo`,
 * `$/inet/127.1/8080`) ends inside a `/`-joined name.
 *
 * @since 0.1.0
 * @category model
 */
export const metricHeads: ReadonlySet<string> = new Set([
  "requests",
  "success",
  "failures",
  "request_latency_ms",
  "pending",
  "connections",
  "connects",
  "connect_latency_ms",
  "received_bytes",
  "sent_bytes",
  "status",
  "time",
  "retries",
  "loadbalancer",
  "failure_accrual",
  "service",
  "exn",
  "idle",
  "lifetime",
  "load",
  "dispatcher",
  "closes",
  "handletime_us",
  "transit_latency_ms"
])

/**
 * A metric name split into scope segments, with the `rt` router, server, service and client ids as
 * single segments.
 *
 * @since 0.1.0
 * @category model
 */
export interface ParsedName {
  /** Scope segments; an id (`svc/foo`) stays one segment. */
  readonly segments: ReadonlyArray<string>
  /** Labels lifted out of the name for the Prometheus form, in order. */
  readonly labels: ReadonlyArray<readonly [string, string]>
  /** The remaining segments forming the Prometheus metric name. */
  readonly nameSegments: ReadonlyArray<string>
}

const takeId = (parts: ReadonlyArray<string>, from: number): number => {
  let end = from + 1
  while (end < parts.length - 1 && !metricHeads.has(parts[end]!)) end++
  return end
}

/**
 * Splits a `/`-joined metric name into segments and Prometheus labels, following linkerd's scope
 * layout (`rt/<router>/{server,service,client}/<id>/…`, `…/client/<id>/service/<svc>/…`,
 * `…/failures/<exception>`); a worker's own metric (`worker/<k>/…`, `workers: N`) gets the label
 * `worker`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseName = (name: string): ParsedName => {
  const parts = name.split("/")
  if (parts[0] === "worker" && parts.length > 2) {
    // one worker's own metric (`workers: N`): the worker is a label of the same metric
    const inner = parseName(parts.slice(2).join("/"))
    return {
      segments: ["worker", parts[1]!, ...inner.segments],
      labels: [["worker", parts[1]!], ...inner.labels],
      nameSegments: inner.nameSegments
    }
  }
  if (parts[0] !== "rt" || parts.length < 3) {
    return { segments: parts, labels: [], nameSegments: parts }
  }
  const segments: Array<string> = ["rt", parts[1]!]
  const labels: Array<readonly [string, string]> = [["rt", parts[1]!]]
  const nameSegments: Array<string> = ["rt"]
  let i = 2
  const kind = parts[i]!
  if ((kind === "server" || kind === "service" || kind === "client") && i + 2 < parts.length) {
    const end = kind === "server" ? Math.min(i + 3, parts.length - 1) : takeId(parts, i + 1)
    const id = parts.slice(i + 1, end).join("/")
    segments.push(kind, id)
    labels.push([kind, id])
    nameSegments.push(kind)
    i = end
    if (kind === "client" && parts[i] === "service" && i + 2 < parts.length) {
      const svcEnd = takeId(parts, i + 1)
      const svc = parts.slice(i + 1, svcEnd).join("/")
      segments.push("service", svc)
      labels.push(["service", svc])
      nameSegments.push("service")
      i = svcEnd
    }
  }
  const rest = parts.slice(i)
  const failuresAt = rest.findIndex((s) => s === "failures" || s === "exn")
  if (failuresAt >= 0 && failuresAt < rest.length - 1) {
    segments.push(...rest)
    labels.push(["exception", rest.slice(failuresAt + 1).join(":")])
    nameSegments.push(...rest.slice(0, failuresAt), rest[failuresAt] === "exn" ? "exceptions" : "failures")
  } else {
    segments.push(...rest)
    nameSegments.push(...rest)
  }
  return { segments, labels, nameSegments }
}

/**
 * Metric values at one instant: counters, gauges and the histogram summaries of the last window.
 *
 * @since 0.1.0
 * @category model
 */
export interface Snapshot {
  readonly counters: ReadonlyMap<string, number>
  readonly gauges: ReadonlyMap<string, number>
  readonly histograms: ReadonlyMap<string, Stats.HistogramSummary>
}

/**
 * Windows histograms of an in-memory registry: `roll()` summarizes what was recorded since the
 * previous roll and clears the samples (so memory stays bounded); `snapshot()` reports histograms
 * from the last completed window, or from the current one before the first roll.
 *
 * @since 0.1.0
 * @category model
 */
export interface Exporter {
  readonly registry: Stats.InMemory
  readonly roll: () => void
  readonly snapshot: () => Snapshot
}

/**
 * Makes an exporter over a registry. The caller schedules `roll` (the proxy does so every
 * `histogramSnapshotInterval`, one minute by default).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeExporter = (registry: Stats.InMemory): Exporter => {
  let last: ReadonlyMap<string, Stats.HistogramSummary> | undefined
  return {
    registry,
    roll: () => {
      last = registry.histogramSummaries()
      registry.resetHistograms()
    },
    snapshot: () => ({
      counters: new Map(registry.counters),
      gauges: registry.gaugeValues(),
      histograms: last ?? registry.histogramSummaries()
    })
  }
}

const histogramFields = ["max", "min", "p50", "p90", "p95", "p99", "p9990", "p9999", "sum", "avg"] as const

/**
 * The flat `/admin/metrics.json` object: counters and gauges as numbers, histograms as
 * `<name>.count` plus the summary fields when the count is positive. Keys are sorted.
 *
 * @since 0.1.0
 * @category exporting
 */
export const toJson = (snapshot: Snapshot): Record<string, number> => {
  const entries: Array<readonly [string, number]> = []
  for (const [k, v] of snapshot.counters) entries.push([k, v])
  for (const [k, v] of snapshot.gauges) entries.push([k, v])
  for (const [k, h] of snapshot.histograms) {
    entries.push([`${k}.count`, h.count])
    if (h.count > 0) { for (const f of histogramFields) entries.push([`${k}.${f}`, h[f]]) }
  }
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  const out: Record<string, number> = {}
  for (const [k, v] of entries) out[k] = v
  return out
}

/**
 * A node of the `?tree=1` form: nested objects keyed by scope segment; a node holding a metric
 * has a `counter`, `gauge` or `stat` field.
 *
 * @since 0.1.0
 * @category model
 */
export interface TreeNode {
  [key: string]: TreeNode | number | Record<string, number>
}

/**
 * The `?tree=1` form of `/admin/metrics.json`.
 *
 * @since 0.1.0
 * @category exporting
 */
export const toTree = (snapshot: Snapshot): TreeNode => {
  const root: TreeNode = {}
  const put = (name: string, field: string, value: number | Record<string, number>) => {
    let node = root
    for (const seg of parseName(name).segments) {
      const next = node[seg]
      if (next === undefined || typeof next !== "object") {
        const fresh: TreeNode = {}
        node[seg] = fresh
        node = fresh
      } else {
        node = next as TreeNode
      }
    }
    node[field] = value
  }
  for (const [k, v] of snapshot.counters) put(k, "counter", v)
  for (const [k, v] of snapshot.gauges) put(k, "gauge", v)
  for (const [k, h] of snapshot.histograms) {
    const stat: Record<string, number> = { count: h.count }
    if (h.count > 0) { for (const f of histogramFields) stat[f] = h[f] }
    put(k, "stat", stat)
  }
  return root
}

/**
 * The subtree at a `/`-separated query (`?q=rt/web/server`), or `undefined` when absent.
 *
 * @since 0.1.0
 * @category exporting
 */
export const subtree = (tree: TreeNode, q: string): TreeNode | undefined => {
  let node: TreeNode = tree
  const segs = parseName(q).segments.filter((s) => s !== "")
  for (const seg of segs) {
    const next = node[seg]
    if (next === undefined || typeof next !== "object") return undefined
    node = next as TreeNode
  }
  return node
}

/**
 * The Prometheus metric name of scope segments: joined by `:` with every character outside
 * `[a-zA-Z0-9:]` replaced by `_`, after an optional prefix.
 *
 * @since 0.1.0
 * @category exporting
 */
export const prometheusName = (prefix: string, segments: ReadonlyArray<string>): string =>
  (prefix + segments.join(":")).replace(/[^a-zA-Z0-9:]/g, "_")

const escapeLabel = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")

const renderLabels = (labels: ReadonlyArray<readonly [string, string]>): string =>
  labels.length === 0 ? "" : `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(", ")}}`

const quantiles: ReadonlyArray<readonly [string, keyof Stats.HistogramSummary]> = [
  ["0", "min"],
  ["0.5", "p50"],
  ["0.9", "p90"],
  ["0.95", "p95"],
  ["0.99", "p99"],
  ["0.999", "p9990"],
  ["0.9999", "p9999"],
  ["1", "max"]
]

/**
 * What a metric family measures, by the last segment of its name (linkerd's metric names). Families
 * not listed get a help line naming the weir scope they come from.
 *
 * @since 0.1.0
 * @category exporting
 */
export const metricHelp: Readonly<Record<string, string>> = {
  requests: "Requests received (server, service) or sent (client).",
  success: "Requests classified as successful by the response classifier.",
  failures: "Requests classified as failed; the exception label names the failure.",
  exceptions: "Failures by exception.",
  request_latency_ms: "Request latency in milliseconds over the last snapshot window.",
  pending: "Requests in flight now.",
  connections: "Open connections now.",
  connects: "Connections opened since start.",
  connect_latency_ms: "Time to open a connection, in milliseconds.",
  received_bytes: "Bytes received.",
  sent_bytes: "Bytes sent.",
  total: "Retries and requeues sent.",
  per_request: "Retries per request.",
  budget: "Retries the retry budget allows now.",
  budget_exhausted: "Retries refused because the retry budget was empty.",
  requeues: "Requests sent again because they never reached a server.",
  removals: "Endpoints marked dead by failure accrual.",
  revivals: "Endpoints revived after their failure accrual backoff.",
  removed_for_ms: "Time endpoints spent marked dead, in milliseconds.",
  probes: "Probe requests sent to endpoints in failure accrual backoff.",
  size: "Endpoints known to the load balancer.",
  available: "Endpoints the load balancer can pick.",
  busy: "Endpoints the load balancer sees as busy.",
  closed: "Endpoints the load balancer sees as closed.",
  load: "Load the balancer sees on its endpoints.",
  rebuilds: "Times the load balancer rebuilt its endpoint set.",
  updates: "Address set updates the load balancer received.",
  adds: "Endpoints added to the load balancer.",
  removes: "Endpoints removed from the load balancer.",
  max_effort_exhausted: "Picks that found no available endpoint within maxEffort tries.",
  panicked: "Picks made while no endpoint was available (panic mode).",
  lookups: "Namer lookups.",
  originator: "1 when the router is an originator.",
  rejected: "Requests refused by admission control.",
  dropped: "Requests dropped.",
  timeouts: "Requests that timed out."
}

const helpOf = (segments: ReadonlyArray<string>): string => {
  const last = segments[segments.length - 1] ?? ""
  return metricHelp[last] ?? `weir metric ${segments.join("/")}.`
}

const escapeHelp = (v: string): string => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

interface Family {
  type: "counter" | "gauge" | "summary" | "untyped"
  readonly help: string
  readonly lines: Array<string>
}

/**
 * The Prometheus text exposition of a snapshot, as linkerd's `io.l5d.prometheus` telemeter writes
 * it: router, server, service, client and exception lifted into labels; histograms as summaries
 * (`_count`, `_sum` and quantile lines) plus an `_avg` gauge (nothing for an empty window). Samples
 * are grouped by family, each with its `# HELP` and `# TYPE` lines, so `promtool check metrics`
 * finds every family described. `prefix` defaults to none.
 *
 * @since 0.1.0
 * @category exporting
 */
export const toPrometheus = (snapshot: Snapshot, prefix = ""): string => {
  const families = new Map<string, Family>()
  const family = (name: string, type: Family["type"], help: string): Family => {
    let f = families.get(name)
    if (f === undefined) {
      f = { type, help, lines: [] }
      families.set(name, f)
    } else if (f.type !== type) f.type = "untyped"
    return f
  }
  const sorted = <A>(m: ReadonlyMap<string, A>) => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))
  const simple = (k: string, v: number, type: "counter" | "gauge") => {
    const p = parseName(k)
    const name = prometheusName(prefix, p.nameSegments)
    family(name, type, helpOf(p.nameSegments)).lines.push(`${name}${renderLabels(p.labels)} ${v}`)
  }
  for (const [k, v] of sorted(snapshot.counters)) simple(k, v, "counter")
  for (const [k, v] of sorted(snapshot.gauges)) simple(k, v, "gauge")
  for (const [k, h] of sorted(snapshot.histograms)) {
    if (h.count === 0) continue
    const p = parseName(k)
    const name = prometheusName(prefix, p.nameSegments)
    const labels = renderLabels(p.labels)
    const summary = family(name, "summary", helpOf(p.nameSegments))
    for (const [q, field] of quantiles) {
      summary.lines.push(`${name}${renderLabels([...p.labels, ["quantile", q]])} ${h[field]}`)
    }
    summary.lines.push(`${name}_count${labels} ${h.count}`, `${name}_sum${labels} ${h.sum}`)
    family(`${name}_avg`, "gauge", `Mean over the last snapshot window: ${helpOf(p.nameSegments)}`).lines.push(
      `${name}_avg${labels} ${h.avg}`
    )
  }
  const out: Array<string> = []
  for (const [name, f] of [...families.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    out.push(`# HELP ${name} ${escapeHelp(f.help)}`, `# TYPE ${name} ${f.type}`, ...f.lines)
  }
  return out.length === 0 ? "" : out.join("\n") + "\n"
}

const escapeInflux = (v: string, equals: boolean): string => v.replace(equals ? /[,= \\]/g : /[, \\]/g, (c) => `\\${c}`)

const influxNumber = (v: number): string => Number.isFinite(v) ? String(v) : "0"

/**
 * The InfluxDB line-protocol form of a snapshot, as linkerd's `io.l5d.influxdb` telemeter serves it at
 * `/admin/metrics/influxdb` for Telegraf to scrape: one line per scope and label set, the measurement
 * being the scope joined by `:` (`rt:service`), the ids lifted into tags as in the Prometheus form plus
 * a `host` tag (the `Host` the request was sent to, `none` without one), each metric a field
 * (`requests=5`; histograms as `request_latency_ms_count`, `…_p99`, …). No timestamp: the scraper
 * stamps the lines.
 *
 * @since 0.1.0
 * @category exporting
 */
export const toInflux = (snapshot: Snapshot, host = "none"): string => {
  const lines = new Map<string, Array<string>>()
  const add = (name: string, values: ReadonlyArray<readonly [string, number]>) => {
    const p = parseName(name)
    const measurement = p.nameSegments.length > 1 ? p.nameSegments.slice(0, -1).join(":") : "weir"
    const field = p.nameSegments[p.nameSegments.length - 1]!
    const tags = [["host", host] as const, ...p.labels].map(([k, v]) =>
      `${escapeInflux(k, true)}=${escapeInflux(v === "" ? "none" : v, true)}`
    )
    const key = `${escapeInflux(measurement, false)},${tags.join(",")}`
    let fields = lines.get(key)
    if (fields === undefined) lines.set(key, fields = [])
    for (const [suffix, v] of values) fields.push(`${escapeInflux(field + suffix, true)}=${influxNumber(v)}`)
  }
  for (const [k, v] of snapshot.counters) add(k, [["", v]])
  for (const [k, v] of snapshot.gauges) add(k, [["", v]])
  for (const [k, h] of snapshot.histograms) {
    add(
      k,
      h.count > 0 ? [["_count", h.count], ...histogramFields.map((f) => [`_${f}`, h[f]] as const)] : [["_count", 0]]
    )
  }
  const out: Array<string> = []
  for (const key of [...lines.keys()].sort()) out.push(`${key} ${lines.get(key)!.sort().join(",")}`)
  return out.length === 0 ? "" : out.join("\n") + "\n"
}
