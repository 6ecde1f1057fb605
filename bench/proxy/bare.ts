/**
 * weir's transport alone, for the proxy benchmark: `HttpServer` + `HttpUpstream` with no router
 * (no identification, binding, stacks or metrics). Usage: bare.ts <listenPort> <backendPort>
 */
import * as Effect from "effect/Effect"
import * as Address from "../../src/Address.js"
import * as Server from "../../src/http/transport/Server.js"
import * as Upstream from "../../src/http/transport/Upstream.js"

const port = Number(process.argv[2] ?? 18086)
const backend = Number(process.argv[3] ?? 18080)

Effect.runFork(Effect.scoped(Effect.gen(function*() {
  const upstream = yield* Upstream.make(Address.make("127.0.0.1", backend))
  yield* Server.make({ port }, (request) => Effect.orDie(upstream.call(request)))
  console.log(`bare listening on 127.0.0.1:${port}`)
  return yield* Effect.never
})))

// exit normally on SIGINT/SIGTERM so that `--cpu-prof` and `--heap-prof` write their files
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(0))
