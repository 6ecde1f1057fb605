/**
 * A small combinator library for Thrift structs over Apache Thrift's `TProtocol` (the npm `thrift`
 * package): each codec knows its wire type, how to read a value and how to write it. namerd's
 * IDL (`ThriftWire.ts`) is written with it instead of generated code, since no Thrift compiler is
 * needed for a dozen structs.
 *
 * Reading is strict and bounded: a container larger than `maxItems` or with a negative size, a
 * string that is not UTF-8, a union with no or several fields set, a required field missing, or
 * structs nested deeper than `maxDepth` is a `ThriftCodecError`; a length past the end of the frame
 * is the library's underrun error, which `decode` reports the same way. Unknown fields and fields
 * of an unexpected type are skipped, as generated code does.
 *
 * @since 0.1.0
 */
import type { TProtocol } from "thrift"

/**
 * Thrift's wire types (`TType`).
 *
 * @since 0.1.0
 * @category constants
 */
export const TType = {
  STOP: 0,
  BOOL: 2,
  BYTE: 3,
  DOUBLE: 4,
  I16: 6,
  I32: 8,
  I64: 10,
  STRING: 11,
  STRUCT: 12,
  MAP: 13,
  SET: 14,
  LIST: 15
} as const

/**
 * Largest number of elements a list, set or map may declare.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxItems = 100_000

/**
 * Deepest nesting of structs accepted.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxDepth = 32

/**
 * A value could not be read (or written): what and where.
 *
 * @since 0.1.0
 * @category errors
 */
export class ThriftCodecError extends Error {
  override readonly name = "ThriftCodecError"
}

/**
 * How one IDL type is read and written.
 *
 * @since 0.1.0
 * @category model
 */
export interface Codec<A> {
  /** The wire type (`TType`). */
  readonly type: number
  readonly name: string
  readonly read: (p: TProtocol, depth: number) => A
  readonly write: (p: TProtocol, a: A) => void
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

/**
 * `binary`: bytes.
 *
 * @since 0.1.0
 * @category codecs
 */
export const binary: Codec<Uint8Array> = {
  type: TType.STRING,
  name: "binary",
  read: (p) => new Uint8Array(p.readBinary()),
  write: (p, a) => p.writeBinary(Buffer.from(a.buffer, a.byteOffset, a.byteLength))
}

/**
 * `string`: UTF-8 text.
 *
 * @since 0.1.0
 * @category codecs
 */
export const string: Codec<string> = {
  type: TType.STRING,
  name: "string",
  read: (p) => {
    const bytes = p.readBinary()
    try {
      return utf8.decode(bytes)
    } catch {
      throw new ThriftCodecError("a string is not valid UTF-8")
    }
  },
  write: (p, a) => p.writeString(a)
}

/**
 * `i32`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const i32: Codec<number> = {
  type: TType.I32,
  name: "i32",
  read: (p) => p.readI32(),
  write: (p, a) => p.writeI32(a)
}

/**
 * `double`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const double: Codec<number> = {
  type: TType.DOUBLE,
  name: "double",
  read: (p) => p.readDouble(),
  write: (p, a) => p.writeDouble(a)
}

const checkSize = (what: string, size: number) => {
  if (size < 0) throw new ThriftCodecError(`${what} with a negative size (${size})`)
  if (size > maxItems) throw new ThriftCodecError(`${what} of ${size} elements (at most ${maxItems})`)
}

const checkElement = (what: string, got: number, want: number) => {
  if (got !== want) throw new ThriftCodecError(`${what} of element type ${got}, expected ${want}`)
}

/**
 * `list<A>`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const list = <A>(item: Codec<A>): Codec<ReadonlyArray<A>> => ({
  type: TType.LIST,
  name: `list<${item.name}>`,
  read: (p, depth) => {
    const { etype, size } = p.readListBegin()
    checkSize(`list<${item.name}>`, size)
    if (size > 0) checkElement(`list<${item.name}>`, etype, item.type)
    const out: Array<A> = []
    for (let i = 0; i < size; i++) out.push(item.read(p, depth))
    p.readListEnd()
    return out
  },
  write: (p, a) => {
    p.writeListBegin(item.type as never, a.length)
    for (const x of a) item.write(p, x)
    p.writeListEnd()
  }
})

/**
 * `set<A>`, read as an array (duplicates are kept as sent).
 *
 * @since 0.1.0
 * @category codecs
 */
export const set = <A>(item: Codec<A>): Codec<ReadonlyArray<A>> => ({
  type: TType.SET,
  name: `set<${item.name}>`,
  read: (p, depth) => {
    const { etype, size } = p.readSetBegin()
    checkSize(`set<${item.name}>`, size)
    if (size > 0) checkElement(`set<${item.name}>`, etype, item.type)
    const out: Array<A> = []
    for (let i = 0; i < size; i++) out.push(item.read(p, depth))
    p.readSetEnd()
    return out
  },
  write: (p, a) => {
    p.writeSetBegin(item.type as never, a.length)
    for (const x of a) item.write(p, x)
    p.writeSetEnd()
  }
})

/**
 * `map<K, V>`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const map = <K, V>(key: Codec<K>, value: Codec<V>): Codec<ReadonlyMap<K, V>> => {
  const name = `map<${key.name}, ${value.name}>`
  return {
    type: TType.MAP,
    name,
    read: (p, depth) => {
      const { ktype, size, vtype } = p.readMapBegin()
      checkSize(name, size)
      if (size > 0) {
        checkElement(`${name} key`, ktype, key.type)
        checkElement(`${name} value`, vtype, value.type)
      }
      const out = new Map<K, V>()
      for (let i = 0; i < size; i++) {
        const k = key.read(p, depth)
        out.set(k, value.read(p, depth))
      }
      p.readMapEnd()
      return out
    },
    write: (p, a) => {
      p.writeMapBegin(key.type as never, value.type as never, a.size)
      for (const [k, v] of a) {
        key.write(p, k)
        value.write(p, v)
      }
      p.writeMapEnd()
    }
  }
}

/**
 * One field of a struct: its id, the property it fills, its codec; `optional` fields may be
 * absent (and are not written when `undefined`); a missing non-optional field takes `default`, or
 * is an error without one.
 *
 * @since 0.1.0
 * @category model
 */
export interface Field {
  readonly id: number
  readonly key: string
  readonly codec: Codec<any>
  readonly optional?: boolean
  readonly default?: () => unknown
}

/**
 * A field (see `Field`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const field = <A>(
  id: number,
  key: string,
  codec: Codec<A>,
  options?: { readonly optional?: boolean; readonly default?: () => A }
): Field => ({ id, key, codec, ...options })

const readFields = (p: TProtocol, depth: number, name: string, fields: ReadonlyArray<Field>) => {
  if (depth > maxDepth) throw new ThriftCodecError(`structs nested deeper than ${maxDepth}`)
  const byId = new Map(fields.map((f) => [f.id, f]))
  const out: Record<string, unknown> = {}
  p.readStructBegin()
  for (;;) {
    const { fid, ftype } = p.readFieldBegin()
    if (ftype === TType.STOP) break
    const f = byId.get(fid)
    if (f === undefined || f.codec.type !== ftype) p.skip(ftype as never)
    else {
      try {
        out[f.key] = f.codec.read(p, depth + 1)
      } catch (e) {
        if (e instanceof ThriftCodecError) throw new ThriftCodecError(`${name}.${f.key}: ${e.message}`)
        throw e
      }
    }
    p.readFieldEnd()
  }
  p.readStructEnd()
  return out
}

/**
 * A struct (or exception) of `fields`, read into an object with the fields' keys.
 *
 * @since 0.1.0
 * @category codecs
 */
export const struct = <A extends object>(name: string, fields: ReadonlyArray<Field>): Codec<A> => ({
  type: TType.STRUCT,
  name,
  read: (p, depth) => {
    const out = readFields(p, depth, name, fields)
    for (const f of fields) {
      if (out[f.key] !== undefined || f.optional) continue
      if (f.default === undefined) throw new ThriftCodecError(`${name}.${f.key} (field ${f.id}) is missing`)
      out[f.key] = f.default()
    }
    return out as A
  },
  write: (p, a) => {
    p.writeStructBegin(name)
    const record = a as Record<string, unknown>
    for (const f of fields) {
      const v = record[f.key]
      if (v === undefined) continue
      p.writeFieldBegin(f.key, f.codec.type as never, f.id)
      f.codec.write(p, v)
      p.writeFieldEnd()
    }
    p.writeFieldStop()
    p.writeStructEnd()
  }
})

/**
 * A union: exactly one field set, read as `{ _tag: <field key>, value }`.
 *
 * @since 0.1.0
 * @category codecs
 */
export const union = <A extends { readonly _tag: string; readonly value: unknown }>(
  name: string,
  fields: ReadonlyArray<Field>
): Codec<A> => ({
  type: TType.STRUCT,
  name,
  read: (p, depth) => {
    const out = Object.entries(readFields(p, depth, name, fields))
    if (out.length !== 1) {
      throw new ThriftCodecError(`${name}: a union needs exactly one known field set, got ${out.length}`)
    }
    const [[tag, value]] = out as [[string, unknown]]
    return { _tag: tag, value } as A
  },
  write: (p, a) => {
    const f = fields.find((f) => f.key === a._tag)
    if (f === undefined) throw new ThriftCodecError(`${name}: unknown variant ${a._tag}`)
    p.writeStructBegin(name)
    p.writeFieldBegin(f.key, f.codec.type as never, f.id)
    f.codec.write(p, a.value)
    p.writeFieldEnd()
    p.writeFieldStop()
    p.writeStructEnd()
  }
})

/**
 * The empty struct (the IDL's `Void`).
 *
 * @since 0.1.0
 * @category codecs
 */
export const voidStruct: Codec<{}> = struct<{}>("Void", [])
