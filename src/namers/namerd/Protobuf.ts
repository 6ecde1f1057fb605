/**
 * The protocol buffers wire format, as much of it as namerd's mesh API needs, and gRPC's message
 * framing. Written by hand so the proxy carries no protobuf runtime: a `Writer` appends tagged
 * fields (varints, 64-bit doubles, length-delimited bytes and nested messages), a `Reader` walks
 * the fields of one message, skipping the ones it does not know as protobuf requires.
 *
 * Readers are strict and bounded: a truncated varint or length, a length past the end, a wire type
 * that is not 0, 1, 2 or 5, nesting deeper than `maxDepth` — each is a `ProtobufError` naming the
 * problem, never a crash or an unbounded allocation. gRPC frames (`Deframer`) are bounded by
 * `maxMessageBytes` and compressed frames are refused (weir never advertises a compression).
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * A message could not be read.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProtobufError extends Data.TaggedError("ProtobufError")<{ readonly detail: string }> {
  override get message(): string {
    return this.detail
  }
}

/**
 * How deep messages may nest: `200` levels.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxDepth = 200

/**
 * The largest gRPC message accepted: 4 MiB, gRPC's own default.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxMessageBytes = 4 << 20

/**
 * Wire types.
 *
 * @since 0.1.0
 * @category constants
 */
export const WireType = { Varint: 0, Fixed64: 1, Bytes: 2, Fixed32: 5 } as const

const fail = (detail: string): never => {
  throw new ProtobufError({ detail })
}

/**
 * Appends fields to a message.
 *
 * @since 0.1.0
 * @category encoding
 */
export class Writer {
  private readonly chunks: Array<Uint8Array> = []
  private size = 0

  private push(chunk: Uint8Array): this {
    this.chunks.push(chunk)
    this.size += chunk.length
    return this
  }

  private varintRaw(n: number): this {
    const out: Array<number> = []
    let v = n
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80)
      v = Math.floor(v / 0x80)
    }
    out.push(v)
    return this.push(Uint8Array.from(out))
  }

  private tag(field: number, wire: number): this {
    return this.varintRaw(field * 8 + wire)
  }

  /** A non-negative integer field (negative `int32`s are written as ten-byte varints, as protobuf does). */
  varint(field: number, n: number): this {
    if (n < 0) {
      const bytes = new Uint8Array(10)
      let v = BigInt.asUintN(64, BigInt(Math.trunc(n)))
      for (let i = 0; i < 10; i++) {
        bytes[i] = Number(v & 0x7fn) | (i < 9 ? 0x80 : 0)
        v >>= 7n
      }
      return this.tag(field, WireType.Varint).push(bytes)
    }
    return this.tag(field, WireType.Varint).varintRaw(Math.trunc(n))
  }

  /** A `double` field. */
  double(field: number, x: number): this {
    const b = Buffer.alloc(8)
    b.writeDoubleLE(x)
    return this.tag(field, WireType.Fixed64).push(b)
  }

  /** A `bytes` field. */
  bytes(field: number, b: Uint8Array): this {
    return this.tag(field, WireType.Bytes).varintRaw(b.length).push(b)
  }

  /** A `string` field (UTF-8). */
  string(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, "utf8"))
  }

  /** A nested message field, written by `f` (an empty message is still written: it marks a oneof). */
  message(field: number, f: (w: Writer) => void): this {
    const inner = new Writer()
    f(inner)
    return this.bytes(field, inner.finish())
  }

  /** The message's bytes. */
  finish(): Uint8Array {
    return Buffer.concat(this.chunks, this.size)
  }
}

/**
 * Encodes a message with `f`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (f: (w: Writer) => void): Uint8Array => {
  const w = new Writer()
  f(w)
  return w.finish()
}

/**
 * One field as read: its number, wire type and value (a number for varints and fixed fields — a
 * `double` for `Fixed64` — or the bytes of a length-delimited field).
 *
 * @since 0.1.0
 * @category decoding
 */
export type Field =
  | { readonly field: number; readonly wire: 0; readonly value: number }
  | { readonly field: number; readonly wire: 1; readonly value: number }
  | { readonly field: number; readonly wire: 2; readonly value: Uint8Array }
  | { readonly field: number; readonly wire: 5; readonly value: number }

/**
 * Reads the fields of one message in order. Throws `ProtobufError` on malformed input; callers
 * turn it into a `Result` at their boundary (`decode`).
 *
 * @since 0.1.0
 * @category decoding
 */
export class Reader {
  private pos = 0
  constructor(private readonly buf: Uint8Array, readonly depth = 0) {
    if (depth > maxDepth) fail(`messages nested deeper than ${maxDepth}`)
  }

  private varintRaw(): number {
    let result = 0
    let scale = 1
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) return fail("truncated varint")
      const b = this.buf[this.pos++]!
      if (i < 8) result += (b & 0x7f) * scale
      scale *= 0x80
      if ((b & 0x80) === 0) return result
    }
    return fail("varint longer than 10 bytes")
  }

  /** The next field, or `undefined` at the end of the message. */
  next(): Field | undefined {
    if (this.pos >= this.buf.length) return undefined
    const key = this.varintRaw()
    const field = Math.floor(key / 8)
    const wire = key % 8
    if (field < 1 || field > 536_870_911) fail(`invalid field number ${field}`)
    switch (wire) {
      case WireType.Varint:
        return { field, wire, value: this.varintRaw() }
      case WireType.Fixed64: {
        if (this.pos + 8 > this.buf.length) fail("truncated 64-bit field")
        const value = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, 8).readDoubleLE(0)
        this.pos += 8
        return { field, wire, value }
      }
      case WireType.Bytes: {
        const len = this.varintRaw()
        if (len > this.buf.length - this.pos) fail(`field ${field} is longer (${len} bytes) than what remains`)
        const value = this.buf.subarray(this.pos, this.pos + len)
        this.pos += len
        return { field, wire, value }
      }
      case WireType.Fixed32: {
        if (this.pos + 4 > this.buf.length) fail("truncated 32-bit field")
        const value = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, 4).readUInt32LE(0)
        this.pos += 4
        return { field, wire, value }
      }
      default:
        return fail(`unsupported wire type ${wire} (field ${field})`)
    }
  }

  /** A reader over a nested message's bytes, one level deeper. */
  nested(bytes: Uint8Array): Reader {
    return new Reader(bytes, this.depth + 1)
  }
}

/**
 * The bytes of a length-delimited field; anything else is an error naming `what`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const bytesOf = (f: Field, what: string): Uint8Array =>
  f.wire === WireType.Bytes ? f.value : fail(`${what}: expected a length-delimited field, got wire type ${f.wire}`)

/**
 * The number of a varint field; anything else is an error naming `what`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const varintOf = (f: Field, what: string): number =>
  f.wire === WireType.Varint ? f.value : fail(`${what}: expected a varint field, got wire type ${f.wire}`)

/**
 * The value of a `double` field; anything else is an error naming `what`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const doubleOf = (f: Field, what: string): number =>
  f.wire === WireType.Fixed64 ? f.value : fail(`${what}: expected a double field, got wire type ${f.wire}`)

/**
 * A UTF-8 string field; invalid UTF-8 is an error naming `what`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const stringOf = (f: Field, what: string): string => {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytesOf(f, what))
  } catch (e) {
    if (e instanceof ProtobufError) throw e
    return fail(`${what}: invalid UTF-8`)
  }
}

/**
 * Throws a `ProtobufError` (for message readers built on `Reader`).
 *
 * @since 0.1.0
 * @category decoding
 */
export const invalid: (detail: string) => never = fail

/**
 * Frames one message as gRPC does: a zero compression flag, a four-byte big-endian length, the bytes.
 *
 * @since 0.1.0
 * @category grpc
 */
export const frame = (message: Uint8Array): Buffer => {
  const head = Buffer.alloc(5)
  head.writeUInt32BE(message.length, 1)
  return Buffer.concat([head, message])
}

/**
 * Splits a gRPC byte stream into messages as chunks arrive.
 *
 * @since 0.1.0
 * @category grpc
 */
export class Deframer {
  private buffer: Buffer = Buffer.alloc(0)
  constructor(private readonly maxBytes = maxMessageBytes) {}

  /** Adds a chunk; returns the messages it completes. Throws `ProtobufError` on a frame it refuses. */
  push(chunk: Uint8Array): Array<Uint8Array> {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk])
    const out: Array<Uint8Array> = []
    while (this.buffer.length >= 5) {
      const flag = this.buffer[0]!
      if (flag !== 0) fail(flag === 1 ? "a compressed gRPC message (no compression was offered)" : "invalid gRPC frame")
      const len = this.buffer.readUInt32BE(1)
      if (len > this.maxBytes) fail(`a gRPC message of ${len} bytes (the limit is ${this.maxBytes})`)
      if (this.buffer.length < 5 + len) break
      out.push(this.buffer.subarray(5, 5 + len))
      this.buffer = this.buffer.subarray(5 + len)
    }
    return out
  }

  /** Bytes of an incomplete message still held. */
  get pending(): number {
    return this.buffer.length
  }
}
