import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import { TBinaryProtocol, TFramedTransport } from "thrift"
import * as Address from "../../src/Address.js"
import { TType } from "../../src/namers/namerd/ThriftCodec.js"
import * as ThriftTrees from "../../src/namers/namerd/ThriftTrees.js"
import * as W from "../../src/namers/namerd/ThriftWire.js"
import * as Addr from "../../src/naming/Addr.js"
import * as Name from "../../src/naming/Name.js"
import * as NameTree from "../../src/naming/NameTree.js"
import * as Path from "../../src/naming/Path.js"

const bytes = (s: string) => new TextEncoder().encode(s)
const tpath = (s: string) => ThriftTrees.pathToThrift(Path.parseUnsafe(s))
const body = (frame: Buffer) => frame.subarray(4)

/** A frame written by hand with the library's protocol (for messages weir would never send). */
const handWritten = (write: (p: TBinaryProtocol) => void) => {
  let out: Buffer | undefined
  const p = new TBinaryProtocol(new TFramedTransport(undefined, (m?: Buffer) => void (out = m)))
  write(p)
  p.flush()
  return body(out!)
}

const bindCallWith = (writeName: (p: TBinaryProtocol) => void) =>
  handWritten((p) => {
    p.writeMessageBegin("bind", 1 as never, 7)
    p.writeStructBegin("args")
    p.writeFieldBegin("req", TType.STRUCT as never, 1)
    p.writeStructBegin("BindReq")
    p.writeFieldBegin("name", TType.STRUCT as never, 2)
    p.writeStructBegin("NameRef")
    writeName(p)
    p.writeFieldStop()
    p.writeStructEnd()
    p.writeFieldEnd()
    p.writeFieldStop()
    p.writeStructEnd()
    p.writeFieldEnd()
    p.writeFieldStop()
    p.writeStructEnd()
    p.writeMessageEnd()
  })

const callError = (frame: Buffer) => {
  const r = W.decodeCall(frame)
  return Result.isSuccess(r) && "error" in r.success ? r.success.error : undefined
}

describe("namerd's Thrift wire (namer.thrift)", () => {
  it("round-trips a bind call and its reply, and a failure", () => {
    const req: W.BindReq = {
      dtab: "/svc=>/#/io.l5d.fs",
      name: { stamp: bytes("s1"), name: tpath("/svc/books"), ns: "default" },
      clientId: tpath("/client")
    }
    const call = W.decodeCall(body(W.encodeCall("bind", 42, req)))
    expect(call).toEqual(Result.succeed({ method: "bind", seqid: 42, request: req }))

    const tree = ThriftTrees.boundTreeToThrift(
      NameTree.union(
        NameTree.weighted(NameTree.leaf(Name.boundConstant(Path.parseUnsafe("/#/io.l5d.fs/a"), Addr.neg)), 0.25),
        NameTree.weighted(NameTree.alt(NameTree.neg, NameTree.leaf(Name.boundConstant("/#/b", Addr.neg))), 0.75)
      )
    )
    const reply: W.Reply<"bind"> = { _tag: "Success", value: { stamp: bytes("s2"), tree, ns: "default" } }
    expect(W.decodeReply("bind", 42, body(W.encodeReply("bind", 42, reply)))).toEqual(Result.succeed(reply))
    const failure: W.Reply<"bind"> = {
      _tag: "Failure",
      value: { reason: "no", retryInSeconds: 600, name: req.name, ns: "default" }
    }
    expect(W.decodeReply("bind", 42, body(W.encodeReply("bind", 42, failure)))).toEqual(Result.succeed(failure))
    expect(W.decodeReply("bind", 43, body(W.encodeReply("bind", 42, reply)))).toEqual(
      Result.fail("answered sequence id 42, expected 43")
    )
  })

  it("round-trips addresses with metadata, IPv4 and IPv6", () => {
    const addr = Addr.bound([
      Address.make("127.0.0.1", 8080, { weight: 2, meta: { authority: "books" } }),
      Address.make("2001:db8::1", 443),
      Address.make("::ffff:10.0.0.1", 80)
    ])
    const value = ThriftTrees.addrToThrift(addr)
    const reply: W.Reply<"addr"> = { _tag: "Success", value: { stamp: bytes("x"), value } }
    const read = W.decodeReply("addr", 1, body(W.encodeReply("addr", 1, reply)))
    expect(read).toEqual(Result.succeed(reply))
    expect(ThriftTrees.addrFromThrift(value)).toEqual(Result.succeed(Addr.bound([
      Address.make("127.0.0.1", 8080, { weight: 2, meta: { authority: "books" } }),
      Address.make("2001:db8:0:0:0:0:0:1", 443),
      Address.make("0:0:0:0:0:ffff:a00:1", 80)
    ])))
  })

  it("reads a bound tree back, with each leaf's address from the given source", () => {
    const original = NameTree.alt(
      NameTree.leaf(Name.boundConstant(Path.parseUnsafe("/#/io.l5d.fs/a"), Addr.neg)),
      NameTree.union(NameTree.weighted(NameTree.leaf(Name.boundConstant(Path.parseUnsafe("/#/b"), Addr.neg)), 2))
    )
    const read = ThriftTrees.boundTreeFromThrift(ThriftTrees.boundTreeToThrift(original), () => Stream.empty)
    expect(Result.isSuccess(read) && NameTree.equals(read.success, original, Name.equals)).toBe(true)
  })

  it("rejects bound trees with unknown ids, cycles or too deep", () => {
    const leaf: W.BoundNode = { _tag: "leaf", value: { id: tpath("/a"), residual: [] } }
    const read = (t: W.BoundTree) => ThriftTrees.boundTreeFromThrift(t, () => Stream.empty)
    expect(read({ root: { _tag: "alt", value: [3] }, nodes: new Map([[0, leaf]]) })).toEqual(
      Result.fail("unknown node id 3")
    )
    expect(read({ root: { _tag: "alt", value: [0] }, nodes: new Map([[0, { _tag: "alt", value: [0] }]]) })).toEqual(
      Result.fail("node 0 refers to itself")
    )
    const chain = new Map<number, W.BoundNode>(
      Array.from({ length: 200 }, (_, i) => [i, i === 199 ? leaf : { _tag: "alt", value: [i + 1] }])
    )
    expect(read({ root: { _tag: "alt", value: [0] }, nodes: chain })).toEqual(Result.fail("tree deeper than 100"))
  })

  it("bounds what it decodes: container sizes, truncation, UTF-8, unions, frames", () => {
    const tooMany = bindCallWith((p) => {
      p.writeFieldBegin("name", TType.LIST as never, 2)
      p.writeListBegin(TType.STRING as never, 200_000)
    })
    expect(callError(tooMany)).toBe("BindReq.name: NameRef.name: list<binary> of 200000 elements (at most 100000)")
    const negative = bindCallWith((p) => {
      p.writeFieldBegin("name", TType.LIST as never, 2)
      p.writeListBegin(TType.STRING as never, -1)
    })
    expect(callError(negative)).toBe("BindReq.name: NameRef.name: list<binary> with a negative size (-1)")
    const long = bindCallWith((p) => {
      p.writeFieldBegin("ns", TType.STRING as never, 3)
      p.writeI32(1_000_000)
    })
    expect(callError(long)).toBe("the frame ends in the middle of a value")
    const latin1 = bindCallWith((p) => {
      p.writeFieldBegin("ns", TType.STRING as never, 3)
      p.writeBinary(Buffer.from([0xff, 0xfe]))
    })
    expect(callError(latin1)).toBe("BindReq.name: NameRef.ns: a string is not valid UTF-8")

    const twoVariants = handWritten((p) => {
      p.writeMessageBegin("addr", 2 as never, 1)
      p.writeStructBegin("result")
      p.writeFieldBegin("success", TType.STRUCT as never, 0)
      p.writeStructBegin("Addr")
      p.writeFieldBegin("value", TType.STRUCT as never, 2)
      p.writeStructBegin("AddrVal")
      for (const id of [1, 2]) {
        p.writeFieldBegin("v", TType.STRUCT as never, id)
        p.writeFieldStop()
      }
      p.writeFieldStop()
      p.writeFieldStop()
      p.writeFieldStop()
      p.writeMessageEnd()
    })
    expect(W.decodeReply("addr", 1, twoVariants)).toEqual(
      Result.fail("Addr.value: AddrVal: a union needs exactly one known field set, got 2")
    )

    expect(callError(handWritten((p) => p.writeMessageBegin("resolve", 1 as never, 3)))).toBe(
      "unknown method resolve"
    )
    expect(W.decodeCall(Buffer.from("GET / HTTP/1.1\r\n"))).toEqual(
      Result.fail("not a Thrift binary message: the frame ends in the middle of a value")
    )
    const frames = new W.FrameReader()
    expect(frames.push(Buffer.from([0x7f, 0, 0, 0]))).toEqual(
      Result.fail("a frame of 2130706432 bytes (at most 16384000; is the peer speaking framed Thrift?)")
    )
    const split = new W.FrameReader()
    const whole = W.encodeCall("dtab", 1, { stamp: bytes(""), ns: "default", clientId: [] })
    expect(split.push(whole.subarray(0, 3))).toEqual(Result.succeed([]))
    expect(split.push(whole.subarray(3))).toEqual(Result.succeed([whole.subarray(4)]))
  })
  it("writes namer.thrift's field ids and types (bytes written field by field from the IDL)", () => {
    const field = (p: TBinaryProtocol, type: number, id: number, write: () => void) => {
      p.writeFieldBegin("", type as never, id)
      write()
      p.writeFieldEnd()
    }
    const struct = (p: TBinaryProtocol, write: () => void) => {
      p.writeStructBegin("")
      write()
      p.writeFieldStop()
      p.writeStructEnd()
    }
    const path = (p: TBinaryProtocol, labels: Array<string>) => {
      p.writeListBegin(TType.STRING as never, labels.length)
      for (const l of labels) p.writeBinary(Buffer.from(l))
      p.writeListEnd()
    }
    // BindReq { 1: string dtab, 2: NameRef { 1: binary stamp, 2: list<binary> name, 3: string ns }, 3: Path clientId }
    const expected = handWritten((p) => {
      p.writeMessageBegin("bind", 1 as never, 9)
      struct(p, () =>
        field(p, TType.STRUCT, 1, () =>
          struct(p, () => {
            field(p, TType.STRING, 1, () => p.writeString("/svc=>/#/io.l5d.fs"))
            field(p, TType.STRUCT, 2, () =>
              struct(p, () => {
                field(p, TType.STRING, 1, () => p.writeBinary(Buffer.from("st")))
                field(p, TType.LIST, 2, () => path(p, ["svc", "books"]))
                field(p, TType.STRING, 3, () => p.writeString("default"))
              }))
            field(p, TType.LIST, 3, () => path(p, ["me"]))
          })))
      p.writeMessageEnd()
    })
    const ours = W.encodeCall("bind", 9, {
      dtab: "/svc=>/#/io.l5d.fs",
      name: { stamp: bytes("st"), name: tpath("/svc/books"), ns: "default" },
      clientId: tpath("/me")
    })
    expect(body(ours).toString("hex")).toBe(expected.toString("hex"))

    // Addr { 1: Stamp stamp, 2: AddrVal { 1: BoundAddr { 1: set<TransportAddress { 1: binary ip, 2: i32 port,
    //   3: optional AddrMeta { 1: optional string authority, 2: optional string nodeName,
    //   3: optional double endpoint_addr_weight } }> } } } in the reply's field 0
    const addrExpected = handWritten((p) => {
      p.writeMessageBegin("addr", 2 as never, 4)
      struct(p, () =>
        field(p, TType.STRUCT, 0, () =>
          struct(p, () => {
            field(p, TType.STRING, 1, () => p.writeBinary(Buffer.from("s")))
            field(p, TType.STRUCT, 2, () =>
              struct(p, () =>
                field(p, TType.STRUCT, 1, () =>
                  struct(p, () =>
                    field(p, TType.SET, 1, () => {
                      p.writeSetBegin(TType.STRUCT as never, 1)
                      struct(p, () => {
                        field(p, TType.STRING, 1, () => p.writeBinary(Buffer.from([10, 0, 0, 1])))
                        field(p, TType.I32, 2, () =>
                          p.writeI32(8080))
                        field(p, TType.STRUCT, 3, () =>
                          struct(p, () => {
                            field(p, TType.STRING, 2, () =>
                              p.writeString("node-1"))
                            field(p, TType.DOUBLE, 3, () => p.writeDouble(0.5))
                          }))
                      })
                      p.writeSetEnd()
                    })))))
          })))
      p.writeMessageEnd()
    })
    const addrOurs = W.encodeReply("addr", 4, {
      _tag: "Success",
      value: {
        stamp: bytes("s"),
        value: ThriftTrees.addrToThrift(
          Addr.bound([Address.make("10.0.0.1", 8080, { weight: 0.5, meta: { nodeName: "node-1" } })])
        )
      }
    })
    expect(body(addrOurs).toString("hex")).toBe(addrExpected.toString("hex"))
  })
})
