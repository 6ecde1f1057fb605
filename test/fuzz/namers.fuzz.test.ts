/**
 * The namers' decoders under garbage (fast-check, seeded): Kubernetes watch events and lists
 * (`k8s/Api` schemas and `addressesFor`), DNS answers (the `resolverQuery` of `DnsSrv`, asking a
 * UDP server on loopback that answers with mutated packets), and `io.l5d.fs` service files
 * (`parseFile`). Whatever they are given: a clear error, or an entry skipped, never a throw; and what
 * is decoded is usable (ports in range, finite weights). `FUZZ_RUNS` multiplies the runs.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as fc from "fast-check"
import * as dgram from "node:dgram"
import * as DnsSrv from "../../src/namers/DnsSrv.js"
import * as Fs from "../../src/namers/Fs.js"
import * as Api from "../../src/namers/k8s/Api.js"

const factor = Math.max(1, Number(process.env["FUZZ_RUNS"] ?? 1))
const runs = (n: number): number => n * factor
/** `FUZZ_SEED` shifts every seed, for long runs that explore elsewhere (a failure names the seed to replay) */
const seed = (base: number): number => base + Number(process.env["FUZZ_SEED"] ?? 0)
const timeout = 30_000 * factor

// ---------------------------------------------------------------------------------------------
// Kubernetes

const decodeEvent = Schema.decodeUnknownResult(Schema.fromJsonString(Api.WatchEvent))
const decodeList = Schema.decodeUnknownResult(Schema.fromJsonString(Api.EndpointsList))

const endpoints = fc.record({
  metadata: fc.record({ name: fc.string(), resourceVersion: fc.stringMatching(/^\d{1,6}$/) }),
  subsets: fc.array(
    fc.record({
      addresses: fc.array(fc.record({ ip: fc.ipV4(), nodeName: fc.string() }), { maxLength: 3 }),
      ports: fc.array(
        fc.record({ name: fc.constantFrom("http", "admin", "HTTP"), port: fc.integer({ min: 1, max: 65535 }) }),
        { maxLength: 2 }
      )
    }),
    { maxLength: 3 }
  )
})
const event = fc.record({ type: fc.constantFrom("ADDED", "MODIFIED", "DELETED", "BOOKMARK"), object: endpoints })

/** Replaces the value at a random path of a JSON value with another JSON value. */
const replaceAt = (value: unknown, path: ReadonlyArray<number>, replacement: unknown): unknown => {
  if (path.length === 0 || value === null || typeof value !== "object") return replacement
  const keys = Object.keys(value)
  if (keys.length === 0) return replacement
  const key = keys[path[0]! % keys.length]!
  const copy: Record<string, unknown> = Array.isArray(value) ? [...value] as never : { ...value }
  copy[key] = replaceAt((value as Record<string, unknown>)[key], path.slice(1), replacement)
  return copy
}

/** A watch line: a valid event with one value replaced, a valid event's text mutated, or any JSON or text. */
const watchLine = fc.oneof(
  fc.tuple(event, fc.array(fc.nat(), { maxLength: 6 }), fc.jsonValue()).map(([e, p, r]) =>
    JSON.stringify(replaceAt(e, p, r))
  ),
  fc.tuple(event, fc.nat(), fc.nat({ max: 8 }), fc.string({ maxLength: 3 })).map(([e, at, cut, ins]) => {
    const t = JSON.stringify(e)
    const i = at % (t.length + 1)
    return t.slice(0, i) + ins + t.slice(i + cut)
  }),
  fc.json(),
  fc.string({ unit: "binary", maxLength: 200 })
)

const usable = (addresses: ReadonlyArray<{ readonly port: number; readonly host: string }> | undefined) => {
  for (const a of addresses ?? []) {
    expect(Number.isInteger(a.port) && a.port >= 1 && a.port <= 65535).toBe(true)
    expect(typeof a.host).toBe("string")
  }
}

// ---------------------------------------------------------------------------------------------
// DNS: a UDP server on loopback that answers every question, then mutates the answer

const nameBytes = (name: string): Buffer =>
  Buffer.concat([
    ...name.split(".").filter((l) => l !== "").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0])
  ])

const rr = (type: number, rdata: Buffer): Buffer => {
  const head = Buffer.alloc(12)
  head.writeUInt16BE(0xc00c, 0) // the name: a pointer to the question's
  head.writeUInt16BE(type, 2)
  head.writeUInt16BE(1, 4)
  head.writeUInt32BE(30, 6)
  head.writeUInt16BE(rdata.length, 10)
  return Buffer.concat([head, rdata])
}

/** The answer to `query`: SRV records pointing at `t1.example`/`t2.example`, A records for those, or none. */
const answer = (query: Buffer): Buffer => {
  let i = 12
  while (i < query.length && query[i] !== 0) i += query[i]! + 1
  const qtype = query.readUInt16BE(i + 1)
  const question = query.subarray(12, i + 5)
  const answers: Array<Buffer> = []
  if (qtype === 33) {
    for (const [port, target] of [[8080, "t1.example"], [8081, "t2.example"]] as const) {
      const fixed = Buffer.alloc(6)
      fixed.writeUInt16BE(10, 0)
      fixed.writeUInt16BE(5, 2)
      fixed.writeUInt16BE(port, 4)
      answers.push(rr(33, Buffer.concat([fixed, nameBytes(target)])))
    }
  } else if (qtype === 1) answers.push(rr(1, Buffer.from([127, 0, 0, 1])))
  const header = Buffer.alloc(12)
  query.copy(header, 0, 0, 2)
  header.writeUInt16BE(0x8180, 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(answers.length, 6)
  return Buffer.concat([header, question, ...answers])
}

type Mutate = (packet: Buffer) => Buffer

const dnsServer = async (): Promise<{ port: number; setMutate: (m: Mutate) => void; close: () => void }> => {
  const socket = dgram.createSocket("udp4")
  let mutate: Mutate = (p) => p
  socket.on("message", (msg, peer) => {
    if (msg.length < 17) return
    socket.send(mutate(answer(msg)), peer.port, peer.address)
  })
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve))
  return { port: socket.address().port, setMutate: (m) => (mutate = m), close: () => socket.close() }
}

/** Byte mutations of an answer past its ID (a changed ID is an answer to nothing: the resolver waits). */
const packetMutation = fc.array(
  fc.tuple(fc.constantFrom("flip", "set", "cut", "insert"), fc.nat(), fc.integer({ min: 0, max: 255 })),
  { minLength: 1, maxLength: 4 }
).map((ms): Mutate => (packet) => {
  let p = Buffer.from(packet)
  for (const [op, at, byte] of ms) {
    const i = 2 + (at % Math.max(1, p.length - 2))
    if (op === "flip") p[i] = p[i]! ^ (1 << (byte % 8))
    else if (op === "set") p[i] = byte
    else if (op === "cut") p = p.subarray(0, i)
    else p = Buffer.concat([p.subarray(0, i), Buffer.from([byte]), p.subarray(i)])
  }
  return p
})

// ---------------------------------------------------------------------------------------------
// fs

const fsLine = fc.oneof(
  fc.tuple(
    fc.constantFrom("10.0.0.1", "host.example", "[::1]", "::1", ""),
    fc.constantFrom("80", "0", "65535", "65536", "-1", "8o", "", "1e3"),
    fc.constantFrom("", " 2", " 0.5", " *", " * 3", " -1", " NaN", " Infinity", " 1 2", " 1e400", " #c")
  ).map(([h, p, w]) => `${h} ${p}${w}`),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 })
)

describe("namer decoders under garbage", () => {
  it("k8s: a watch line or a list decodes or fails with a located error, never throws", () => {
    let decoded = 0
    fc.assert(
      fc.property(watchLine, fc.constantFrom("http", "8080", "admin"), (line, port) => {
        const ev = decodeEvent(line)
        if (Result.isFailure(ev)) expect(ev.failure.message.length).toBeGreaterThan(0)
        else {
          decoded++
          if (ev.success.type !== "ERROR") usable(Api.addressesFor(ev.success.object, port))
        }
        const list = decodeList(line)
        if (Result.isSuccess(list)) {
          for (const item of list.success.items ?? []) usable(Api.addressesFor(item, port))
        }
      }),
      { seed: seed(1646), numRuns: runs(1000) }
    )
    expect(decoded).toBeGreaterThan(0)
  }, timeout)

  it("fs: every line of a service file is an address or a located error, never a throw", () => {
    fc.assert(
      fc.property(fc.array(fsLine, { maxLength: 12 }), fc.constantFrom("\n", "\r\n"), (lines, eol) => {
        const { addresses, errors } = Fs.parseFile(lines.join(eol))
        usable(addresses)
        for (const a of addresses) expect(Number.isFinite(a.weight) && a.weight >= 0).toBe(true)
        const meaningful = lines.filter((l) => {
          const hash = l.indexOf("#")
          return (hash < 0 ? l : l.slice(0, hash)).trim() !== ""
        })
        // a line with a CR or LF inside is more than one line: count only when there is none
        if (lines.every((l) => !/[\r\n]/.test(l))) expect(addresses.length + errors.length).toBe(meaningful.length)
        for (const e of errors) {
          expect(e.line).toBeGreaterThanOrEqual(1)
          expect(e.reason.length).toBeGreaterThan(0)
        }
      }),
      { seed: seed(1656), numRuns: runs(1000) }
    )
  }, timeout)

  it.live(
    "dnssrv: a mutated DNS answer is an outcome (found, not found or an error), never a defect",
    () =>
      Effect.gen(function*() {
        const server = yield* Effect.promise(dnsServer)
        try {
          const query = DnsSrv.resolverQuery([`127.0.0.1:${server.port}`], { timeout: "200 millis" })
          // the harness works: the clean answer is found
          const clean = yield* query("_http._tcp.web.example")
          expect(clean).toEqual({
            _tag: "Found",
            addresses: [
              expect.objectContaining({ host: "127.0.0.1", port: 8080 }),
              expect.objectContaining({ host: "127.0.0.1", port: 8081 })
            ]
          })
          const tags = new Set<string>()
          yield* Effect.promise(() =>
            fc.assert(
              fc.asyncProperty(packetMutation, async (mutate) => {
                server.setMutate(mutate)
                const exit = await Effect.runPromiseExit(query("_http._tcp.web.example"))
                expect(exit._tag).toBe("Success")
                if (exit._tag !== "Success") return
                const outcome = exit.value
                tags.add(outcome._tag)
                if (outcome._tag === "Found") {
                  for (const a of outcome.addresses) {
                    expect(a.port >= 0 && a.port <= 65535 && Number.isFinite(a.weight)).toBe(true)
                  }
                } else expect(outcome.reason.length).toBeGreaterThan(0)
              }),
              { seed: seed(1666), numRuns: runs(40) }
            )
          )
          expect(tags.has("Error") || tags.has("NotFound")).toBe(true)
        } finally {
          server.close()
        }
      }),
    timeout
  )
})
