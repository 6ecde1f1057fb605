/**
 * Starts a weir router for the proxy benchmark: `Host: web` → /svc/web → the nginx backend.
 * Usage: tsx bench/proxy/weir.ts <listenPort> <backendPort>
 */
import * as Effect from "effect/Effect"
import * as Router from "../../src/http/Router.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Stats from "../../src/Stats.js"

const port = Number(process.argv[2] ?? 18082)
const backend = Number(process.argv[3] ?? 18080)

const program = Effect.gen(function*() {
  const interpreter = yield* Interpreter.make()
  const router = yield* Router.make({
    label: "bench",
    servers: [{ port, ip: "127.0.0.1" }],
    dtab: Dtab.parseUnsafe(`/svc/web => /$/inet/127.0.0.1/${backend}`),
    interpreter,
    stats: Stats.makeInMemory()
  })
  console.log(`weir listening on 127.0.0.1:${router.servers[0]!.port}`)
  return yield* Effect.never
})

Effect.runFork(Effect.scoped(program))

// exit normally on SIGINT/SIGTERM so that `--cpu-prof` and `--heap-prof` write their files
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0))

if (process.env.WEIR_BENCH_MEM === "1") {
  setInterval(() => {
    const m = process.memoryUsage()
    const mb = (n: number) => (n / 1048576).toFixed(0)
    console.log(
      `rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${
        mb(m.external)
      } arrayBuffers ${mb(m.arrayBuffers)}`
    )
  }, 1000).unref()
}
