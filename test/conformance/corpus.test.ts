/**
 * Runs the conformance corpus (test/conformance/*.json, docs/http.md): every case through the codec
 * alone; request cases also through a real weir `Server` and node's `http` server (llhttp), response
 * cases through a real `Upstream` and node's `http.request`, all on loopback; connection cases
 * (pipelining, keep-alive, close) through a real `Server` over a raw socket. Where weir's verdict
 * differs from llhttp's, the case must say why (its `llhttp` field), and a case that says so must
 * differ: the list of deliberate differences cannot go stale.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { Headers } from "../../src/http/transport/Message.js"
import type { Accepted, Case, ConnectionCase, Reading, Verdict } from "./harness.js"
import {
  bytes,
  corpus,
  echoServer,
  exchange,
  methodOf,
  nodeRequestVerdict,
  nodeResponseVerdict,
  nodeServer,
  rawBackend,
  readRequest,
  readResponse,
  weirResponse
} from "./harness.js"

const files = corpus()

/** What a case's `accept` pins that `reading` does not match (empty when all match). */
const differences = (accept: Accepted, reading: Reading): Array<string> => {
  if (reading.verdict !== "accept") {
    return [
      `expected accept, got ${reading.verdict}${
        reading.verdict === "reject" ? ` ${reading.status}: ${reading.reason}` : ""
      }`
    ]
  }
  const out: Array<string> = []
  const same = (field: string, want: unknown, got: unknown) => {
    if (want !== undefined && JSON.stringify(want) !== JSON.stringify(got)) {
      out.push(`${field}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`)
    }
  }
  same("method", accept.method, reading.method)
  same("target", accept.target, reading.target)
  same("version", accept.version, reading.version)
  same("status", accept.status, reading.status)
  same("framing", accept.framing, reading.framing)
  same("body", accept.body, reading.body)
  same("rest", accept.rest, reading.rest)
  for (const [name, value] of Object.entries(accept.headers ?? {})) same(`header ${name}`, value, reading.headers[name])
  return out
}

const codecVerdict = (c: Case, reading: Reading): Array<string> => {
  if (c.accept !== undefined) return differences(c.accept, reading)
  // a rule of the server (Host required, Expect), not of the codec: the codec lets the message through
  if (c.layer === "server") return reading.verdict === "accept" ? [] : [`codec: ${JSON.stringify(reading)}`]
  if (reading.verdict !== "reject") return [`expected reject ${c.reject}, got ${reading.verdict}`]
  if (c.reject !== true && reading.status !== c.reject) {
    return [`expected status ${c.reject}, got ${reading.status} (${reading.reason})`]
  }
  return []
}

const weirVerdict = (c: Case): Verdict => c.accept !== undefined ? "accept" : "reject"

/** Checks the llhttp column: differences only where documented, and every documented one real. */
const llhttpProblems = (cases: ReadonlyArray<Case>, node: ReadonlyArray<Verdict | "no answer">): Array<string> =>
  cases.flatMap((c, i) => {
    // no answer: llhttp took the head and waits for a body that does not come (a length weir refuses)
    const theirs = node[i] === "reject" ? "reject" : "accept"
    const differs = theirs !== weirVerdict(c)
    if (differs && c.llhttp === undefined) {
      return [`${c.name}: weir ${weirVerdict(c)}s, llhttp ${node[i]}s, no reason given`]
    }
    if (!differs && c.llhttp !== undefined) return [`${c.name}: marked as differing from llhttp, but both ${theirs}`]
    return []
  })

const parsedEcho = (
  body: string
): { method: string; target: string; version: string; body: string; headers: Headers } => JSON.parse(body)

const checkConnection = async (port: number, c: ConnectionCase): Promise<Array<string>> => {
  const r = await exchange(port, c.raw, c.responses.length, c.close)
  const out: Array<string> = []
  if (r.hung) out.push("no complete answer (hung)")
  if (r.responses.length !== c.responses.length) {
    out.push(
      `expected ${c.responses.length} responses, got ${r.responses.length}: ${JSON.stringify(r.text.slice(0, 300))}`
    )
  }
  c.responses.forEach((want, i) => {
    const got = r.responses[i]
    if (got === undefined) return
    if (got.status !== want.status) out.push(`response ${i}: status ${got.status}, expected ${want.status}`)
    if (got.status === 200 && (want.target !== undefined || want.method !== undefined || want.body !== undefined)) {
      const seen = parsedEcho(got.body)
      for (const k of ["method", "target", "body"] as const) {
        if (want[k] !== undefined && want[k] !== seen[k]) {
          out.push(`response ${i}: ${k} ${JSON.stringify(seen[k])}, expected ${JSON.stringify(want[k])}`)
        }
      }
    }
  })
  if (c.close && !r.closed) out.push("expected the server to close")
  const last = r.responses[r.responses.length - 1]
  if (!c.close && (r.closed || last?.headers["connection"] === "close")) out.push("expected the connection kept open")
  if (c.interim === true && !r.text.startsWith("HTTP/1.1 100 Continue\r\n\r\n")) {
    out.push("expected a 100 Continue first")
  }
  return out
}

describe("conformance corpus", () => {
  it("holds at least 150 cases, each with a verdict and an RFC section", () => {
    let total = 0
    for (const [file, data] of files) {
      for (const c of data.cases) {
        total++
        expect(c.rfc, `${file}: ${c.name}`).toMatch(/^RFC \d{4} §\d/)
        if (data.kind !== "connection") {
          const k = c as Case
          expect([k.accept, k.reject].filter((v) => v !== undefined).length, `${file}: ${c.name}`).toBe(1)
        }
      }
      expect(new Set(data.cases.map((c) => c.name)).size, `${file}: case names are unique`).toBe(data.cases.length)
    }
    expect(total).toBeGreaterThanOrEqual(150)
  })
})

for (const [file, data] of files) {
  describe(`conformance: ${file}`, () => {
    switch (data.kind) {
      case "request": {
        for (const c of data.cases) {
          it(`${c.name} (${c.rfc})`, () => {
            expect(codecVerdict(c, readRequest(bytes(c.raw)))).toEqual([])
          })
        }
        it("through a real Server on loopback: every status, and what the handler saw", async () => {
          const server = await echoServer()
          try {
            const results = await Promise.all(
              data.cases.map((c) => exchange(server.value.port, c.raw, 1, false, methodOf(c.raw)))
            )
            const problems = data.cases.flatMap((c, i) => {
              const r = results[i]!
              const got = r.responses[0]
              if (got === undefined) return [`${c.name}: no response (${JSON.stringify(r.text.slice(0, 100))})`]
              if (c.reject !== undefined) {
                return got.status === c.reject && got.headers["connection"] === "close"
                  ? []
                  : [`${c.name}: got ${got.status}, expected ${c.reject} and a close`]
              }
              if (got.status !== 200) return [`${c.name}: got ${got.status}, expected 200`]
              // a response to HEAD carries no body: the status is all there is to see
              if (methodOf(c.raw) === "HEAD") return []
              const seen = parsedEcho(got.body)
              const accept = c.accept!
              const reading: Reading = {
                verdict: "accept",
                method: seen.method,
                target: seen.target,
                version: seen.version as "1.0" | "1.1",
                status: 0,
                headers: seen.headers,
                framing: "None",
                body: seen.body,
                rest: ""
              }
              const d = differences({ ...accept, framing: undefined, rest: undefined }, reading)
              return d.map((x) => `${c.name}: ${x}`)
            })
            expect(problems).toEqual([])
          } finally {
            await server.close()
          }
        })
        it("against llhttp (node:http): differs exactly where a case says why", async () => {
          const node = await nodeServer()
          try {
            const verdicts = await Promise.all(data.cases.map((c) => nodeRequestVerdict(node.port, c.raw)))
            expect(llhttpProblems(data.cases, verdicts)).toEqual([])
          } finally {
            await node.close()
          }
        })
        break
      }
      case "response": {
        for (const c of data.cases) {
          it(`${c.name} (${c.rfc})`, () => {
            expect(codecVerdict(c, readResponse(bytes(c.raw), c.method ?? "GET"))).toEqual([])
          })
        }
        it("through a real Upstream from a raw backend, and against llhttp (node:http client)", async () => {
          const results = await Promise.all(data.cases.map(async (c) => {
            const backend = await rawBackend(c.raw)
            try {
              const method = c.method ?? "GET"
              const weir = await weirResponse(backend.port, method)
              const node = await nodeResponseVerdict(backend.port, method)
              return { weir, node }
            } finally {
              await backend.close()
            }
          }))
          const problems = data.cases.flatMap((c, i) => {
            const { weir } = results[i]!
            if (c.reject !== undefined) return weir.verdict === "reject" ? [] : [`${c.name}: Upstream accepted`]
            const accept = c.accept!
            return differences({ status: accept.status, headers: accept.headers, body: accept.body }, weir)
              .map((x) => `${c.name}: Upstream ${x}`)
          })
          expect(problems).toEqual([])
          expect(llhttpProblems(data.cases, results.map((r) => r.node))).toEqual([])
        })
        break
      }
      case "connection": {
        let server: Awaited<ReturnType<typeof echoServer>>
        beforeAll(async () => {
          server = await echoServer()
        })
        afterAll(() => server.close())
        for (const c of data.cases) {
          it(`${c.name} (${c.rfc})`, async () => {
            expect(await checkConnection(server.value.port, c)).toEqual([])
          })
        }
      }
    }
  })
}
