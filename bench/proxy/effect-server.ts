/**
 * Effect's own HTTP server (`effect/http` on `@effect/platform-node`) in front of weir's upstream,
 * for the proxy benchmark: how much the Effect HTTP server layer costs compared with driving
 * `node:http` directly (`bare.ts`). Usage: effect-server.ts <listenPort> <backendPort>
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Effect from "effect/Effect"
import * as HttpServer from "effect/http/HttpServer"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import { createServer } from "node:http"
import * as Address from "../../src/Address.js"
import * as Headers from "../../src/http/Headers.js"
import * as Message from "../../src/http/transport/Message.js"
import * as Upstream from "../../src/http/transport/Upstream.js"

const port = Number(process.argv[2] ?? 18088)
const backend = Number(process.argv[3] ?? 18080)

const program = Effect.gen(function*() {
  const upstream = yield* Upstream.make(Address.make("127.0.0.1", backend))
  const app = Effect.gen(function*() {
    const req = yield* HttpServerRequest.HttpServerRequest
    const res = yield* Effect.orDie(upstream.call(Message.request({
      url: req.url,
      method: req.method,
      headers: Headers.withoutHopByHop({ ...req.headers })
    })))
    const headers = { ...Headers.withoutHopByHop(res.headers) }
    delete headers["content-length"]
    const body = res.body._tag === "Buffered" ? res.body.data : new Uint8Array()
    return HttpServerResponse.uint8Array(body, { status: res.status, headers })
  })
  console.log(`effect-server listening on 127.0.0.1:${port}`)
  return yield* Layer.launch(
    HttpServer.serve(app).pipe(Layer.provide(NodeHttpServer.layer(() => createServer(), { port, host: "127.0.0.1" })))
  )
})

Effect.runFork(Effect.scoped(program))
