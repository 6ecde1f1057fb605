/**
 * gRPC on the h2 data path: the status codes, where a call's status is read (`grpc-status` in the
 * trailers, or in the headers of a trailers-only response), the `grpc-timeout` header (a call's
 * deadline: up to eight digits and a unit, `H M S m u n`), and the trailers-only responses a router
 * answers a gRPC call it cannot deliver with, so that gRPC clients see a status (`UNAVAILABLE`,
 * `DEADLINE_EXCEEDED`) instead of an HTTP error they cannot read. Each such response keeps the
 * router's `l5d-err`.
 *
 * @since 0.1.0
 */
import type { Headers, HttpRequest, HttpResponse } from "../transport/Message.js"
import { empty, header, knownTrailers } from "../transport/Message.js"

/**
 * gRPC status codes by name.
 *
 * @since 0.1.0
 * @category constants
 */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16
} as const

/**
 * Whether a request is a gRPC call (`content-type: application/grpc`, with or without a `+codec`
 * suffix).
 *
 * @since 0.1.0
 * @category guards
 */
export const isGrpc = (request: { readonly headers: Headers }): boolean => {
  const ct = header(request.headers, "content-type")
  return ct !== undefined && /^application\/grpc(?:[+;]|$)/i.test(ct)
}

const parseStatus = (v: string | undefined): number | undefined => {
  if (v === undefined || !/^\d{1,3}$/.test(v.trim())) return undefined
  return Number(v.trim())
}

/**
 * A response's gRPC status once it is known: `grpc-status` of a trailers-only response (in its
 * headers), else of its trailers when they have arrived; `undefined` while unknown or absent.
 *
 * @since 0.1.0
 * @category getters
 */
export const statusOf = (response: { readonly headers: Headers; readonly trailers?: HttpResponse["trailers"] }) => {
  const inHeaders = parseStatus(header(response.headers, "grpc-status"))
  if (inHeaders !== undefined) return inHeaders
  const trailers = response.trailers?.current()
  return trailers === undefined ? undefined : parseStatus(header(trailers, "grpc-status"))
}

const unitMillis: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 }

/**
 * The timeout a `grpc-timeout` value asks for, in milliseconds; `undefined` when it is malformed
 * (more than eight digits, no unit or an unknown one), which gRPC says to treat as no timeout.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeTimeout = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const m = /^(\d{1,8})([HMSmun])$/.exec(value.trim())
  return m === null ? undefined : Number(m[1]) * unitMillis[m[2]!]!
}

/**
 * A `grpc-timeout` value for a timeout in milliseconds: the finest unit that fits in eight digits,
 * rounded up (a timeout is never shortened below 1 ns of what was asked… nor left at zero).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeTimeout = (millis: number): string => {
  const ms = Math.max(0, millis)
  const units: ReadonlyArray<readonly [string, number]> = [
    ["n", 1e-6],
    ["u", 1e-3],
    ["m", 1],
    ["S", 1000],
    ["M", 60_000],
    ["H", 3_600_000]
  ]
  for (const [unit, size] of units) {
    const n = Math.ceil(ms / size)
    if (n < 1e8) return `${Math.max(1, n)}${unit}`
  }
  return "99999999H"
}

/**
 * A trailers-only response: HTTP 200 whose one header block ends the stream and carries
 * `grpc-status` and `grpc-message` (percent-encoded as gRPC asks), plus `extra` headers.
 *
 * @since 0.1.0
 * @category constructors
 */
export const trailersOnly = (status: number, message: string, extra?: Headers): HttpResponse => {
  const headers: Headers = {
    ...extra,
    "content-type": "application/grpc",
    "grpc-status": String(status),
    "grpc-message": encodeMessage(message)
  }
  return { status: 200, headers, body: empty, trailers: knownTrailers(undefined) }
}

/**
 * Percent-encodes a `grpc-message` (bytes outside printable ASCII, and `%`).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeMessage = (message: string): string => {
  let out = ""
  for (const byte of Buffer.from(message, "utf8")) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25
      ? String.fromCharCode(byte)
      : "%" + byte.toString(16).toUpperCase().padStart(2, "0")
  }
  return out
}

/**
 * The gRPC status a router error response stands for: a timeout (`exceeded … to …`) is
 * `DEADLINE_EXCEEDED`, a 502 or 503 (no route, connection failed, overloaded) `UNAVAILABLE`, a 400
 * (unidentifiable, bad dtab, loop) `INTERNAL`; other HTTP statuses as gRPC maps them
 * (401 `UNAUTHENTICATED`, 403 `PERMISSION_DENIED`, 404 `UNIMPLEMENTED`, 429 and 504 `UNAVAILABLE`).
 *
 * @since 0.1.0
 * @category mapping
 */
export const statusForHttp = (status: number, message: string): number => {
  if (/^exceeded /.test(message)) return Status.DEADLINE_EXCEEDED
  switch (status) {
    case 400:
      return Status.INTERNAL
    case 401:
      return Status.UNAUTHENTICATED
    case 403:
      return Status.PERMISSION_DENIED
    case 404:
      return Status.UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return Status.UNAVAILABLE
    default:
      return Status.UNKNOWN
  }
}

/**
 * A router error response for a gRPC call as a trailers-only response: the status mapped by
 * `statusForHttp`, the message as `grpc-message`, the `l5d-*` headers (`l5d-err` among them) kept.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromRouterError = (response: HttpResponse, message: string): HttpResponse => {
  const extra: Headers = {}
  for (const name in response.headers) {
    if (name.startsWith("l5d-") || name === "via") extra[name] = response.headers[name]!
  }
  return trailersOnly(statusForHttp(response.status, message), message, extra)
}

/**
 * A call's deadline from its `grpc-timeout`, as milliseconds from now; `undefined` when it has none.
 *
 * @since 0.1.0
 * @category getters
 */
export const timeoutOf = (request: HttpRequest): number | undefined =>
  decodeTimeout(header(request.headers, "grpc-timeout"))
