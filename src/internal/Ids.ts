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
