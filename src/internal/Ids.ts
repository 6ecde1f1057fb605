/**
 * Random ids in lower-case hex: request ids, span ids and trace ids share one pool, filled from
 * `crypto.randomBytes` a few thousand digits at a time (one native call and one hex conversion for
 * hundreds of ids; each id is then a slice of the pool).
 *
 * @internal
 */
import { randomBytes } from "node:crypto"

/** 16 KiB of random bytes per fill: 2,048 ids of 16 digits. */
const fillBytes = 16 * 1024
const zeros16 = "0000000000000000"

let pool = ""
let offset = 0

/**
 * A random id of `length` hex digits, never all zeros (W3C Trace Context and Zipkin both refuse an
 * all-zero id).
 *
 * @internal
 */
export const randomHex = (length: 16 | 32): string => {
  if (offset + length > pool.length) {
    pool = randomBytes(fillBytes).toString("hex")
    offset = 0
  }
  const id = pool.slice(offset, offset + length)
  offset += length
  return id.startsWith(zeros16) && (length === 16 || id.endsWith(zeros16)) ? randomHex(length) : id
}

/**
 * The ids of a trace that starts here and the unsampled W3C `traceparent` naming them, all three
 * slices of one flat string (`00-<trace id>-<span id>-00`): a header value built by concatenation
 * would be a rope, which every regular expression that checks it flattens first.
 *
 * @internal
 */
export interface RootIds {
  /** 32 hex digits, never all zeros. */
  readonly traceId: string
  /** 16 hex digits, never all zeros. */
  readonly spanId: string
  /** `00-<traceId>-<spanId>-00`. */
  readonly traceparent: string
}

/** 55 characters a context; 256 contexts a block, made from one fill of 48 random digits each. */
const contextLength = 55
const contextsPerBlock = 256
let block = ""
let at = 0

const fillBlock = (): void => {
  const hex = randomBytes(24 * contextsPerBlock).toString("hex")
  const parts: Array<string> = []
  for (let i = 0; i < contextsPerBlock; i++) {
    const o = i * 48
    parts.push("00-", hex.slice(o, o + 32), "-", hex.slice(o + 32, o + 48), "-00")
  }
  block = parts.join("")
  at = 0
}

/**
 * A new root trace context (see {@link RootIds}).
 *
 * @internal
 */
export const rootIds = (): RootIds => {
  for (;;) {
    if (at >= block.length) fillBlock()
    const start = at
    at += contextLength
    const traceId = block.slice(start + 3, start + 35)
    const spanId = block.slice(start + 36, start + 52)
    if (traceId === "00000000000000000000000000000000" || spanId === zeros16) continue
    return { traceId, spanId, traceparent: block.slice(start, start + contextLength) }
  }
}
