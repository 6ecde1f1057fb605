/**
 * namerd's Thrift decoders on hostile input: random bytes, and valid calls and replies with bytes
 * flipped, cut short or spliced, are read to a value or a `Result` failure (never a throw, never a
 * hang); a bound tree made of arbitrary node ids (cycles, unknown ids, deep chains) reads to a tree
 * or a failure. Seeded, so every run sees the same inputs.
 *
 * `FUZZ_RUNS` multiplies the number of runs.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import fc from "fast-check"
import * as ThriftTrees from "../../src/namers/namerd/ThriftTrees.js"
import * as W from "../../src/namers/namerd/ThriftWire.js"
import * as Path from "../../src/naming/Path.js"

const runs = (n: number) => n * Number(process.env.FUZZ_RUNS ?? 1)
const tpath = (s: string) => ThriftTrees.pathToThrift(Path.parseUnsafe(s))
const stamp = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])

const samples: ReadonlyArray<Buffer> = [
  W.encodeCall("bind", 1, {
    dtab: "/svc=>/#/io.l5d.fs",
    name: { stamp, name: tpath("/svc/books"), ns: "default" },
    clientId: []
  }),
  W.encodeCall("addr", 2, { name: { stamp, name: tpath("/#/io.l5d.fs/books"), ns: "default" }, clientId: [] }),
  W.encodeReply("bind", 3, {
    _tag: "Success",
    value: {
      stamp,
      ns: "default",
      tree: {
        root: { _tag: "weighted", value: [{ weight: 1, id: 0 }, { weight: 2, id: 1 }] },
        nodes: new Map<number, W.BoundNode>([
          [0, { _tag: "leaf", value: { id: tpath("/#/a"), residual: [] } }],
          [1, { _tag: "alt", value: [2] }],
          [2, { _tag: "neg", value: {} }]
        ])
      }
    }
  }),
  W.encodeReply("addr", 4, {
    _tag: "Success",
    value: {
      stamp,
      value: {
        _tag: "bound",
        value: {
          addresses: [{ ip: new Uint8Array([127, 0, 0, 1]), port: 80, meta: { authority: "a", endpointAddrWeight: 2 } }]
        }
      }
    }
  })
].map((frame) => frame.subarray(4))

const mutated = fc.tuple(
  fc.integer({ min: 0, max: samples.length - 1 }),
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
  fc.option(fc.nat()),
  fc.uint8Array({ maxLength: 16 })
).map(([i, flips, cut, tail]) => {
  const b = Buffer.from(samples[i]!)
  for (const [at, v] of flips) if (b.length > 0) b[at % b.length] = v
  const cutAt = cut === null ? b.length : cut % (b.length + 1)
  return Buffer.concat([b.subarray(0, cutAt), Buffer.from(tail)])
})

const frames = fc.oneof(fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), mutated)

describe("namerd Thrift decoders on hostile bytes", () => {
  it("read any frame to a call, a reply or a failure, without throwing", () => {
    fc.assert(
      fc.property(frames, (frame) => {
        expect(Result.isResult(W.decodeCall(frame))).toBe(true)
        for (const method of ["bind", "addr", "dtab", "delegate"] as const) {
          for (const seqid of [1, 2, 3, 4]) expect(Result.isResult(W.decodeReply(method, seqid, frame))).toBe(true)
        }
      }),
      { seed: 42, numRuns: runs(2_000) }
    )
  })

  it("read any bound tree of arbitrary node ids to a tree or a failure", () => {
    const node = fc.oneof(
      fc.constant<W.BoundNode>({ _tag: "neg", value: {} }),
      fc.constant<W.BoundNode>({ _tag: "leaf", value: { id: tpath("/#/x"), residual: [] } }),
      fc.array(fc.integer({ min: -1, max: 12 }), { maxLength: 3 }).map((ids): W.BoundNode => ({
        _tag: "alt",
        value: ids
      })),
      fc.array(fc.tuple(fc.double(), fc.integer({ min: -1, max: 12 })), { maxLength: 3 }).map((ws): W.BoundNode => ({
        _tag: "weighted",
        value: ws.map(([weight, id]) => ({ weight, id }))
      }))
    )
    fc.assert(
      fc.property(node, fc.array(node, { maxLength: 12 }), (root, nodes) => {
        const tree = { root, nodes: new Map(nodes.map((n, i) => [i, n] as const)) }
        expect(Result.isResult(ThriftTrees.boundTreeFromThrift(tree, () => Stream.empty))).toBe(true)
      }),
      { seed: 42, numRuns: runs(2_000) }
    )
  })
})
