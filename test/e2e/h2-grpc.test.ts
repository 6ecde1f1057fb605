import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Errors from "../../src/http/Errors.js"
import * as Router from "../../src/http/Router.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Stats from "../../src/Stats.js"
import { collect, echoBackend, echoClient, grpc, grpcFrame, type Msg, rawCall, unary } from "../h2/support.js"

const inet = (port: number) => `/$/inet/127.0.0.1/${port}`

const h2Router = (dtab: string, extra?: Partial<Router.Options>) =>
  Effect.gen(function*() {
    const interpreter = yield* Interpreter.make()
    const stats = Stats.makeInMemory()
    const router = yield* Router.make({
      label: "h2",
      protocol: "h2",
      servers: [{ port: 0 }],
      dtab: Dtab.parseUnsafe(dtab),
      interpreter,
      stats,
      ...extra
    })
    return { router, stats, port: router.servers[0]!.port }
  })

describe("h2 router with gRPC (grpc-js client and server)", () => {
  it.live("unary, server, client and bidirectional streaming go through, trailers and status end to end", () =>
    Effect.gen(function*() {
      const backend = yield* echoBackend("b1")
      const { port, stats } = yield* h2Router(`/svc/echo => ${inet(backend.port)}`)
      const client = yield* echoClient(port, "echo")

      const u = yield* unary(client, { text: "hi", n: 7 })
      expect(u.code).toBe(0)
      expect(u.reply).toEqual({ text: "b1:hi", n: 7 })
      expect(backend.seen[0]!.metadata["l5d-dst-service"]).toBe("/svc/echo")
      expect(backend.seen[0]!.metadata["l5d-dst-client"]).toBe(inet(backend.port))

      const ss = yield* collect<Msg>(client.ServerStream({ n: 100 }))
      expect(ss.code).toBe(0)
      expect(ss.messages.map((m) => m.n)).toEqual(Array.from({ length: 100 }, (_, i) => i))

      const cs = yield* Effect.callback<Msg>((resume) => {
        const call = client.ClientStream(new grpc.Metadata(), {}, (e, r) => {
          if (e !== null) resume(Effect.die(e))
          else resume(Effect.succeed(r!))
        })
        for (let i = 1; i <= 1000; i++) call.write({ text: "x", n: i })
        call.end()
      })
      expect(cs).toEqual({ text: "b1:1000", n: 500500 })

      const total = 10_000
      const bidi = client.Bidi()
      const received = yield* Effect.callback<Array<Msg>>((resume) => {
        const got: Array<Msg> = []
        bidi.on("data", (m: Msg) => got.push(m))
        bidi.on("status", (s: grpc.StatusObject) => {
          if (s.code === 0) resume(Effect.succeed(got))
          else resume(Effect.die(new Error(`bidi status ${s.code}: ${s.details}`)))
        })
        bidi.on("error", () => {})
        let i = 0
        const pump = () => {
          while (i < total) {
            const ok = bidi.write({ text: "m", n: i++ })
            if (!ok) return bidi.once("drain", pump)
          }
          bidi.end()
        }
        pump()
      })
      expect(received.length).toBe(total)
      expect(received[total - 1]).toEqual({ text: "b1:m", n: total - 1 })
      expect(received.every((m, i) => m.n === i)).toBe(true)

      expect(stats.counterValue("rt/h2/service/svc/echo/requests")).toBe(4)
      expect(stats.counterValue(`rt/h2/client/$/inet/127.0.0.1/${backend.port}/requests`)).toBe(4)
    }))

  it.live("grpc-timeout is the call's deadline: forwarded shorter, and DEADLINE_EXCEEDED with l5d-err when it passes", () =>
    Effect.gen(function*() {
      const backend = yield* echoBackend("b1")
      const { port } = yield* h2Router(`/svc/echo => ${inet(backend.port)}`)
      const client = yield* echoClient(port, "echo")
      const ok = yield* unary(client, { text: "hi" }, { deadline: Date.now() + 5000 })
      expect(ok.code).toBe(0)
      const seen = backend.seen[0]!.metadata
      expect(seen["l5d-ctx-deadline"]).toMatch(/^\d+ \d+$/)

      // node's own client, so that the answer is weir's and not the client's own deadline
      const sent = Date.now()
      const raw = yield* rawCall(port, {
        ":method": "POST",
        ":path": "/weir.test.Echo/Unary",
        ":authority": "echo",
        "content-type": "application/grpc",
        "te": "trailers",
        "grpc-timeout": "200m"
      }, grpcFrame(Buffer.from([0x0a, 0x05, ...Buffer.from("sleep")])))
      expect(raw.headers[":status"]).toBe(200)
      expect(raw.headers["grpc-status"]).toBe("4")
      expect(Errors.decodeErr(String(raw.headers["l5d-err"]))).toContain("exceeded grpc-timeout")
      expect(raw.body.length).toBe(0)
      expect(raw.rstCode).toBe(0)
      // the backend saw the deadline (a fresh grpc-timeout) no later than what was asked
      const deadline = backend.seen[1]!.deadline
      expect(deadline).toBeLessThanOrEqual(sent + 200 + 50)
      expect(deadline).toBeGreaterThan(sent)
    }))

  it.live("an unroutable call answers UNAVAILABLE trailers-only with l5d-err, not a protocol error", () =>
    Effect.gen(function*() {
      const backend = yield* echoBackend("b1")
      const { port } = yield* h2Router(`/svc/echo => ${inet(backend.port)}`)
      const client = yield* echoClient(port, "nowhere")
      const r = yield* unary(client, { text: "hi" })
      expect(r.code).toBe(grpc.status.UNAVAILABLE)
      expect(r.details).toContain("Unable to route request!")
      expect(Errors.decodeErr(String(r.metadata?.get("l5d-err")[0]))).toContain("Unable to route request!")
    }))

  it.live("gRPC classifiers retry by grpc-status: retryableStatusCodes retries UNAVAILABLE, neverRetryable does not", () =>
    Effect.gen(function*() {
      const backend = yield* echoBackend("b1")
      const retrying = yield* h2Router(`/svc/echo => ${inet(backend.port)}`, {
        service: () => ({
          responseClassifier: { kind: "io.l5d.h2.grpc.retryableStatusCodes", retryableStatusCodes: [14] }
        })
      })
      const client = yield* echoClient(retrying.port, "echo")
      backend.failNext = 2
      const r = yield* unary(client, { text: "flaky" })
      expect(r.code).toBe(0)
      expect(r.reply?.text).toBe("b1:flaky")
      expect(backend.seen.length).toBe(3)
      expect(retrying.stats.counterValue("rt/h2/service/svc/echo/retries/total")).toBe(2)
      expect(retrying.stats.counterValue("rt/h2/service/svc/echo/success")).toBe(1)

      // a failure the classifier calls non-retryable reaches the client, counted as a failure
      const never = yield* h2Router(`/svc/echo => ${inet(backend.port)}`, {
        service: () => ({ responseClassifier: { kind: "io.l5d.h2.grpc.neverRetryable" } })
      })
      const client2 = yield* echoClient(never.port, "echo")
      backend.failNext = 1
      const f = yield* unary(client2, { text: "flaky" })
      expect(f.code).toBe(grpc.status.UNAVAILABLE)
      expect(f.details).toBe("flaky")
      expect(backend.seen.length).toBe(4)
      expect(never.stats.counterValue("rt/h2/service/svc/echo/failures")).toBe(1)
    }))
})
