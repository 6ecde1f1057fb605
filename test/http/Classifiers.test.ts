import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Exit from "effect/Exit"
import { ConnectionFailed, Overloaded, RequestTimeout } from "../../src/Failure.js"
import * as Classifiers from "../../src/http/Classifiers.js"
import * as ResponseClass from "../../src/resilience/ResponseClass.js"

const verdict = (kind: Classifiers.Kind, method: string, status: number) => {
  const c = Classifiers.classifyResponse(kind, { method }, { status })
  return c._tag === "Success" ? "success" : c.retryable ? "retryable" : "failure"
}

describe("http/Classifiers", () => {
  it("5XX is a failure, retryable by method per kind", () => {
    const methods = ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", "POST", "PATCH"]
    const row = (kind: Classifiers.Kind) => methods.map((m) => verdict(kind, m, 503))
    const f = "failure", r = "retryable"
    expect(row("io.l5d.http.nonRetryable5XX")).toEqual([f, f, f, f, f, f, f, f])
    expect(row("io.l5d.http.retryableRead5XX")).toEqual([r, r, r, r, f, f, f, f])
    expect(row("io.l5d.http.retryableIdempotent5XX")).toEqual([r, r, r, r, r, r, f, f])
    expect(row("io.l5d.http.retryableAll5XX")).toEqual([r, r, r, r, r, r, r, r])
    expect(row("io.l5d.http.allSuccessful")).toEqual(methods.map(() => "success"))
  })

  it("non-5XX statuses are successes; methods are case-insensitive", () => {
    for (const status of [200, 204, 301, 404, 429, 499, 600]) {
      expect(verdict("io.l5d.http.retryableAll5XX", "GET", status)).toBe("success")
    }
    expect(verdict("io.l5d.http.retryableRead5XX", "get", 500)).toBe("retryable")
  })

  it("chunked requests are never retryable; l5d-retryable: true makes a failure retryable", () => {
    expect(
      Classifiers.classifyResponse("io.l5d.http.retryableAll5XX", { method: "GET", chunked: true }, { status: 500 })
    )
      .toEqual({ _tag: "Failed", retryable: false })
    expect(
      Classifiers.classifyResponse("io.l5d.http.nonRetryable5XX", { method: "POST" }, {
        status: 500,
        headers: { "l5d-retryable": "true" }
      })
    ).toEqual({ _tag: "Failed", retryable: true })
  })

  it("errors are failures, retryable only for retryable kinds, methods and errors", () => {
    const timeout = new RequestTimeout({ scope: "attempt", timeout: Duration.seconds(1) })
    const refused = new ConnectionFailed({ address: "a:1", reason: "refused", written: false })
    const get = { method: "GET" }
    expect(Classifiers.classifyError("io.l5d.http.retryableRead5XX", get, timeout)).toEqual({
      _tag: "Failed",
      retryable: true
    })
    expect(ResponseClass.isRetryable(Classifiers.classifyError("io.l5d.http.retryableRead5XX", get, refused))).toBe(
      true
    )
    const overloaded = new Overloaded({ reason: "queueFull" })
    expect(ResponseClass.isRetryable(Classifiers.classifyError("io.l5d.http.retryableRead5XX", get, overloaded))).toBe(
      true
    )
    expect(ResponseClass.isRetryable(Classifiers.classifyError("io.l5d.http.retryableRead5XX", get, new Error("boom"))))
      .toBe(false)
    expect(
      ResponseClass.isRetryable(Classifiers.classifyError("io.l5d.http.retryableRead5XX", { method: "POST" }, timeout))
    ).toBe(false)
    expect(ResponseClass.isRetryable(Classifiers.classifyError("io.l5d.http.nonRetryable5XX", get, timeout))).toBe(
      false
    )
    expect(Classifiers.classifyError("io.l5d.http.allSuccessful", get, timeout)._tag).toBe("Failed")
  })

  it("classifier works over exits", () => {
    const c = Classifiers.classifier("io.l5d.http.retryableRead5XX")
    expect(c({ method: "GET" }, Exit.succeed({ status: 200 }))._tag).toBe("Success")
    expect(c({ method: "GET" }, Exit.succeed({ status: 502 }))).toEqual({ _tag: "Failed", retryable: true })
    const timedOut = Exit.fail(new RequestTimeout({ scope: "attempt", timeout: Duration.seconds(1) }))
    expect(ResponseClass.isRetryable(c({ method: "GET" }, timedOut))).toBe(true)
    expect(c({ method: "GET" }, Exit.die("bug"))).toEqual({ _tag: "Failed", retryable: false })
    expect(c({ method: "GET" }, Exit.failCause(Cause.interrupt()))).toEqual({ _tag: "Failed", retryable: false })
  })

  it("parses kinds, accepting the older spellings", () => {
    expect(Classifiers.parseKind("io.l5d.http.retryableRead5XX")).toBe("io.l5d.http.retryableRead5XX")
    expect(Classifiers.parseKind("io.l5d.retryableRead5XX")).toBe("io.l5d.http.retryableRead5XX")
    expect(Classifiers.parseKind("io.l5d.allSuccessful")).toBe("io.l5d.http.allSuccessful")
    expect(Classifiers.parseKind("io.l5d.h2.retryableRead5XX")).toBeUndefined()
    expect(Classifiers.parseKind("nope")).toBeUndefined()
    expect(Classifiers.defaultKind).toBe("io.l5d.http.nonRetryable5XX")
    expect(Classifiers.kinds.length).toBe(5)
  })
})
