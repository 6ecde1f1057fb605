// Loaded into the proxy under soak with `node --import ./probe.mjs`: every SOAK_PROBE_MS (default
// 10 s) it writes one line to stderr, `SOAK_PROBE {"heapUsed":…,"lagP99":…}`, with the V8 heap and
// the event loop delay (node:perf_hooks' histogram, reset after each line). Its timer is unref'd,
// so it never keeps the proxy alive; it allocates a few hundred bytes per line.
import { monitorEventLoopDelay } from "node:perf_hooks"

const every = Number(process.env.SOAK_PROBE_MS ?? "10000")
const delay = monitorEventLoopDelay({ resolution: 10 })
delay.enable()
setInterval(() => {
  const m = process.memoryUsage()
  const line = {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    lagMean: delay.mean / 1e6,
    lagP99: delay.percentile(99) / 1e6,
    lagMax: delay.max / 1e6
  }
  delay.reset()
  process.stderr.write(`SOAK_PROBE ${JSON.stringify(line)}\n`)
}, every).unref()
