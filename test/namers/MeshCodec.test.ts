/**
 * The mesh API codec: round trips of every message weir writes (seeded fast-check), garbage bytes
 * give an error and never a throw, and the bounds (nesting, frame size, compression) hold.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import fc from "fast-check"
import * as Address from "../../src/Address.js"
import * as Codec from "../../src/namers/namerd/MeshCodec.js"
import * as Replicas from "../../src/namers/namerd/MeshReplicas.js"
import * as Pb from "../../src/namers/namerd/Protobuf.js"
import * as Addr from "../../src/naming/Addr.js"
import * as Dentry from "../../src/naming/Dentry.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as NameTree from "../../src/naming/NameTree.js"
import * as Path from "../../src/naming/Path.js"

const seed = { seed: 11, numRuns: 200 }

const label = fc.string({
  unit: fc.oneof(
    fc.constantFrom(..."abcxyz019_:.#$%-"),
    fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c))
  ),
  minLength: 1,
  maxLength: 8
})
const path = fc.array(label, { maxLength: 5 }).map(Path.fromLabels)
const weight = fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1e9, noNaN: true }))

const { tree } = fc.letrec<{ tree: NameTree.NameTree<Path.Path> }>((rec) => ({
  tree: fc.oneof(
    { depthSize: "small" },
    path.map(NameTree.leaf),
    fc.constantFrom(NameTree.neg, NameTree.fail, NameTree.empty),
    fc.array(rec("tree"), { minLength: 2, maxLength: 3 }).map((ts) => NameTree.alt(...ts)),
    fc.array(fc.tuple(rec("tree"), weight), { minLength: 2, maxLength: 3 })
      .map((ts) => NameTree.union(...ts.map(([t, w]) => NameTree.weighted(t, w))))
  )
}))

const prefix = fc.array(
  fc.oneof(label.map((value) => ({ _tag: "Label" as const, value })), fc.constant({ _tag: "Any" as const })),
  {
    minLength: 1,
    maxLength: 4
  }
)
const dtab = fc.array(fc.tuple(prefix, tree).map(([p, t]) => Dentry.make(p, t)), { maxLength: 4 }).map(Dtab.make)

const boundTree = tree.map((t) => NameTree.map(t, (id) => ({ id: Path.concat(Path.make("#"), id), residual: id })))

describe("mesh codec", () => {
  it("BindReq round-trips root, name and dtab", () => {
    fc.assert(
      fc.property(path, path, dtab, (root, name, d) => {
        const r = Codec.decodeBindReq(Codec.encodeBindReq(root, name, d))
        expect(Result.isSuccess(r)).toBe(true)
        const v = Result.getOrThrow(r)
        expect(Path.equals(v.root!, root)).toBe(true)
        expect(Path.equals(v.name!, name)).toBe(true)
        expect(Dtab.equals(v.dtab, d)).toBe(true)
      }),
      seed
    )
  })

  it("BoundTreeRsp round-trips bound trees", () => {
    fc.assert(
      fc.property(boundTree, (t) => {
        const r = Codec.decodeBoundTree(Codec.encodeBoundTree(t))
        const eq = (a: Codec.BoundLeaf, b: Codec.BoundLeaf) =>
          Path.equals(a.id, b.id) && Path.equals(a.residual, b.residual)
        expect(NameTree.equals(Result.getOrThrow(r), t, eq)).toBe(true)
      }),
      seed
    )
  })

  it("Replicas round-trip address states, IPv4 and IPv6, with weights and metadata", () => {
    const states: Array<Addr.Addr> = [
      Addr.pending,
      Addr.neg,
      Addr.failed("no such service"),
      Addr.bound([
        Address.make("10.0.0.1", 8080, { meta: { nodeName: "n1", zone: "a" } }),
        Address.make("0:0:0:0:0:0:0:1", 81, { weight: 0.25, meta: {} }),
        Address.make("fe80:0:0:0:0:0:0:2", 82)
      ], { tier: "gold" })
    ]
    for (const s of states) {
      expect(Addr.equals(Result.getOrThrow(Replicas.decodeReplicas(Replicas.encodeReplicas(s))), s)).toBe(true)
    }
    expect([...Replicas.ipBytes("::ffff:1.2.3.4")!]).toEqual([...new Array(10).fill(0), 255, 255, 1, 2, 3, 4])
    const named = Replicas.decodeReplicas(Replicas.encodeReplicas(Addr.bound([Address.make("books.local", 1)])))
    expect(Result.getOrThrow(named)).toEqual(Addr.bound([]))
  })

  it("DtabRsp round-trips the dtab and its version", () => {
    fc.assert(
      fc.property(dtab, fc.string({ maxLength: 20 }), (d, version) => {
        const r = Result.getOrThrow(Codec.decodeDtabRsp(Codec.encodeDtabRsp(d, version)))
        expect(Dtab.equals(r.dtab, d)).toBe(true)
        expect(r.version).toBe(version)
      }),
      seed
    )
  })

  it("garbage bytes give an error, never a throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        for (
          const decode of [Codec.decodeBoundTree, Replicas.decodeReplicas, Codec.decodeBindReq, Codec.decodePathReq]
        ) {
          expect(() => decode(bytes)).not.toThrow()
        }
      }),
      { seed: 7, numRuns: 2000 }
    )
    expect(Result.isFailure(Codec.decodeBoundTree(Uint8Array.from([0x0a, 0x05, 0x01])))).toBe(true)
    expect(Result.getOrElse(Replicas.decodeReplicas(Uint8Array.from([0x22, 0x03, 0x0a, 0x01, 0x12])), () => undefined))
      .toBeUndefined()
  })

  it("nesting deeper than the limit is refused", () => {
    let t: NameTree.NameTree<Codec.BoundLeaf> = NameTree.neg
    for (let i = 0; i < Pb.maxDepth; i++) t = NameTree.alt(t)
    const r = Codec.decodeBoundTree(Codec.encodeBoundTree(t))
    expect(Result.isFailure(r) && r.failure).toContain("nested deeper")
  })

  it("gRPC frames: split across chunks, too large, compressed", () => {
    const d = new Pb.Deframer(16)
    const f = Buffer.concat([Pb.frame(Uint8Array.from([1, 2, 3])), Pb.frame(Uint8Array.from([4]))])
    expect(d.push(f.subarray(0, 6))).toEqual([])
    expect(d.push(f.subarray(6)).map((m) => [...m])).toEqual([[1, 2, 3], [4]])
    expect(() => d.push(Pb.frame(new Uint8Array(17)))).toThrow("the limit is 16")
    expect(() => new Pb.Deframer().push(Uint8Array.from([1, 0, 0, 0, 0]))).toThrow("compressed")
  })
})
