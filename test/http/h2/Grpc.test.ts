import { describe, expect, it } from "@effect/vitest"
import * as Exit from "effect/Exit"
import * as Failure from "../../../src/Failure.js"
import * as H2Classifiers from "../../../src/http/h2/Classifiers.js"
import * as Grpc from "../../../src/http/h2/Grpc.js"
import type { HttpResponse } from "../../../src/http/transport/Message.js"
import { empty, knownTrailers } from "../../../src/http/transport/Message.js"
import * as ResponseClass from "../../../src/resilience/ResponseClass.js"

const grpcResponse = (status: number | undefined, where: "headers" | "trailers" = "trailers"): HttpResponse => ({
  status: 200,
  headers: where === "headers" && status !== undefined ? { "grpc-status": String(status) } : {},
  body: empty,
  trailers: knownTrailers(where === "trailers" && status !== undefined ? { "grpc-status": String(status) } : undefined)
})

const post = { method: "POST" }

describe("gRPC on h2", () => {
  it("decodes and encodes grpc-timeout", () => {
    expect(Grpc.decodeTimeout("200m")).toBe(200)
    expect(Grpc.decodeTimeout("3S")).toBe(3000)
    expect(Grpc.decodeTimeout("1H")).toBe(3_600_000)
    expect(Grpc.decodeTimeout("5M")).toBe(300_000)
    expect(Grpc.decodeTimeout("1500u")).toBeCloseTo(1.5)
    expect(Grpc.decodeTimeout("2000000n")).toBeCloseTo(2)
    for (const bad of ["", "10", "123456789m", "1x", "-1m", "1.5S", " m"]) {
      expect(Grpc.decodeTimeout(bad)).toBeUndefined()
    }
    expect(Grpc.encodeTimeout(200)).toBe("200000u")
    expect(Grpc.encodeTimeout(0.5)).toBe("500000n")
    expect(Grpc.decodeTimeout(Grpc.encodeTimeout(12_345))).toBe(12_345)
    expect(Grpc.encodeTimeout(0)).toBe("1n")
    expect(Grpc.encodeTimeout(10 * 3_600_000 * 24 * 365 * 1000)).toMatch(/^\d{1,8}H$/)
    for (const ms of [0.001, 1, 99.9, 1000, 86_400_000]) {
      const back = Grpc.decodeTimeout(Grpc.encodeTimeout(ms))!
      expect(back).toBeGreaterThanOrEqual(ms)
    }
  })

  it("reads grpc-status from trailers-only headers or from trailers", () => {
    expect(Grpc.statusOf(grpcResponse(14, "headers"))).toBe(14)
    expect(Grpc.statusOf(grpcResponse(0, "trailers"))).toBe(0)
    expect(Grpc.statusOf(grpcResponse(undefined))).toBeUndefined()
    expect(Grpc.isGrpc({ headers: { "content-type": "application/grpc+proto" } })).toBe(true)
    expect(Grpc.isGrpc({ headers: { "content-type": "application/grpc-web" } })).toBe(false)
  })

  it("maps router errors to gRPC statuses and keeps l5d-err", () => {
    expect(Grpc.statusForHttp(503, "exceeded 1.seconds to /svc/a while waiting")).toBe(Grpc.Status.DEADLINE_EXCEEDED)
    expect(Grpc.statusForHttp(502, "Unable to route request!")).toBe(Grpc.Status.UNAVAILABLE)
    expect(Grpc.statusForHttp(503, "Overloaded")).toBe(Grpc.Status.UNAVAILABLE)
    expect(Grpc.statusForHttp(400, "bad dtab")).toBe(Grpc.Status.INTERNAL)
    const r = Grpc.fromRouterError(
      { status: 502, headers: { "l5d-err": "x", "content-type": "text/plain" }, body: empty },
      "no route: 100%"
    )
    expect(r.headers).toEqual({
      "l5d-err": "x",
      "content-type": "application/grpc",
      "grpc-status": "14",
      "grpc-message": "no route: 100%25"
    })
  })
})

describe("h2 classifiers", () => {
  const classify = (config: H2Classifiers.Config, response: HttpResponse, chunked = false) =>
    H2Classifiers.classifier(config)({ ...post, chunked }, Exit.succeed(response))

  it("grpc.default retries only UNAVAILABLE; success codes are configurable", () => {
    const c: H2Classifiers.Config = { kind: "io.l5d.h2.grpc.default" }
    expect(classify(c, grpcResponse(0))).toEqual(ResponseClass.Success)
    expect(classify(c, grpcResponse(14))).toEqual(ResponseClass.failed(true))
    expect(classify(c, grpcResponse(14, "headers"))).toEqual(ResponseClass.failed(true))
    expect(classify(c, grpcResponse(2))).toEqual(ResponseClass.failed(false))
    expect(classify(c, grpcResponse(14), true)).toEqual(ResponseClass.failed(false))
    expect(classify({ ...c, successStatusCodes: [0, 5] }, grpcResponse(5))).toEqual(ResponseClass.Success)
    // status not known yet (trailers to come): by the HTTP status
    expect(classify(c, grpcResponse(undefined))).toEqual(ResponseClass.Success)
  })

  it("retryableStatusCodes, compliant, always and never", () => {
    const codes: H2Classifiers.Config = { kind: "io.l5d.h2.grpc.retryableStatusCodes", retryableStatusCodes: [8] }
    expect(classify(codes, grpcResponse(8))).toEqual(ResponseClass.failed(true))
    expect(classify(codes, grpcResponse(14))).toEqual(ResponseClass.failed(false))
    const compliant: H2Classifiers.Config = { kind: "io.l5d.h2.grpc.compliant" }
    expect(classify(compliant, { ...grpcResponse(undefined), status: 503 })).toEqual(ResponseClass.failed(true))
    expect(classify(compliant, grpcResponse(13))).toEqual(ResponseClass.failed(false))
    const refused = new Failure.ConnectionFailed({
      address: "a",
      reason: "reset",
      written: true,
      detail: "stream reset (code 7)"
    })
    expect(H2Classifiers.classifier(compliant)(post, Exit.fail(refused))).toEqual(ResponseClass.failed(true))
    expect(classify({ kind: "io.l5d.h2.grpc.alwaysRetryable" }, grpcResponse(3))).toEqual(ResponseClass.failed(true))
    expect(classify({ kind: "io.l5d.h2.grpc.neverRetryable" }, grpcResponse(14))).toEqual(ResponseClass.failed(false))
  })

  it("the io.l5d.h2 HTTP kinds classify by status and method", () => {
    const read: H2Classifiers.Config = { kind: "io.l5d.h2.retryableRead5XX" }
    const get = H2Classifiers.classifier(read)(
      { method: "GET" },
      Exit.succeed({ ...grpcResponse(undefined), status: 503 })
    )
    expect(get).toEqual(ResponseClass.failed(true))
    expect(classify(read, { ...grpcResponse(undefined), status: 503 })).toEqual(ResponseClass.failed(false))
    expect(classify({ kind: "io.l5d.h2.allSuccessful" }, { ...grpcResponse(undefined), status: 500 })).toEqual(
      ResponseClass.Success
    )
  })
})
