/**
 * linkerd's HTTP header conventions (linkerd 1.x §4): the context a router reads from a request
 * (`l5d-ctx-dtab`, `l5d-dtab`, `l5d-ctx-deadline`), the headers it adds on the way to the
 * destination (`l5d-dst-service`, `l5d-dst-client`, `l5d-dst-residual`, `l5d-reqid`,
 * `l5d-ctx-dtab`, `l5d-ctx-deadline`, `Via`), loop detection through `Via`, `clearContext`, and the
 * hop-by-hop headers RFC 9110 §7.6.1 says a proxy must not forward.
 *
 * Functions named `strip*`/`write*` mutate the header object they are given: the data path owns
 * its copy of each request's headers, and copying them again on every hop would cost throughput.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import { randomHex } from "../internal/Ids.js"
import * as Dtab from "../naming/Dtab.js"
import type { Deadline } from "../resilience/Deadline.js"
import * as DeadlineCodec from "../resilience/Deadline.js"
import type { Headers } from "./transport/Message.js"
import { appendHeader, header, headerAll } from "./transport/Message.js"

/**
 * Header names, lower-case.
 *
 * @since 0.1.0
 * @category constants
 */
export const names = {
  ctxDtab: "l5d-ctx-dtab",
  dtab: "l5d-dtab",
  ctxDeadline: DeadlineCodec.headerName,
  ctxTrace: "l5d-ctx-trace",
  sample: "l5d-sample",
  dstService: "l5d-dst-service",
  dstClient: "l5d-dst-client",
  dstResidual: "l5d-dst-residual",
  reqId: "l5d-reqid",
  err: "l5d-err",
  retryable: "l5d-retryable",
  successClass: "l5d-success-class",
  via: "via"
} as const

/**
 * The value appended to `Via` on both directions, after the protocol version (`1.1 linkerd`): the
 * same token as linkerd so that mixed deployments count hops alike.
 *
 * @since 0.1.0
 * @category constants
 */
export const viaToken = "linkerd"

/**
 * Headers that describe one connection and are never forwarded (RFC 9110 §7.6.1), plus the
 * non-standard `keep-alive` and `proxy-connection`.
 *
 * @since 0.1.0
 * @category constants
 */
export const hopByHop: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade"
])

/**
 * Removes hop-by-hop headers and every header named in `Connection`.
 *
 * @since 0.1.0
 * @category transformations
 */
export const stripHopByHop = (headers: Headers): void => {
  const connection = headers["connection"]
  if (connection !== undefined) {
    for (const v of typeof connection === "string" ? [connection] : connection) {
      for (const token of v.split(",")) {
        const name = token.trim().toLowerCase()
        if (name !== "") delete headers[name]
      }
    }
  }
  for (const name of hopByHop) {
    if (headers[name] !== undefined) delete headers[name]
  }
}

/**
 * The headers without hop-by-hop headers, those named in `Connection`, and `also` (e.g. `expect`):
 * the same object when there is nothing to remove, else a fresh one (deleting properties would turn
 * the object into a slow dictionary on the hot path).
 *
 * With `framingLeft`, `Connection`, `Keep-Alive` and `Transfer-Encoding` alone do not make a copy:
 * for a message that only weir's own writers will write (the HTTP/1.1 head writer and the HTTP/2
 * header conversion both leave them out and write their own framing), so that a response carrying
 * only `Connection: keep-alive` — nearly every upstream's — is passed on as it is. They are removed
 * like the others when a copy is made for another header.
 *
 * @since 0.1.0
 * @category transformations
 */
export const withoutHopByHop = (headers: Headers, also?: string, framingLeft = false): Headers => {
  // names listed in `Connection` that are not hop-by-hop anyway (usually none: `keep-alive`, `close`)
  let named: Array<string> | undefined
  const connection = headers["connection"]
  if (connection !== undefined) {
    if (typeof connection === "string" && connection.indexOf(",") < 0) {
      // one token (`keep-alive`, `close`): no split
      const name = connection.trim().toLowerCase()
      if (name !== "" && !hopByHop.has(name)) named = [name]
    } else {
      for (const v of typeof connection === "string" ? [connection] : connection) {
        for (const token of v.split(",")) {
          const name = token.trim().toLowerCase()
          if (name !== "" && !hopByHop.has(name)) (named ??= []).push(name)
        }
      }
    }
  }
  // one walk over the (few) header names, each checked by length and comparison: cheaper than
  // looking up the nine hop-by-hop names, which are usually all absent
  let found = false
  for (const name in headers) {
    if (
      (isHopByHop(name) && !(framingLeft && isFraming(name))) || name === also ||
      (named !== undefined && named.includes(name))
    ) {
      found = true
      break
    }
  }
  if (!found) return headers
  const out: Headers = {}
  for (const name in headers) {
    if (isHopByHop(name) || name === also || (named !== undefined && named.includes(name))) continue
    out[name] = headers[name]!
  }
  return out
}

/** `connection`, `keep-alive`, `transfer-encoding`: what every head writer of weir leaves out. */
const isFraming = (name: string): boolean =>
  name === "connection" || name === "keep-alive" || name === "transfer-encoding"

/** Whether a lower-case name is in `hopByHop`. */
const isHopByHop = (name: string): boolean => {
  switch (name.length) {
    case 2:
      return name === "te"
    case 7:
      return name === "trailer" || name === "upgrade"
    case 10:
      return name === "connection" || name === "keep-alive"
    case 16:
      return name === "proxy-connection"
    case 17:
      return name === "transfer-encoding"
    case 18:
      return name === "proxy-authenticate"
    case 19:
      return name === "proxy-authorization"
    default:
      return false
  }
}

/**
 * Removes every `l5d-*` header (a server with `clearContext: true`, both directions).
 *
 * @since 0.1.0
 * @category transformations
 */
export const stripL5d = (headers: Headers): void => {
  for (const name of Object.keys(headers)) {
    if (name.startsWith("l5d-")) delete headers[name]
  }
}

/**
 * The request context a router reads from inbound headers.
 *
 * @since 0.1.0
 * @category model
 */
export interface Context {
  /** `l5d-ctx-dtab` entries followed by `l5d-dtab` entries. */
  readonly localDtab: Dtab.Dtab
  /** The strictest valid `l5d-ctx-deadline`, if any. */
  readonly deadline: Deadline | undefined
  /** The caller's span from a valid `l5d-ctx-trace`, if any. */
  readonly trace?: TraceId | undefined
  /** `l5d-sample` as the caller sent it (the tracing decides what it means), if any. */
  readonly sample?: string | undefined
}

/**
 * A context header that does not parse.
 *
 * @since 0.1.0
 * @category model
 */
export interface BadHeader {
  readonly header: string
  readonly detail: string
}

/**
 * The most characters the values of one dtab header (`l5d-dtab` or `l5d-ctx-dtab`, every occurrence
 * together) may hold: `8192`, the header-line limit common to HTTP servers and proxies and below a
 * server's default head limit (12 KiB, so a longer head is a 431 first). A longer header is a
 * `BadHeader` (400) before any parsing; shorter ones still meet the dtab parser's own limits
 * (`NameTree.maxDepth`).
 *
 * @since 0.1.0
 * @category constants
 */
export const maxDtabHeaderLength = 8_192

const parseDtabs = (values: ReadonlyArray<string>, name: string): Result.Result<Dtab.Dtab, BadHeader> => {
  let total = 0
  for (const v of values) total += v.length
  if (total > maxDtabHeaderLength) {
    return Result.fail({ header: name, detail: `longer than ${maxDtabHeaderLength} characters (${total})` })
  }
  let acc = Dtab.empty
  for (const v of values) {
    const parsed = Dtab.parse(v)
    if (Result.isFailure(parsed)) return Result.fail({ header: name, detail: parsed.failure.message })
    acc = Dtab.concat(acc, parsed.success)
  }
  return Result.succeed(acc)
}

/**
 * Reads and removes the context headers: `l5d-ctx-dtab` and `l5d-dtab` (each may repeat; ctx first,
 * user last), `l5d-ctx-deadline` (malformed values dropped, several combined to the strictest),
 * `l5d-ctx-trace` (a malformed value dropped) and `l5d-sample`. A dtab header that does not parse, or is longer
 * than `maxDtabHeaderLength`, is a `BadHeader` (400).
 *
 * @since 0.1.0
 * @category inbound
 */
export const readContext = (headers: Headers): Result.Result<Context, BadHeader> => {
  if (
    headers[names.ctxDtab] === undefined && headers[names.dtab] === undefined &&
    headers[names.ctxDeadline] === undefined && headers[names.sample] === undefined &&
    headers[names.ctxTrace] === undefined
  ) return noContext
  let localDtab = Dtab.empty
  let deadline: Deadline | undefined
  if (headers[names.ctxDtab] !== undefined) {
    const r = parseDtabs(headerAll(headers, names.ctxDtab), names.ctxDtab)
    if (Result.isFailure(r)) return Result.fail(r.failure)
    localDtab = r.success
    delete headers[names.ctxDtab]
  }
  if (headers[names.dtab] !== undefined) {
    const r = parseDtabs(headerAll(headers, names.dtab), names.dtab)
    if (Result.isFailure(r)) return Result.fail(r.failure)
    localDtab = Dtab.concat(localDtab, r.success)
    delete headers[names.dtab]
  }
  if (headers[names.ctxDeadline] !== undefined) {
    deadline = DeadlineCodec.decodeAll(headerAll(headers, names.ctxDeadline))
    delete headers[names.ctxDeadline]
  }
  let sample: string | undefined
  if (headers[names.sample] !== undefined) {
    sample = header(headers, names.sample)
    delete headers[names.sample]
  }
  let trace: TraceId | undefined
  if (headers[names.ctxTrace] !== undefined) {
    trace = decodeTrace(header(headers, names.ctxTrace)!)
    delete headers[names.ctxTrace]
  }
  return Result.succeed({ localDtab, deadline, trace, sample })
}

const noContext: Result.Result<Context, BadHeader> = Result.succeed({ localDtab: Dtab.empty, deadline: undefined })

/**
 * The number of proxies a request went through: comma-separated entries over every `Via` header.
 *
 * @since 0.1.0
 * @category inbound
 */
export const viaCount = (headers: Headers): number => {
  if (headers[names.via] === undefined) return 0
  let n = 0
  for (const v of headerAll(headers, names.via)) {
    for (const entry of v.split(",")) if (entry.trim() !== "") n++
  }
  return n
}

/**
 * Appends this hop to `Via` (`1.1 linkerd`, or `1.0 linkerd` for an HTTP/1.0 message).
 *
 * @since 0.1.0
 * @category transformations
 */
export const appendVia = (headers: Headers, version: "1.0" | "1.1" | "2"): void => {
  const entry = version === "1.1" ? via11 : `${version} ${viaToken}`
  const v = header(headers, names.via)
  if (v === undefined || v === "") headers[names.via] = entry
  else headers[names.via] = `${headerAll(headers, names.via).join(", ")}, ${entry}`
}

const via11 = `1.1 ${viaToken}`

/**
 * A fresh request id: 16 lower-case hex characters, never all zeros.
 *
 * @since 0.1.0
 * @category outbound
 */
export const newRequestId = (): string => randomHex(16)

/**
 * A span of linkerd's (Finagle's) trace context, as carried by `l5d-ctx-trace`: 64-bit ids as 16
 * lower-case hex characters, the 64-bit flags word, and the high half of a 128-bit trace id when
 * there is one. `traceId` is what linkerd sends as `l5d-reqid`: the same on every hop of a call tree.
 *
 * @since 0.1.0
 * @category trace
 */
export interface TraceId {
  readonly spanId: string
  readonly parentId: string
  readonly traceId: string
  readonly flags: string
  readonly traceIdHigh?: string | undefined
}

const zeroFlags = "0000000000000000"

/**
 * Decodes an `l5d-ctx-trace` value: base64 of 32 bytes (span id, parent id, trace id, flags, each
 * big-endian) or 40 (then the high half of the trace id). Anything else is `undefined`: a malformed
 * trace header starts a new trace, as in linkerd.
 *
 * @since 0.1.0
 * @category trace
 */
export const decodeTrace = (value: string): TraceId | undefined => {
  if (value.length !== 44 && value.length !== 56) return undefined
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined
  const bytes = Buffer.from(value, "base64")
  if (bytes.length !== 32 && bytes.length !== 40) return undefined
  const hex = bytes.toString("hex")
  return {
    spanId: hex.slice(0, 16),
    parentId: hex.slice(16, 32),
    traceId: hex.slice(32, 48),
    flags: hex.slice(48, 64),
    traceIdHigh: bytes.length === 40 ? hex.slice(64, 80) : undefined
  }
}

/**
 * Encodes a span as an `l5d-ctx-trace` value.
 *
 * @since 0.1.0
 * @category trace
 */
export const encodeTrace = (t: TraceId): string =>
  Buffer.from(t.spanId + t.parentId + t.traceId + t.flags + (t.traceIdHigh ?? ""), "hex").toString("base64")

/**
 * The span of a request this router forwards: a child of the caller's span (same trace id and
 * flags, the caller's span as parent, a fresh span id), or, without one, the root of a new trace
 * (span, parent and trace id the same fresh id).
 *
 * @since 0.1.0
 * @category trace
 */
export const childSpan = (parent: TraceId | undefined): TraceId => {
  const id = newRequestId()
  return parent === undefined
    ? { spanId: id, parentId: id, traceId: id, flags: zeroFlags }
    : {
      spanId: id,
      parentId: parent.spanId,
      traceId: parent.traceId,
      flags: parent.flags,
      traceIdHigh: parent.traceIdHigh
    }
}

/**
 * What the router adds to a request it forwards.
 *
 * @since 0.1.0
 * @category model
 */
export interface Outbound {
  /** The logical name, shown (`/svc/books`). */
  readonly service: string
  /** The bound client id, shown (`/$/inet/127.0.0.1/8080`). */
  readonly client: string
  /** The residual path, shown; omitted when empty (`/`). */
  readonly residual?: string | undefined
  readonly localDtab: Dtab.Dtab
  readonly deadline?: Deadline | undefined
  /** `l5d-reqid`: the trace id. */
  readonly requestId: string
  /** `l5d-ctx-trace`, encoded; omitted when absent. */
  readonly trace?: string | undefined
}

/**
 * Writes the outbound linkerd headers: `l5d-dst-service`, `l5d-dst-client`, `l5d-dst-residual`
 * (when non-empty), `l5d-reqid`, `l5d-ctx-trace` (when given), `l5d-ctx-dtab` (when the local dtab is non-empty) and
 * `l5d-ctx-deadline` (when a deadline applies). Existing values are replaced.
 *
 * @since 0.1.0
 * @category outbound
 */
export const writeOutbound = (headers: Headers, out: Outbound): void => {
  headers[names.dstService] = out.service
  headers[names.dstClient] = out.client
  if (out.residual !== undefined && out.residual !== "" && out.residual !== "/") {
    headers[names.dstResidual] = out.residual
  } else if (headers[names.dstResidual] !== undefined) delete headers[names.dstResidual]
  headers[names.reqId] = out.requestId
  if (out.trace !== undefined) headers[names.ctxTrace] = out.trace
  if (out.localDtab.dentries.length > 0) headers[names.ctxDtab] = Dtab.show(out.localDtab)
  if (out.deadline !== undefined) headers[names.ctxDeadline] = DeadlineCodec.encode(out.deadline)
}

/**
 * Appends `value` to a header (re-exported for callers that only import this module).
 *
 * @since 0.1.0
 * @category utils
 */
export const append = appendHeader
