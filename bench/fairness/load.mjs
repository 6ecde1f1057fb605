// A small load generator for bench/fairness: CONNS keep-alive connections, each sending one GET at a
// time for DUR seconds, recording every request's latency by connection. It reports the mean, p99,
// max, max/mean, the spread of the connections' own means, how many connections finished no request
// at all (starved) and the age of the oldest request still unanswered at the end (counted in the max:
// a request that never completes is the slowest of all). Usage:
//   node load.mjs <port> [conns=2000] [seconds=10] [host=web]
import * as net from "node:net"

const [port, conns = "2000", seconds = "10", host = "web"] = process.argv.slice(2)
const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
const all = []
const per = []
const inFlight = new Map()
let errors = 0
let stop = false
const t0 = performance.now()

const open = (i) => {
  const lat = []
  per.push(lat)
  const s = net.connect({ port: Number(port), host: "127.0.0.1", noDelay: true })
  let buf = ""
  let sent = 0
  const send = () => {
    if (stop) return s.end()
    sent = performance.now()
    inFlight.set(i, sent)
    s.write(request)
  }
  // the clock starts when the connection is opened: waiting to be accepted counts
  sent = performance.now()
  inFlight.set(i, sent)
  s.on("connect", () => {
    s.write(request)
  })
  s.on("data", (d) => {
    buf += d.toString("latin1")
    for (;;) {
      const end = buf.indexOf("\r\n\r\n")
      if (end < 0) return
      const m = /content-length:\s*(\d+)/i.exec(buf.slice(0, end))
      const total = end + 4 + (m === null ? 0 : Number(m[1]))
      if (buf.length < total) return
      buf = buf.slice(total)
      const ms = performance.now() - sent
      inFlight.delete(i)
      lat.push(ms)
      all.push(ms)
      send()
    }
  })
  s.on("error", () => errors++)
}
for (let i = 0; i < Number(conns); i++) open(i)
setTimeout(() => {
  stop = true
  const now = performance.now()
  const oldest = Math.max(0, ...[...inFlight.values()].map((t) => now - t))
  const elapsed = (performance.now() - t0) / 1000
  const sorted = Float64Array.from(all).sort()
  const mean = all.reduce((a, b) => a + b, 0) / Math.max(1, all.length)
  const max = Math.max(sorted[sorted.length - 1] ?? 0, oldest)
  const pct = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  const means = per.filter((l) => l.length > 0).map((l) => l.reduce((a, b) => a + b, 0) / l.length).sort((a, b) =>
    a - b
  )
  const counts = per.map((l) => l.length).sort((a, b) => a - b)
  const starved = counts.filter((c) => c === 0).length
  const r = (v) => Math.round(v * 100) / 100
  console.log(
    `LOAD requests=${all.length} rps=${Math.round(all.length / elapsed)} mean_ms=${r(mean)} p99_ms=${r(pct(0.99))} ` +
      `p999_ms=${r(pct(0.999))} max_ms=${r(max)} max_over_mean=${
        r(max / mean)
      } unanswered=${inFlight.size} oldest_unanswered_ms=${r(oldest)} ` +
      `conn_mean_min_ms=${r(means[0] ?? 0)} conn_mean_max_ms=${r(means[means.length - 1] ?? 0)} ` +
      `conn_requests_min=${counts[0]} conn_requests_median=${
        counts[counts.length >> 1]
      } starved=${starved} errors=${errors}`
  )
  process.exit(0)
}, Number(seconds) * 1000)
