/**
 * The chunked transfer coding (RFC 9112 §7.1): an incremental decoder that checks every chunk line
 * against the grammar — a hex size, then extensions `;name[=token|"quoted"]` with optional
 * whitespace only around `;` and `=` — and every trailer line to be a header field, dropping both
 * (weir re-chunks what it forwards); and the two pieces of chunked writing. Errors are the codec's
 * {@link ParseError}s.
 *
 * @since 0.1.0
 */
import { ParseError } from "./Codec.js"

const CR = 13
const LF = 10

const enum Chunk {
  Size,
  SizeLF,
  Data,
  DataCR,
  DataLF,
  Trailer,
  TrailerLF,
  Done
}

/** Where a chunk line is, after its size (RFC 9112 §7.1.1 chunk-ext, BWS only around ";" and "="). */
const enum Ext {
  /** in the size digits */
  Digits,
  /** whitespace after the size: only ";" may follow */
  SizeSpace,
  /** whitespace after an extension: only ";" may follow */
  ExtSpace,
  /** after ";": whitespace, then a name */
  Semi,
  /** in a name */
  Name,
  /** whitespace after a name: "=" or ";" */
  NameSpace,
  /** after "=": whitespace, then a token or a quoted string */
  Equals,
  /** in a token value */
  Token,
  /** in a quoted string */
  Quoted,
  /** after a backslash in a quoted string */
  QuotedPair,
  /** after the closing quote */
  Unquoted
}

/** tchar (RFC 9110 §5.6.2) by byte */
const tchar = new Uint8Array(256)
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  tchar[c.charCodeAt(0)] = 1
}

const isControl = (c: number): boolean => (c < 32 && c !== 9) || c === 127

/** longest chunk-size line accepted (hex digits plus extensions) */
const maxSizeLine = 4096
/** longest trailer section accepted */
const maxTrailer = 16 * 1024

/**
 * An incremental decoder of a chunked body. {@link Decoder.push} takes the next bytes from the
 * connection and hands each piece of data to `onData`; it returns how many bytes belonged to the
 * body (the rest is the next message) or a `ParseError`. Chunk extensions are checked against the
 * RFC 9112 §7.1.1 grammar and dropped; trailers are checked to be header fields and dropped.
 *
 * @since 0.1.0
 * @category decoding
 */
export class Decoder {
  private state = Chunk.Size
  private size = 0
  private digits = 0
  private ext = Ext.Digits
  private lineBytes = 0
  private trailerBytes = 0
  /** in the current trailer line: 0 nothing yet, 1 in the name, 2 in the value */
  private trailerPart = 0

  constructor(private readonly onData: (chunk: Buffer) => void) {}

  /** Whether the terminating chunk and trailers have been read. */
  get done(): boolean {
    return this.state === Chunk.Done
  }

  push(buf: Buffer, from = 0): number | ParseError {
    let i = from
    const n = buf.length
    while (i < n && this.state !== Chunk.Done) {
      switch (this.state) {
        case Chunk.Size: {
          const c = buf[i]!
          i++
          if (++this.lineBytes > maxSizeLine) return new ParseError(400, "chunk size line too long")
          const e = this.sizeByte(c)
          if (e !== undefined) return e
          break
        }
        case Chunk.SizeLF: {
          if (buf[i] !== LF) return new ParseError(400, "expected LF after chunk size")
          i++
          this.digits = 0
          this.ext = Ext.Digits
          this.lineBytes = 0
          if (this.size === 0) {
            this.state = Chunk.Trailer
            this.trailerPart = 0
          } else this.state = Chunk.Data
          break
        }
        case Chunk.Data: {
          const take = Math.min(this.size, n - i)
          this.onData(i === 0 && take === n ? buf : buf.subarray(i, i + take))
          i += take
          this.size -= take
          if (this.size === 0) this.state = Chunk.DataCR
          break
        }
        case Chunk.DataCR: {
          if (buf[i] !== CR) return new ParseError(400, "expected CRLF after chunk data")
          i++
          this.state = Chunk.DataLF
          break
        }
        case Chunk.DataLF: {
          if (buf[i] !== LF) return new ParseError(400, "expected CRLF after chunk data")
          i++
          this.state = Chunk.Size
          break
        }
        case Chunk.Trailer: {
          const c = buf[i]!
          i++
          if (++this.trailerBytes > maxTrailer) return new ParseError(431, "trailer section too large")
          const e = this.trailerByte(c)
          if (e !== undefined) return e
          break
        }
        case Chunk.TrailerLF: {
          if (buf[i] !== LF) return new ParseError(400, "bare CR in trailers")
          i++
          if (this.trailerPart === 0) this.state = Chunk.Done
          else {
            this.trailerPart = 0
            this.state = Chunk.Trailer
          }
          break
        }
      }
    }
    return i - from
  }

  /** One byte of a chunk-size line. */
  private sizeByte(c: number): ParseError | undefined {
    const ext = this.ext
    const ws = c === 32 || c === 9
    if (c === CR) {
      if (ext === Ext.Digits) {
        if (this.digits === 0) return new ParseError(400, "missing chunk size")
      } else if (ext !== Ext.Name && ext !== Ext.Token && ext !== Ext.Unquoted) {
        return new ParseError(
          400,
          ext === Ext.Quoted || ext === Ext.QuotedPair
            ? "unterminated quoted string in a chunk extension"
            : "chunk line ends in whitespace or an incomplete extension"
        )
      }
      this.state = Chunk.SizeLF
      return undefined
    }
    switch (ext) {
      case Ext.Digits: {
        if (c === 59 /* ; */ || ws) {
          if (this.digits === 0) return new ParseError(400, "missing chunk size")
          this.ext = ws ? Ext.SizeSpace : Ext.Semi
          return undefined
        }
        const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1
        if (d < 0) return new ParseError(400, "invalid chunk size")
        if (++this.digits > 13) return new ParseError(400, "chunk size too large")
        this.size = this.size * 16 + d
        return undefined
      }
      case Ext.SizeSpace:
      case Ext.ExtSpace:
        if (ws) return undefined
        if (c === 59) {
          this.ext = Ext.Semi
          return undefined
        }
        // "1 0": a size split by whitespace, which another parser may read as 0x10
        return new ParseError(400, ext === Ext.SizeSpace ? "invalid chunk size" : invalidExt(c))
      case Ext.Semi:
        if (ws) return undefined
        if (tchar[c] === 1) {
          this.ext = Ext.Name
          return undefined
        }
        return new ParseError(400, invalidExt(c))
      case Ext.Name:
        if (tchar[c] === 1) return undefined
        return this.afterItem(c, ws, Ext.NameSpace, true)
      case Ext.NameSpace:
        if (ws) return undefined
        return this.afterItem(c, false, Ext.NameSpace, true)
      case Ext.Equals:
        if (ws) return undefined
        if (tchar[c] === 1) this.ext = Ext.Token
        else if (c === 34 /* " */) this.ext = Ext.Quoted
        else return new ParseError(400, invalidExt(c))
        return undefined
      case Ext.Token:
        if (tchar[c] === 1) return undefined
        return this.afterItem(c, ws, Ext.ExtSpace, false)
      case Ext.Quoted:
        if (c === 34) this.ext = Ext.Unquoted
        else if (c === 92 /* \ */) this.ext = Ext.QuotedPair
        else if (isControl(c)) return new ParseError(400, invalidExt(c))
        return undefined
      case Ext.QuotedPair:
        if (isControl(c)) return new ParseError(400, invalidExt(c))
        this.ext = Ext.Quoted
        return undefined
      case Ext.Unquoted:
        return this.afterItem(c, ws, Ext.ExtSpace, false)
    }
  }

  /** After a name or a value: whitespace (to `space`), ";", or (after a name) "=". */
  private afterItem(c: number, ws: boolean, space: Ext, equalsAllowed: boolean): ParseError | undefined {
    if (ws) this.ext = space
    else if (c === 59) this.ext = Ext.Semi
    else if (c === 61 /* = */ && equalsAllowed) this.ext = Ext.Equals
    else return new ParseError(400, invalidExt(c))
    return undefined
  }

  /** One byte of the trailer section: each line a header field (name, colon, value without controls). */
  private trailerByte(c: number): ParseError | undefined {
    if (c === CR) {
      if (this.trailerPart === 1) return new ParseError(400, "trailer line without a colon")
      this.state = Chunk.TrailerLF
      return undefined
    }
    if (c === LF) return new ParseError(400, "bare LF in trailers")
    if (this.trailerPart === 2) {
      return isControl(c) ? new ParseError(400, "invalid character in a trailer field") : undefined
    }
    if (tchar[c] === 1) this.trailerPart = 1
    else if (c === 58 /* : */ && this.trailerPart === 1) this.trailerPart = 2
    else return new ParseError(400, "invalid trailer field name")
    return undefined
  }
}

const invalidExt = (c: number): string =>
  c === LF
    ? "bare LF in chunk size line"
    : `invalid character ${JSON.stringify(String.fromCharCode(c))} in chunk extension`

/**
 * The size line that starts a chunk of `length` bytes.
 *
 * @since 0.1.0
 * @category writing
 */
export const chunkHeader = (length: number): string => length.toString(16) + "\r\n"

/**
 * The last chunk and the end of a chunked body (no trailers).
 *
 * @since 0.1.0
 * @category writing
 */
export const lastChunk = "0\r\n\r\n"
