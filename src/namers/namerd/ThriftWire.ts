/**
 * namerd's Thrift interface on the wire: the structs of linkerd's `namer.thrift` (field ids and
 * types as in the IDL, so weir talks to linkerd's namerd and linkerd-style clients talk to weir's)
 * and the `Namer` service's messages, in Thrift's binary protocol over framed transport (a 4-byte
 * big-endian length before each message), through Apache Thrift's npm library.
 *
 * ```thrift
 * service Namer {
 *   Bound bind(1: BindReq req) throws (1: BindFailure rf)
 *   Addr addr(1: AddrReq req) throws (1: AddrFailure af)
 *   Delegation delegate(1: DelegateReq req) throws (1: DelegationFailure df)
 *   DtabRef dtab(1: DtabReq req) throws (1: DtabFailure df)
 * }
 * ```
 *
 * Each model type below is the IDL struct, union or exception of the same name (unions as
 * `{ _tag: <field name>, value }`, `binary` as `Uint8Array`, `Path` as its segments). A frame is
 * at most `maxFrame` bytes; decoding never throws: a bad frame is a `Result` failure saying what
 * was wrong.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import { TBinaryProtocol, TFramedTransport } from "thrift"
import * as C from "./ThriftCodec.js"

/**
 * A path: its segments as bytes (UTF-8 labels).
 *
 * @since 0.1.0
 * @category model
 */
export type TPath = ReadonlyArray<Uint8Array>

/** @since 0.1.0 @category model */
export interface NameRef {
  readonly stamp: Uint8Array
  readonly name: TPath
  readonly ns: string
}
/** @since 0.1.0 @category model */
export interface BindReq {
  readonly dtab: string
  readonly name: NameRef
  readonly clientId: TPath
}
/** @since 0.1.0 @category model */
export interface BoundName {
  readonly id: TPath
  readonly residual: TPath
}
/** @since 0.1.0 @category model */
export interface WeightedNodeId {
  readonly weight: number
  readonly id: number
}
/** @since 0.1.0 @category model */
export type BoundNode =
  | { readonly _tag: "neg" | "empty" | "fail"; readonly value: {} }
  | { readonly _tag: "leaf"; readonly value: BoundName }
  | { readonly _tag: "alt"; readonly value: ReadonlyArray<number> }
  | { readonly _tag: "weighted"; readonly value: ReadonlyArray<WeightedNodeId> }
/** @since 0.1.0 @category model */
export interface BoundTree {
  readonly root: BoundNode
  readonly nodes: ReadonlyMap<number, BoundNode>
}
/** @since 0.1.0 @category model */
export interface Bound {
  readonly stamp: Uint8Array
  readonly tree: BoundTree
  readonly ns: string
}
/** @since 0.1.0 @category model */
export interface BindFailure {
  readonly reason: string
  readonly retryInSeconds: number
  readonly name: NameRef
  readonly ns: string
}
/** @since 0.1.0 @category model */
export interface AddrReq {
  readonly name: NameRef
  readonly clientId: TPath
}
/** @since 0.1.0 @category model */
export interface AddrMeta {
  readonly authority?: string | undefined
  readonly nodeName?: string | undefined
  readonly endpointAddrWeight?: number | undefined
}
/** @since 0.1.0 @category model */
export interface TransportAddress {
  readonly ip: Uint8Array
  readonly port: number
  readonly meta?: AddrMeta | undefined
}
/** @since 0.1.0 @category model */
export interface BoundAddr {
  readonly addresses: ReadonlyArray<TransportAddress>
  readonly meta?: AddrMeta | undefined
}
/** @since 0.1.0 @category model */
export type AddrVal =
  | { readonly _tag: "bound"; readonly value: BoundAddr }
  | { readonly _tag: "neg"; readonly value: {} }
/** @since 0.1.0 @category model */
export interface Addr {
  readonly stamp: Uint8Array
  readonly value: AddrVal
}
/** @since 0.1.0 @category model */
export interface AddrFailure {
  readonly reason: string
  readonly retryInSeconds: number
  readonly name: NameRef
}
/** @since 0.1.0 @category model */
export type DelegateContents =
  | { readonly _tag: "error"; readonly value: string }
  | { readonly _tag: "empty" | "fail" | "neg"; readonly value: {} }
  | { readonly _tag: "delegate"; readonly value: number }
  | { readonly _tag: "boundLeaf"; readonly value: BoundName }
  | { readonly _tag: "pathLeaf"; readonly value: TPath }
  | { readonly _tag: "alt"; readonly value: ReadonlyArray<number> }
  | { readonly _tag: "weighted"; readonly value: ReadonlyArray<WeightedNodeId> }
  | { readonly _tag: "transformation"; readonly value: { readonly value: BoundName; readonly tree: number } }
/** @since 0.1.0 @category model */
export interface DelegateNode {
  readonly path: TPath
  readonly dentry: string
  readonly contents: DelegateContents
}
/** @since 0.1.0 @category model */
export interface DelegateTree {
  readonly root: DelegateNode
  readonly nodes: ReadonlyMap<number, DelegateNode>
}
/** @since 0.1.0 @category model */
export interface Delegation {
  readonly stamp: Uint8Array
  readonly tree: DelegateTree
  readonly ns: string
}
/** @since 0.1.0 @category model */
export interface DelegateReq {
  readonly dtab: string
  readonly delegation: Delegation
  readonly clientId: TPath
}
/** @since 0.1.0 @category model */
export interface DtabReq {
  readonly stamp: Uint8Array
  readonly ns: string
  readonly clientId: TPath
}
/** @since 0.1.0 @category model */
export interface DtabRef {
  readonly stamp: Uint8Array
  readonly dtab: string
}
/** @since 0.1.0 @category model */
export interface Reason {
  readonly reason: string
}

const f = C.field
const empty = () => new Uint8Array(0)
const none = () => []
const emptyString = () => ""
const zero = () => 0
const noNodes = () => new Map()

const Path = C.list(C.binary)
const NameRefCodec = C.struct<NameRef>("NameRef", [
  f(1, "stamp", C.binary, { default: empty }),
  f(2, "name", Path, { default: none }),
  f(3, "ns", C.string, { default: emptyString })
])
const BoundNameCodec = C.struct<BoundName>("BoundName", [
  f(1, "id", Path, { default: none }),
  f(2, "residual", Path, { default: none })
])
const WeightedNodeIdCodec = C.struct<WeightedNodeId>("WeightedNodeId", [
  f(1, "weight", C.double, { default: () => 1 }),
  f(2, "id", C.i32)
])
const BoundNodeCodec = C.union<BoundNode>("BoundNode", [
  f(1, "neg", C.voidStruct),
  f(2, "empty", C.voidStruct),
  f(3, "fail", C.voidStruct),
  f(4, "leaf", BoundNameCodec),
  f(5, "alt", C.list(C.i32)),
  f(6, "weighted", C.list(WeightedNodeIdCodec))
])
const BoundTreeCodec = C.struct<BoundTree>("BoundTree", [
  f(1, "root", BoundNodeCodec),
  f(2, "nodes", C.map(C.i32, BoundNodeCodec), { default: noNodes })
])
const AddrMetaCodec = C.struct<AddrMeta>("AddrMeta", [
  f(1, "authority", C.string, { optional: true }),
  f(2, "nodeName", C.string, { optional: true }),
  f(3, "endpointAddrWeight", C.double, { optional: true })
])
const TransportAddressCodec = C.struct<TransportAddress>("TransportAddress", [
  f(1, "ip", C.binary),
  f(2, "port", C.i32),
  f(3, "meta", AddrMetaCodec, { optional: true })
])
const BoundAddrCodec = C.struct<BoundAddr>("BoundAddr", [
  f(1, "addresses", C.set(TransportAddressCodec), { default: none }),
  f(2, "meta", AddrMetaCodec, { optional: true })
])
const AddrValCodec = C.union<AddrVal>("AddrVal", [f(1, "bound", BoundAddrCodec), f(2, "neg", C.voidStruct)])
const DelegateContentsCodec = C.union<DelegateContents>("DelegateContents", [
  f(1, "error", C.string),
  f(2, "empty", C.voidStruct),
  f(3, "fail", C.voidStruct),
  f(4, "neg", C.voidStruct),
  f(5, "delegate", C.i32),
  f(6, "boundLeaf", BoundNameCodec),
  f(7, "pathLeaf", Path),
  f(8, "alt", C.list(C.i32)),
  f(9, "weighted", C.list(WeightedNodeIdCodec)),
  f(
    10,
    "transformation",
    C.struct("Transformation", [f(1, "value", BoundNameCodec), f(2, "tree", C.i32)])
  )
])
const DelegateNodeCodec = C.struct<DelegateNode>("DelegateNode", [
  f(1, "path", Path, { default: none }),
  f(2, "dentry", C.string, { default: emptyString }),
  f(3, "contents", DelegateContentsCodec)
])
const DelegateTreeCodec = C.struct<DelegateTree>("DelegateTree", [
  f(1, "root", DelegateNodeCodec),
  f(2, "nodes", C.map(C.i32, DelegateNodeCodec), { default: noNodes })
])
const DelegationCodec = C.struct<Delegation>("Delegation", [
  f(1, "stamp", C.binary, { default: empty }),
  f(2, "tree", DelegateTreeCodec),
  f(3, "ns", C.string, { default: emptyString })
])
const reason = (name: string) => C.struct<Reason>(name, [f(1, "reason", C.string, { default: emptyString })])

/**
 * The `Namer` service: each method's request, reply and declared exception.
 *
 * @since 0.1.0
 * @category model
 */
export const methods = {
  bind: {
    request: C.struct<BindReq>("BindReq", [
      f(1, "dtab", C.string, { default: emptyString }),
      f(2, "name", NameRefCodec),
      f(3, "clientId", Path, { default: none })
    ]),
    reply: C.struct<Bound>("Bound", [
      f(1, "stamp", C.binary, { default: empty }),
      f(2, "tree", BoundTreeCodec),
      f(3, "ns", C.string, { default: emptyString })
    ]),
    failure: C.struct<BindFailure>("BindFailure", [
      f(1, "reason", C.string, { default: emptyString }),
      f(2, "retryInSeconds", C.i32, { default: zero }),
      f(3, "name", NameRefCodec),
      f(4, "ns", C.string, { default: emptyString })
    ])
  },
  addr: {
    request: C.struct<AddrReq>("AddrReq", [
      f(1, "name", NameRefCodec),
      f(2, "clientId", Path, { default: none })
    ]),
    reply: C.struct<Addr>("Addr", [f(1, "stamp", C.binary, { default: empty }), f(2, "value", AddrValCodec)]),
    failure: C.struct<AddrFailure>("AddrFailure", [
      f(1, "reason", C.string, { default: emptyString }),
      f(2, "retryInSeconds", C.i32, { default: zero }),
      f(3, "name", NameRefCodec)
    ])
  },
  delegate: {
    request: C.struct<DelegateReq>("DelegateReq", [
      f(1, "dtab", C.string, { default: emptyString }),
      f(2, "delegation", DelegationCodec),
      f(3, "clientId", Path, { default: none })
    ]),
    reply: DelegationCodec,
    failure: reason("DelegationFailure")
  },
  dtab: {
    request: C.struct<DtabReq>("DtabReq", [
      f(1, "stamp", C.binary, { default: empty }),
      f(2, "ns", C.string, { default: emptyString }),
      f(3, "clientId", Path, { default: none })
    ]),
    reply: C.struct<DtabRef>("DtabRef", [
      f(1, "stamp", C.binary, { default: empty }),
      f(2, "dtab", C.string, { default: emptyString })
    ]),
    failure: reason("DtabFailure")
  }
} as const

/**
 * A method name of the `Namer` service.
 *
 * @since 0.1.0
 * @category model
 */
export type Method = keyof typeof methods

type Req<M extends Method> = (typeof methods)[M]["request"] extends C.Codec<infer A> ? A : never
type Rep<M extends Method> = (typeof methods)[M]["reply"] extends C.Codec<infer A> ? A : never
type Fail<M extends Method> = (typeof methods)[M]["failure"] extends C.Codec<infer A> ? A : never

/**
 * The answer to a call: the reply, the method's declared exception, or a Thrift application
 * exception (an unknown method, an unreadable request).
 *
 * @since 0.1.0
 * @category model
 */
export type Reply<M extends Method> =
  | { readonly _tag: "Success"; readonly value: Rep<M> }
  | { readonly _tag: "Failure"; readonly value: Fail<M> }
  | { readonly _tag: "ApplicationException"; readonly message: string; readonly code: number }

/**
 * The answer to a call of any method.
 *
 * @since 0.1.0
 * @category model
 */
export type AnyReply = { readonly [M in Method]: Reply<M> }[Method]

/**
 * Largest frame accepted or sent: 16 MB, Thrift's usual `maxFrameSize`.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxFrame = 16_384_000

const MessageType = { CALL: 1, REPLY: 2, EXCEPTION: 3, ONEWAY: 4 } as const

/**
 * Thrift's `TApplicationException` codes used here.
 *
 * @since 0.1.0
 * @category constants
 */
export const ApplicationError = {
  UNKNOWN_METHOD: 1,
  INVALID_MESSAGE_TYPE: 2,
  INTERNAL_ERROR: 6,
  PROTOCOL_ERROR: 7
} as const

const ApplicationExceptionCodec = C.struct<{ readonly message: string; readonly type: number }>(
  "TApplicationException",
  [f(1, "message", C.string, { default: emptyString }), f(2, "type", C.i32, { default: zero })]
)

const isMethod = (name: string): name is Method => Object.prototype.hasOwnProperty.call(methods, name)

const encode = (write: (p: TBinaryProtocol) => void): Buffer => {
  let out: Buffer | undefined
  const transport = new TFramedTransport(undefined, (msg?: Buffer) => {
    out = msg
  })
  const p = new TBinaryProtocol(transport)
  write(p)
  p.flush()
  if (out === undefined || out.length - 4 > maxFrame) throw new C.ThriftCodecError("message larger than a frame")
  return out
}

const payload = <A>(codec: C.Codec<A>, id: number, value: A) => (p: TBinaryProtocol) => {
  p.writeStructBegin("payload")
  p.writeFieldBegin("value", codec.type as never, id)
  codec.write(p, value)
  p.writeFieldEnd()
  p.writeFieldStop()
  p.writeStructEnd()
}

/**
 * A call of `method` as one frame (length prefix included).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeCall = <M extends Method>(method: M, seqid: number, request: Req<M>): Buffer =>
  encode((p) => {
    p.writeMessageBegin(method, MessageType.CALL as never, seqid)
    payload(methods[method].request as unknown as C.Codec<Req<M>>, 1, request)(p)
    p.writeMessageEnd()
  })

/**
 * The answer to a call as one frame: a reply (result field 0), the declared exception (field 1),
 * or an application exception.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeReply = <M extends Method>(method: M, seqid: number, reply: Reply<M>): Buffer =>
  encode((p) => {
    if (reply._tag === "ApplicationException") {
      p.writeMessageBegin(method, MessageType.EXCEPTION as never, seqid)
      ApplicationExceptionCodec.write(p, { message: reply.message, type: reply.code })
    } else {
      p.writeMessageBegin(method, MessageType.REPLY as never, seqid)
      if (reply._tag === "Success") payload(methods[method].reply as unknown as C.Codec<Rep<M>>, 0, reply.value)(p)
      else payload(methods[method].failure as unknown as C.Codec<Fail<M>>, 1, reply.value)(p)
    }
    p.writeMessageEnd()
  })

/**
 * An application exception for a call whose method may be unknown.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeApplicationException = (name: string, seqid: number, code: number, message: string): Buffer =>
  encode((p) => {
    p.writeMessageBegin(name, MessageType.EXCEPTION as never, seqid)
    ApplicationExceptionCodec.write(p, { message, type: code })
    p.writeMessageEnd()
  })

const describe = (e: unknown): string =>
  e instanceof C.ThriftCodecError ? e.message : e instanceof Error
    ? (e.name === "InputBufferUnderrunError" ? "the frame ends in the middle of a value" : e.message)
    : String(e)

const readPayload = (p: TBinaryProtocol, codecs: ReadonlyMap<number, C.Codec<unknown>>) => {
  let found: { readonly id: number; readonly value: unknown } | undefined
  p.readStructBegin()
  for (;;) {
    const { fid, ftype } = p.readFieldBegin()
    if (ftype === C.TType.STOP) break
    const codec = codecs.get(fid)
    if (codec === undefined || codec.type !== ftype) p.skip(ftype)
    else found = { id: fid, value: codec.read(p, 1) }
    p.readFieldEnd()
  }
  p.readStructEnd()
  return found
}

/**
 * A call read from a frame (without its length prefix).
 *
 * @since 0.1.0
 * @category decoding
 */
export type Call =
  | { readonly [M in Method]: { readonly method: M; readonly seqid: number; readonly request: Req<M> } }[Method]
  | { readonly method: string; readonly seqid: number; readonly error: string; readonly code: number }

/**
 * Reads a call. An unknown method or an unreadable request is a `Call` with an `error` (to answer
 * with an application exception); a frame without a readable message header is a failure.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeCall = (frame: Buffer): Result.Result<Call, string> => {
  const p = new TBinaryProtocol(new TFramedTransport(frame))
  let header: { readonly fname: string; readonly mtype: number; readonly rseqid: number }
  try {
    header = p.readMessageBegin()
  } catch (e) {
    return Result.fail(`not a Thrift binary message: ${describe(e)}`)
  }
  const method = String(header.fname)
  const seqid = header.rseqid
  if (header.mtype !== MessageType.CALL && header.mtype !== MessageType.ONEWAY) {
    return Result.succeed({
      method,
      seqid,
      code: ApplicationError.INVALID_MESSAGE_TYPE,
      error: `expected a call, got message type ${header.mtype}`
    })
  }
  if (!isMethod(method)) {
    return Result.succeed({ method, seqid, code: ApplicationError.UNKNOWN_METHOD, error: `unknown method ${method}` })
  }
  try {
    const found = readPayload(p, new Map([[1, methods[method].request as unknown as C.Codec<unknown>]]))
    if (found === undefined) throw new C.ThriftCodecError(`${method}: the request (field 1) is missing`)
    return Result.succeed({ method, seqid, request: found.value } as Call)
  } catch (e) {
    return Result.succeed({ method, seqid, code: ApplicationError.PROTOCOL_ERROR, error: describe(e) })
  }
}

/**
 * Reads the answer to a call of `method` (`seqid` and the message header are checked).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeReply = <M extends Method>(
  method: M,
  seqid: number,
  frame: Buffer
): Result.Result<Reply<M>, string> => {
  try {
    const p = new TBinaryProtocol(new TFramedTransport(frame))
    const header = p.readMessageBegin()
    if (header.rseqid !== seqid) return Result.fail(`answered sequence id ${header.rseqid}, expected ${seqid}`)
    if (String(header.fname) !== method) return Result.fail(`answered method ${header.fname}, expected ${method}`)
    if (header.mtype === MessageType.EXCEPTION) {
      const e = ApplicationExceptionCodec.read(p, 1)
      return Result.succeed({ _tag: "ApplicationException", message: e.message, code: e.type })
    }
    if (header.mtype !== MessageType.REPLY) return Result.fail(`answered message type ${header.mtype}`)
    const found = readPayload(
      p,
      new Map([[0, methods[method].reply as C.Codec<unknown>], [1, methods[method].failure as C.Codec<unknown>]])
    )
    if (found === undefined) return Result.fail(`${method}: the reply has neither a result nor an exception`)
    return Result.succeed(
      (found.id === 0 ? { _tag: "Success", value: found.value } : { _tag: "Failure", value: found.value }) as Reply<M>
    )
  } catch (e) {
    return Result.fail(describe(e))
  }
}

/**
 * Splits a byte stream into frames (4-byte big-endian length, then the message).
 *
 * @since 0.1.0
 * @category decoding
 */
export class FrameReader {
  private chunks: Array<Buffer> = []
  private size = 0
  /** Adds `chunk`; returns the complete frames, or fails when a frame is larger than `maxFrame`. */
  push(chunk: Buffer): Result.Result<Array<Buffer>, string> {
    this.chunks.push(chunk)
    this.size += chunk.length
    const frames: Array<Buffer> = []
    while (this.size >= 4) {
      const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size)
      this.chunks = [buf]
      const length = buf.readInt32BE(0)
      if (length < 0 || length > maxFrame) {
        return Result.fail(`a frame of ${length} bytes (at most ${maxFrame}; is the peer speaking framed Thrift?)`)
      }
      if (this.size < 4 + length) break
      frames.push(buf.subarray(4, 4 + length))
      const rest = buf.subarray(4 + length)
      this.chunks = rest.length > 0 ? [rest] : []
      this.size = rest.length
    }
    return Result.succeed(frames)
  }
}
