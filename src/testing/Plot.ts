/**
 * Latency-versus-percentile curves as a standalone SVG, one curve per variant, in the style of the
 * linkerd and Finagle balancer posts: the x axis spreads the tail (50, 90, 99, 99.9, 99.99th
 * percentile at equal distances, i.e. `-log10(1 - p)`), the y axis is latency in milliseconds
 * (logarithmic when the latencies span more than a factor of 20).
 *
 * @since 0.1.0
 */

/**
 * One curve: a name and its latencies sorted ascending.
 *
 * @since 0.1.0
 * @category model
 */
export interface Series {
  readonly name: string
  readonly latencies: ArrayLike<number>
}

/**
 * Options of `svg`.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  /** Shown above the plot. Defaults to none. */
  readonly title?: string | undefined
  /** Defaults to `720`. */
  readonly width?: number | undefined
  /** Defaults to `420`. */
  readonly height?: number | undefined
}

const palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

const escape = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const at = (sorted: ArrayLike<number>, q: number): number => {
  const n = sorted.length
  if (n === 0) return 0
  const rank = Math.max(1, Math.ceil(q * n))
  return sorted[Math.min(n, rank) - 1]!
}

const fmt = (n: number): string => Number(n.toFixed(2)).toString()

const niceTicks = (lo: number, hi: number, log: boolean): Array<number> => {
  if (log) {
    const out: Array<number> = []
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e
        if (v >= lo && v <= hi) out.push(v)
      }
    }
    return out
  }
  const span = hi - lo
  const raw = span / 6
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw
  const out: Array<number> = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  return out
}

/**
 * Draws the curves. The x axis ends at the highest "nines" every series has samples for (at most
 * 99.99 %).
 *
 * @since 0.1.0
 * @category rendering
 */
export const svg = (series: ReadonlyArray<Series>, options?: Options): string => {
  const width = options?.width ?? 720
  const height = options?.height ?? 420
  const title = options?.title
  const margin = { left: 64, right: 160, top: title === undefined ? 20 : 40, bottom: 48 }
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  const minCount = Math.max(1, Math.min(...series.map((s) => s.latencies.length), 10_000))
  const xMax = Math.max(1, Math.min(4, Math.floor(Math.log10(minCount))))
  let lo = Infinity
  let hi = -Infinity
  for (const s of series) {
    if (s.latencies.length === 0) continue
    lo = Math.min(lo, at(s.latencies, 0.5))
    hi = Math.max(hi, s.latencies[s.latencies.length - 1]!)
  }
  if (!Number.isFinite(lo)) {
    lo = 0
    hi = 1
  }
  const log = lo > 0 && hi / lo > 20
  if (!log) {
    lo = Math.max(0, lo - (hi - lo) * 0.05)
    hi = hi + (hi - lo) * 0.05
    if (hi === lo) hi = lo + 1
  } else {
    lo = lo / 1.2
    hi = hi * 1.2
  }
  const x = (v: number) => margin.left + (v / xMax) * plotW
  const y = (ms: number) =>
    log
      ? margin.top + plotH - ((Math.log10(ms) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH
      : margin.top + plotH - ((ms - lo) / (hi - lo)) * plotH
  const out: Array<string> = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`
  )
  if (title !== undefined) {
    out.push(`<text x="${margin.left}" y="24" font-size="14" font-weight="bold">${escape(title)}</text>`)
  }
  for (let i = 0; i <= xMax; i++) {
    const label = i === 0 ? "p50" : `p${(100 - 100 / 10 ** i).toString()}`
    const px = i === 0 ? x(Math.log10(2)) : x(i)
    out.push(
      `<line x1="${fmt(px)}" y1="${margin.top}" x2="${fmt(px)}" y2="${margin.top + plotH}" stroke="#ddd"/>`,
      `<text x="${fmt(px)}" y="${margin.top + plotH + 16}" text-anchor="middle">${label}</text>`
    )
  }
  for (const t of niceTicks(lo, hi, log)) {
    out.push(
      `<line x1="${margin.left}" y1="${fmt(y(t))}" x2="${margin.left + plotW}" y2="${fmt(y(t))}" stroke="#eee"/>`,
      `<text x="${margin.left - 6}" y="${fmt(y(t) + 4)}" text-anchor="end">${fmt(t)}</text>`
    )
  }
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">percentile</text>`,
    `<text x="16" y="${margin.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${
      margin.top + plotH / 2
    })">latency (ms${log ? ", log scale" : ""})</text>`
  )
  series.forEach((s, i) => {
    const color = palette[i % palette.length]!
    const points: Array<string> = []
    const steps = 200
    for (let k = 0; k <= steps; k++) {
      const v = Math.log10(2) + (k / steps) * (xMax - Math.log10(2))
      const q = 1 - 10 ** -v
      const ms = Math.min(hi, Math.max(lo, at(s.latencies, q)))
      points.push(`${fmt(x(v))},${fmt(y(ms))}`)
    }
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(" ")}"/>`)
    const ly = margin.top + 16 + i * 20
    const lx = margin.left + plotW + 12
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 20}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${lx + 26}" y="${ly}">${escape(s.name)}</text>`
    )
  })
  out.push("</svg>")
  return out.join("\n") + "\n"
}
