import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Errors from "../../src/http/Errors.js"
import * as Router from "../../src/http/Router.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Stats from "../../src/Stats.js"
import {
  collect,
  echoBackend,
  echoClient,
  grpc,
  grpcFrame,
  type Msg,
  rawBackend,
  rawCall,
  unary
} from "../h2/support.js"
import { waitFor } from "../support/poll.js"

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
      const sent = Date.now()
      const ok = yield* unary(client, { text: "hi" }, { deadline: sent + 5000 })
      expect(ok.code).toBe(0)
      expect(backend.seen[0]!.metadata["l5d-ctx-deadline"]).toMatch(/^\d+ \d+$/)
      // the backend saw the deadline (a fresh grpc-timeout) no later than what was asked
      expect(backend.seen[0]!.deadline).toBeLessThanOrEqual(sent + 5000 + 50)

      // a backend that hangs and ignores deadlines, and node's own client (no deadline of its own):
      // the answer is weir's
      const hang = yield* rawBackend()
      const r2 = yield* h2Router(`/svc/echo => ${inet(hang.port)}`)
      const raw = yield* rawCall(r2.port, {
        ":method": "POST",
        ":path": "/weir.test.Echo/Unary",
        ":authority": "echo",
        "content-type": "application/grpc",
        "te": "trailers",
        "grpc-timeout": "200m"
      }, grpcFrame(Buffer.from("sleep")))
      expect(raw.headers[":status"]).toBe(200)
      expect(raw.headers["grpc-status"]).toBe("4")
      expect(Errors.decodeErr(String(raw.headers["l5d-err"]))).toMatch(/exceeded (grpc-timeout|\d+)/)
      expect(raw.body.length).toBe(0)
      expect(raw.rstCode).toBe(0)
      expect(String(hang.seen[0]!["grpc-timeout"])).toMatch(/^\d+[mun]$/)
      expect(hang.seen[0]!["l5d-ctx-deadline"]).toMatch(/^\d+ \d+$/)
      // the upstream stream was cancelled
      yield* waitFor(() => hang.reset === 1, "the upstream stream to be reset")

      // a timeout longer than a timer can wait (8 digits of hours) is a deadline, not an immediate expiry
      const far = yield* rawCall(port, {
        ":method": "POST",
        ":path": "/weir.test.Echo/Unary",
        ":authority": "echo",
        "content-type": "application/grpc",
        "te": "trailers",
        "grpc-timeout": "99999999H"
      }, grpcFrame(Buffer.from([0x0a, 0x02, ...Buffer.from("hi")])))
      expect(far.trailers?.["grpc-status"]).toBe("0")
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
        service: () => ({ classifier: { kind: "io.l5d.h2.grpc.retryableStatusCodes", retryableStatusCodes: [14] } })
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
        service: () => ({ classifier: { kind: "io.l5d.h2.grpc.neverRetryable" } })
      })
      const client2 = yield* echoClient(never.port, "echo")
      backend.failNext = 1
      const f = yield* unary(client2, { text: "flaky" })
      expect(f.code).toBe(grpc.status.UNAVAILABLE)
      expect(f.details).toBe("flaky")
      expect(backend.seen.length).toBe(4)
      expect(never.stats.counterValue("rt/h2/service/svc/echo/failures")).toBe(1)
    }))

  it.live("a client's cancellation reaches the server (RST_STREAM relayed), and the router keeps serving", () =>
    Effect.gen(function*() {
      const backend = yield* echoBackend("b1")
      const { port, router } = yield* h2Router(`/svc/echo => ${inet(backend.port)}`)
      const client = yield* echoClient(port, "echo")
      const call = client.ServerStream({ n: -1 })
      call.on("error", () => {})
      // wait for a few messages, then cancel
      yield* Effect.callback<void>((resume) => {
        let got = 0
        call.on("data", () => {
          if (++got === 3) resume(Effect.void)
        })
      })
      call.cancel()
      yield* waitFor(() => backend.cancelled === 1, "the server to see the cancellation")
      yield* waitFor(() => router.servers[0]!.inFlight() === 0, "no stream in flight")
      const after = yield* unary(client, { text: "still" })
      expect(after.reply?.text).toBe("b1:still")
    }))

  it.live("a killed backend fails over to the other one", () =>
    Effect.gen(function*() {
      const b1 = yield* echoBackend("b1")
      const b2 = yield* echoBackend("b2")
      const { port } = yield* h2Router(`/svc/echo => /$/inet/127.0.0.1/${b1.port} & /$/inet/127.0.0.1/${b2.port}`)
      const client = yield* echoClient(port, "echo")
      for (let i = 0; i < 10; i++) expect((yield* unary(client, { text: String(i) })).code).toBe(0)
      yield* Effect.promise(() => b1.kill())
      const after: Array<string> = []
      for (let i = 0; i < 20; i++) {
        const r = yield* unary(client, { text: String(i) })
        if (r.code === 0) after.push(r.reply!.text)
      }
      // calls in flight on the dead connection may fail; every later one lands on b2
      expect(after.length).toBeGreaterThanOrEqual(18)
      expect(after.slice(-10).every((t) => t.startsWith("b2:"))).toBe(true)
    }))

  it.live("a server error status passes through", () =>
    Effect.gen(function*() {
      const backend = yield* echoBackend("b1")
      const { port } = yield* h2Router(`/svc/echo => ${inet(backend.port)}`)
      const client = yield* echoClient(port, "echo")
      const r = yield* unary(client, { text: "unavailable" })
      expect(r.code).toBe(grpc.status.UNAVAILABLE)
      expect(r.details).toBe("try again")
    }))

  it.live("l5d-dtab in the call's metadata overrides routing, as on HTTP/1.1, and travels on as l5d-ctx-dtab", () =>
    Effect.gen(function*() {
      const b1 = yield* echoBackend("b1")
      const b2 = yield* echoBackend("b2")
      const { port } = yield* h2Router(`/svc/echo => ${inet(b1.port)}`)
      const client = yield* echoClient(port, "echo")
      const metadata = new grpc.Metadata()
      metadata.set("l5d-dtab", `/svc/echo => ${inet(b2.port)}`)
      const r = yield* unary(client, { text: "x" }, {}, metadata)
      expect(r.reply?.text).toBe("b2:x")
      expect(b2.seen[0]!.metadata["l5d-ctx-dtab"]).toBe(`/svc/echo=>${inet(b2.port)}`)
      const plain = yield* unary(client, { text: "y" })
      expect(plain.reply?.text).toBe("b1:y")
    }))
})
