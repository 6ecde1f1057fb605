import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Linker from "../../src/proxy/Linker.js"
import * as Validate from "../../src/proxy/Validate.js"
import { grpcFrame, rawBackend, rawCall } from "../h2/support.js"
import { waitFor } from "../support/poll.js"

const linkerOf = (text: string) =>
  Effect.gen(function*() {
    const checked = Validate.check(text)
    if (Result.isFailure(checked)) throw new Error(checked.failure.map((p) => `${p.path}: ${p.message}`).join("\n"))
    return yield* Linker.make(checked.success)
  })

/**
 * A gRPC-like backend whose answers stream: headers and a message at once, the status in trailers
 * 30 ms later (so the proxy has relayed the head long before). The status is the request's
 * `x-status` header.
 */
const streamingBackend = rawBackend((stream, headers) => {
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true })
  stream.on("wantTrailers", () => {
    stream.sendTrailers({ "grpc-status": String(headers["x-status"] ?? "0"), "grpc-message": "final" })
  })
  stream.write(grpcFrame(Buffer.from("first")))
  setTimeout(() => stream.end(), 30)
})

describe("h2 classification of streaming responses", () => {
  it.live("stats and failure accrual judge a streamed response by the grpc-status of its trailers", () =>
    Effect.gen(function*() {
      const backend = yield* streamingBackend
      const linker = yield* linkerOf(`
admin: {port: 0}
routers:
- protocol: h2
  label: grpc
  dtab: /svc/s => /$/inet/127.0.0.1/${backend.port}
  servers: [{port: 0}]
  service:
    responseClassifier: {kind: io.l5d.h2.grpc.default}
  client:
    failureAccrual: {kind: io.l5d.consecutiveFailures, failures: 2, backoff: {kind: constant, ms: 60000}}
`)
      const port = linker.routers[0]!.servers[0]!.port
      const counter = (name: string) => linker.registry.counterValue(`rt/grpc/${name}`) ?? 0
      const client = `client/$/inet/127.0.0.1/${backend.port}`
      const call = (status: string) =>
        rawCall(port, {
          ":method": "POST",
          ":path": "/weir.test.Echo/ServerStream",
          ":authority": "s",
          "content-type": "application/grpc",
          "te": "trailers",
          "x-status": status
        }, grpcFrame(Buffer.from("hi")))

      const ok = yield* call("0")
      expect(ok.headers[":status"]).toBe(200)
      expect(ok.trailers?.["grpc-status"]).toBe("0")
      yield* waitFor(() => counter("service/svc/s/success") === 1, "the streamed OK counted as a success")
      expect(counter(`${client}/success`)).toBe(1)

      // HTTP 200 at the head, UNAVAILABLE in the trailers: failures, for the path, the client and accrual
      for (let i = 1; i <= 2; i++) {
        const failed = yield* call("14")
        expect(failed.headers[":status"]).toBe(200)
        expect(failed.trailers?.["grpc-status"]).toBe("14")
        yield* waitFor(() => counter("service/svc/s/failures") === i, `streamed failure ${i} counted`)
        yield* waitFor(() => counter(`${client}/failures`) === i, `streamed failure ${i} counted by the client`)
      }
      expect(counter("service/svc/s/success")).toBe(1)
      expect(counter(`${client}/success`)).toBe(1)
      // two consecutive failures: the endpoint is marked dead
      yield* waitFor(
        () => counter(`${client}/failure_accrual/removals`) === 1,
        "failure accrual to remove the endpoint"
      )
      // a response that streams cannot be retried: the client saw the backend's answer once each time
      expect(backend.seen.length).toBe(3)
    }))
})
