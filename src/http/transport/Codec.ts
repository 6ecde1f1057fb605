/**
 * weir's HTTP/1.1 wire codec (RFC 9112): finds and parses request and response heads, decides a
 * message's framing and writes heads; chunked bodies are `Chunked`'s. The server and the upstream
 * client drive it directly over `node:net` sockets: weir's transport carries about 1.4× the requests
 * per second it did on `node:http` + undici (docs/benchmarks.md).
 *
 * Parsing is strict where leniency lets two parties disagree about where a message ends or what it
 * addresses (request smuggling, cache and routing confusion). Rejected with a {@link ParseError}
 * naming the problem: both `Transfer-Encoding` and `Content-Length`; any transfer coding but one
 * final `chunked` (501 for a coding weir does not implement, such as `gzip, chunked`, which it would
 * otherwise pass on undecoded; 400 for a malformed list or a repeated `chunked`); differing or
 * malformed `Content-Length` values; obsolete line folding; whitespace before a header's colon; a
 * bare CR or LF; control characters in a value; an unknown HTTP version; a second `Host` header or
 * one that is not a single `host[:port]`; a request target with raw bytes outside visible ASCII, in
 * the wrong form for its method, or in absolute form with userinfo, an empty authority or a scheme
 * other than http(s); and (in `Chunked`) a chunk line outside the RFC 9112 §7.1.1 grammar or a
 * trailer line that is not a header field.
 * Leniency is kept where it cannot split a message: up to {@link maxLeadingEmptyLines} empty lines
 * before a start line (RFC 9112 §2.2), a `Content-Length` repeated with one value (RFC 9110 §8.6),
 * and any token as a method. docs/http.md lists every rule; test/conformance holds one case each.
 *
 * @since 0.1.0
 */
import type { Socket } from "node:net"
import { isIP } from "node:net"
import type { Headers } from "./Message.js"

/**
 * A request head.
 *
 * @since 0.1.0
 * @category model
 */
export interface RequestHead {
  readonly method: string
  readonly target: string
  readonly version: "1.0" | "1.1"
  /** Header values by lower-case name; a repeated header keeps every value in order. */
  readonly headers: Headers
}

/**
 * A response head.
 *
 * @since 0.1.0
 * @category model
 */
export interface ResponseHead {
  readonly status: number
  readonly version: "1.0" | "1.1"
  readonly headers: Headers
}

/**
 * How a message body is delimited: absent, by `Content-Length`, chunked, or (responses only) by the
 * connection closing.
 *
 * @since 0.1.0
 * @category model
 */
export type Framing =
  | { readonly _tag: "None" }
  | { readonly _tag: "Length"; readonly length: number }
  | { readonly _tag: "Chunked" }
  | { readonly _tag: "Close" }

/**
 * Bytes that are not a valid HTTP/1.1 message. `status` is what a server answers (400, 431, 501 or
 * 505); `reason` names the rule that was broken.
 *
 * @since 0.1.0
 * @category errors
 */
export class ParseError {
  readonly _tag = "ParseError"
  constructor(
    readonly status: 400 | 431 | 501 | 505,
    readonly reason: string
  ) {}
  get message(): string {
    return `malformed HTTP message: ${this.reason}`
  }
}

const CR = 13
const LF = 10
const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1")

const noBody: Framing = { _tag: "None" }
const chunked: Framing = { _tag: "Chunked" }
const untilClose: Framing = { _tag: "Close" }

/** token = 1*tchar (RFC 9110 §5.6.2) */
const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** field-value characters: VCHAR, obs-text, SP, HTAB — anything else (controls, DEL) is refused */
const badValue = /[\x00-\x08\x0a-\x1f\x7f]/
/** what cannot be written into a head: the above, and code points past U+00FF (written as latin1, U+010D would become CR) */
const unwritable = /[\x00-\x08\x0a-\x1f\x7f\u0100-\uffff]/
/** request-target: visible ASCII only (no spaces, controls or raw bytes past 0x7E: RFC 3986 has no room for them) */
const badTarget = /[^\x21-\x7e]/
/** uri-host [":" port] (RFC 9110 §7.2): an IP literal or a reg-name (a comma, though a sub-delim, would read as a list) */
const hostPort = /^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+;=]|%[0-9A-Fa-f]{2})+)(?::[0-9]*)?$/
/** authority-form (CONNECT, RFC 9112 §3.2.3): host and a port */
const hostAndPort = /^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9\-._~!$&'()*+;=]|%[0-9A-Fa-f]{2})+):[0-9]+$/
/** absolute-form: scheme "://" authority, then the rest (RFC 9112 §3.2.2) */
const absoluteForm = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/
/** reason-phrase = *( HTAB / SP / VCHAR / obs-text ) */
const badReason = /[\x00-\x08\x0a-\x1f\x7f]/
const digits = /^[0-9]+$/

/** Whether `v` is `host[:port]` (`host:port` when `portRequired`), an IP literal being an IPv6 address. */
const isHostPort = (v: string, portRequired: boolean): boolean =>
  (portRequired ? hostAndPort : hostPort).test(v) && (v.charCodeAt(0) !== 91 || isIP(v.slice(1, v.indexOf("]"))) === 6)

/**
 * Where the head starting at `from` ends: the index just past its blank line, or `-1` when it is not
 * complete yet. `searchFrom` lets a caller that has already scanned part of the buffer resume.
 *
 * @since 0.1.0
 * @category parsing
 */
export const headEnd = (buf: Buffer, from: number, searchFrom = from): number => {
  const i = buf.indexOf(CRLFCRLF, Math.max(from, searchFrom - 3))
  return i < 0 ? -1 : i + 4
}

/**
 * Skips the empty lines a client may send before a request line (RFC 9112 §2.2); returns the index
 * of the first other byte. The server drops them as they come, so they cost nothing to keep.
 *
 * @since 0.1.0
 * @category parsing
 */
export const skipLeadingBlankLines = (buf: Buffer, from: number): number => {
  let i = from
  while (i < buf.length && (buf[i] === CR || buf[i] === LF)) i++
  return i
}

/**
 * How many empty lines (CRLF) a response may be preceded by: RFC 9112 §2.2 asks a recipient to
 * ignore at least one, and servers that write an extra CRLF after a body or a `100 Continue` exist.
 *
 * @since 0.1.0
 * @category parsing
 */
export const maxLeadingEmptyLines = 4

/**
 * Skips the empty lines (CRLF pairs) before a response's status line: the index of the first other
 * byte (or of a lone trailing CR, whose LF has not arrived), or `-1` after more than
 * {@link maxLeadingEmptyLines} of them or on a bare CR or LF.
 *
 * @since 0.1.0
 * @category parsing
 */
export const skipEmptyLines = (buf: Buffer, from: number): number => {
  let i = from
  for (let n = 0; i < buf.length && buf[i] === CR; n++) {
    if (i + 1 >= buf.length) return i
    if (buf[i + 1] !== LF || n >= maxLeadingEmptyLines) return -1
    i += 2
  }
  return i < buf.length && buf[i] === LF ? -1 : i
}

/**
 * Header names (any case) already checked against `token`, to their lower-case form: for the few
 * dozen names most messages carry, a map lookup instead of the regular expression (and of a
 * lower-cased copy, when parsing). Only valid names are kept, up to a bound.
 */
const tokenNames = new Map<string, string>()

/** `name` in lower case when it is a token, else `undefined`. */
const lowerToken = (name: string): string | undefined => {
  let lower = tokenNames.get(name)
  if (lower === undefined) {
    if (!token.test(name)) return undefined
    lower = name.toLowerCase()
    if (tokenNames.size < 2048) tokenNames.set(name, lower)
  }
  return lower
}

/**
 * Parses the header lines of a head (from `lines[1]`). `checked`: the caller has already found no
 * control character anywhere in the head (`badInHead`), so values are not checked one by one.
 */
const parseHeaderLines = (lines: Array<string>, checked: boolean): Headers | ParseError => {
  const headers: Headers = {}
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!
    const first = line.charCodeAt(0)
    if (first === 32 || first === 9) return new ParseError(400, "obsolete line folding in a header")
    const colon = line.indexOf(":")
    if (colon <= 0) return new ParseError(400, "header line without a name and colon")
    const rawName = line.slice(0, colon)
    const name = lowerToken(rawName)
    if (name === undefined) return new ParseError(400, `invalid header name ${JSON.stringify(rawName.slice(0, 64))}`)
    let s = colon + 1
    let e = line.length
    while (s < e && (line.charCodeAt(s) === 32 || line.charCodeAt(s) === 9)) s++
    while (e > s && (line.charCodeAt(e - 1) === 32 || line.charCodeAt(e - 1) === 9)) e--
    const value = s === 0 && e === line.length ? line : line.slice(s, e)
    if (!checked && badValue.test(value)) return new ParseError(400, `invalid character in header ${rawName}`)
    const prev = headers[name]
    if (prev === undefined) headers[name] = value
    else if (typeof prev === "string") headers[name] = [prev, value]
    else if (Array.isArray(prev)) prev.push(value)
    // a name inherited from Object.prototype ("constructor", "__proto__"): make it an own property
    else Object.defineProperty(headers, name, { value, writable: true, enumerable: true, configurable: true })
  }
  return headers
}

/** A control character other than CR and LF (HTAB is allowed), or DEL: in no valid head. */
const badInHead = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/

/** A head's lines, and whether it has no control character but its line ends (one check for all its values). */
interface Lines {
  readonly lines: Array<string>
  readonly checked: boolean
}

const splitHead = (buf: Buffer, start: number, end: number): Lines | ParseError => {
  const text = buf.toString("latin1", start, end - 4)
  const lines = text.split("\r\n")
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!
    if (l.indexOf("\n") >= 0 || l.indexOf("\r") >= 0) return new ParseError(400, "bare CR or LF in the message head")
  }
  return { lines, checked: !badInHead.test(text) }
}

const versionOf = (v: string): "1.0" | "1.1" | ParseError =>
  v === "HTTP/1.1"
    ? "1.1"
    : v === "HTTP/1.0"
    ? "1.0"
    : /^HTTP\/[0-9]\.[0-9]$/.test(v)
    ? new ParseError(505, `unsupported version ${v}`)
    : new ParseError(400, `invalid HTTP version ${JSON.stringify(v.slice(0, 16))}`)

/**
 * Parses a request head occupying `buf[start, end)`, `end` as returned by {@link headEnd}.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseRequestHead = (buf: Buffer, start: number, end: number): RequestHead | ParseError => {
  const split = splitHead(buf, start, end)
  if (split instanceof ParseError) return split
  const lines = split.lines
  const line = lines[0]!
  const sp1 = line.indexOf(" ")
  const sp2 = sp1 < 0 ? -1 : line.indexOf(" ", sp1 + 1)
  if (sp1 <= 0 || sp2 < 0 || line.indexOf(" ", sp2 + 1) >= 0) return new ParseError(400, "invalid request line")
  const method = line.slice(0, sp1)
  const target = line.slice(sp1 + 1, sp2)
  if (!token.test(method)) return new ParseError(400, "invalid method")
  const badForm = targetProblem(method, target)
  if (badForm !== undefined) return new ParseError(400, badForm)
  const version = versionOf(line.slice(sp2 + 1))
  if (version instanceof ParseError) return version
  const headers = parseHeaderLines(lines, split.checked)
  if (headers instanceof ParseError) return headers
  const host = headers.host
  if (host !== undefined) {
    // RFC 9112 §3.2: two Host lines, or a list in one, would let the router and the backend pick
    // different authorities; an invalid value is refused too
    if (typeof host !== "string") return new ParseError(400, "more than one Host header")
    if (host !== "" && !isHostPort(host, false)) return new ParseError(400, "invalid Host header")
  }
  return { method, target, version, headers }
}

/**
 * What is wrong with a request target (RFC 9112 §3.2), or `undefined`: it must be visible ASCII (a
 * raw byte past 0x7E is refused rather than passed on), and origin-form (`/path?query`), `*` for
 * `OPTIONS`, authority-form `host:port` for `CONNECT` (and only there), or absolute-form
 * `http(s)://authority/...` with a valid, non-empty authority and no userinfo (RFC 9110 §4.2.4: a
 * `user@` part names no host, and two parties could read `a@b@c` differently).
 */
const targetProblem = (method: string, target: string): string | undefined => {
  if (target.length === 0) return "invalid request target"
  if (badTarget.test(target)) {
    return /[\x80-\xff]/.test(target) ? "raw non-ASCII byte in the request target" : "invalid request target"
  }
  const first = target.charCodeAt(0)
  if (method === "CONNECT") return isHostPort(target, true) ? undefined : "CONNECT target not in authority-form"
  if (first === 47 /* / */) return undefined
  if (target === "*") return method === "OPTIONS" ? undefined : "asterisk-form target outside OPTIONS"
  const m = absoluteForm.exec(target)
  if (m === null) return "request target in no known form"
  // the router reads the authority of http(s) targets only: another scheme's would be routed by Host
  // while the backend (RFC 9112 §3.2.2) goes by the target's
  const scheme = m[1]!.toLowerCase()
  if (scheme !== "http" && scheme !== "https") return "request target with a scheme other than http or https"
  const authority = m[2]!
  if (authority.length === 0) return "empty authority in the request target"
  if (authority.indexOf("@") >= 0) return "userinfo in the request target"
  return isHostPort(authority, false) ? undefined : "invalid authority in the request target"
}

/**
 * Parses a response head occupying `buf[start, end)`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseResponseHead = (buf: Buffer, start: number, end: number): ResponseHead | ParseError => {
  const split = splitHead(buf, start, end)
  if (split instanceof ParseError) return split
  const lines = split.lines
  const line = lines[0]!
  const version = versionOf(line.slice(0, 8))
  if (version instanceof ParseError) return version
  if (line.charCodeAt(8) !== 32 || line.length < 12 || (line.length > 12 && line.charCodeAt(12) !== 32)) {
    return new ParseError(400, "invalid status line")
  }
  const code = line.slice(9, 12)
  if (!digits.test(code) || code.charCodeAt(0) === 48) return new ParseError(400, "invalid status code")
  if (badReason.test(line)) return new ParseError(400, "invalid character in the reason phrase")
  const headers = parseHeaderLines(lines, split.checked)
  if (headers instanceof ParseError) return headers
  return { status: Number(code), version, headers }
}

const isOws = (c: number): boolean => c === 32 || c === 9

/**
 * The length in a `Content-Length` field value: a comma-separated list of 1 to 15 decimal digits each
 * (OWS, i.e. only SP and HTAB, around them), all equal to `prev` when it is not negative. Not
 * `String.prototype.trim`, which would also strip U+00A0 (byte 0xA0 in latin1).
 */
const lengthList = (v: string, prev: number): number | ParseError => {
  let length = prev
  const n = v.length
  let i = 0
  for (;;) {
    while (i < n && isOws(v.charCodeAt(i))) i++
    const start = i
    let x = 0
    for (let c = v.charCodeAt(i); i < n && c >= 48 && c <= 57; c = v.charCodeAt(++i)) x = x * 10 + (c - 48)
    const count = i - start
    while (i < n && isOws(v.charCodeAt(i))) i++
    if (count === 0 || count > 15 || (i < n && v.charCodeAt(i) !== 44)) {
      return new ParseError(400, "invalid Content-Length")
    }
    if (length >= 0 && x !== length) return new ParseError(400, "conflicting Content-Length values")
    length = x
    if (i >= n) return length
    i++
  }
}

const lengthOf = (value: string | Array<string>): number | ParseError => {
  if (typeof value === "string") return lengthList(value, -1)
  let length = -1
  for (let i = 0; i < value.length; i++) {
    const n = lengthList(value[i]!, length)
    if (n instanceof ParseError) return n
    length = n
  }
  return length
}

/** transfer-coding = token *( OWS ";" OWS token "=" ( token / quoted-string ) ) (RFC 9112 §7, RFC 9110 §5.6.6) */
const codingRe =
  /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)((?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+=(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"))*)$/

/**
 * Checks a `Transfer-Encoding` (all its lines): `undefined` when it is exactly one `chunked` (any
 * case, OWS around it), else the error, in this order: a malformed list (an empty element, a quoted
 * or spaced coding) is 400; `chunked` not last is 400 (RFC 9112 §6.3: the length cannot be
 * determined); `chunked` more than once is 400 (RFC 9112 §7.1: a sender must not apply it twice);
 * any other coding (`gzip, chunked`), or parameters on `chunked`, is 501 (RFC 9112 §6.1): weir
 * decodes no other coding, and forwarding the body as if `chunked` were all would hand the next hop
 * coded bytes with nothing saying so. Empty list elements are refused, not skipped (RFC 9110 §5.6.1
 * would skip them): in this header, leniency is what request smuggling feeds on.
 */
const codingsProblem = (value: string | Array<string>): ParseError | undefined => {
  // the common case, without splitting
  if (typeof value === "string" && value.length === 7 && value.toLowerCase() === "chunked") return undefined
  const all = typeof value === "string" ? value.split(",") : value.join(",").split(",")
  const names: Array<string> = []
  let parameters = false
  for (let p = 0; p < all.length; p++) {
    const element = trimOws(all[p]!)
    if (element === "") return new ParseError(400, "empty element in Transfer-Encoding")
    const m = codingRe.exec(element)
    if (m === null) return new ParseError(400, `malformed Transfer-Encoding ${JSON.stringify(element.slice(0, 32))}`)
    names.push(m[1]!.toLowerCase())
    if (p === all.length - 1) parameters = m[2] !== ""
  }
  if (names[names.length - 1] !== "chunked") return new ParseError(400, "chunked is not the final transfer coding")
  if (names.indexOf("chunked") < names.length - 1) {
    return new ParseError(400, "chunked applied more than once in Transfer-Encoding")
  }
  if (names.length > 1) {
    return new ParseError(501, `unsupported transfer coding ${JSON.stringify(names[0]!.slice(0, 32))}`)
  }
  return parameters ? new ParseError(501, "unsupported parameters on the chunked transfer coding") : undefined
}

const trimOws = (v: string): string => {
  let s = 0
  let e = v.length
  while (s < e && isOws(v.charCodeAt(s))) s++
  while (e > s && isOws(v.charCodeAt(e - 1))) e--
  return s === 0 && e === v.length ? v : v.slice(s, e)
}

/**
 * The framing of a request body (RFC 9112 §6.3): chunked when `Transfer-Encoding` is `chunked`,
 * else `Content-Length`, else none. Both headers, any other transfer coding, or a
 * `Transfer-Encoding` on HTTP/1.0 are refused.
 *
 * @since 0.1.0
 * @category framing
 */
export const requestFraming = (head: RequestHead): Framing | ParseError => {
  const te = head.headers["transfer-encoding"]
  const cl = head.headers["content-length"]
  if (te !== undefined) {
    if (cl !== undefined) return new ParseError(400, "both Transfer-Encoding and Content-Length")
    if (head.version === "1.0") return new ParseError(400, "Transfer-Encoding on HTTP/1.0")
    return codingsProblem(te) ?? chunked
  }
  if (cl === undefined) return noBody
  const n = lengthOf(cl)
  if (n instanceof ParseError) return n
  return n === 0 ? noBody : { _tag: "Length", length: n }
}

/**
 * The framing of a response to `method` (RFC 9112 §6.3): none for `HEAD`, 1xx, 204 and 304; chunked;
 * `Content-Length`; otherwise until the connection closes. A `Transfer-Encoding` other than one
 * `chunked` is refused as in a request: RFC 9112 would read such a body until the close, but weir
 * drops `Transfer-Encoding` (a hop-by-hop header) when it forwards a response, so the client would
 * get the coded bytes with nothing saying so.
 *
 * @since 0.1.0
 * @category framing
 */
export const responseFraming = (method: string, head: ResponseHead): Framing | ParseError => {
  const status = head.status
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) return noBody
  const te = head.headers["transfer-encoding"]
  if (te !== undefined) {
    if (head.headers["content-length"] !== undefined) {
      return new ParseError(400, "both Transfer-Encoding and Content-Length")
    }
    return codingsProblem(te) ?? chunked
  }
  const cl = head.headers["content-length"]
  if (cl === undefined) return untilClose
  const n = lengthOf(cl)
  if (n instanceof ParseError) return n
  return n === 0 ? noBody : { _tag: "Length", length: n }
}

/**
 * Which of a head's headers the writer leaves out because the caller writes its own framing:
 * `"none"`; `"framing"` (`connection`, `keep-alive`, `transfer-encoding`, `content-length`);
 * `"framing-but-length"` (the same but `content-length`, which a response to `HEAD` or a 304 keeps).
 *
 * @since 0.1.0
 * @category writing
 */
export type Omitted = "none" | "framing" | "framing-but-length"

const omitted = (name: string, omit: Omitted): boolean =>
  omit !== "none" && (name === "connection" || name === "keep-alive" || name === "transfer-encoding" ||
    (omit === "framing" && name === "content-length"))

/**
 * The header lines of a head, `omit`'s names left out; with `check`, each name and value is checked
 * as it is written (what `invalidHeader` checks, in the same pass): `undefined` when one would break
 * the head.
 */
const headerLines = (headers: Headers, omit: Omitted, check: boolean): string | undefined => {
  let out = ""
  for (const name in headers) {
    if (omit !== "none" && name.length >= 10 && omitted(name, omit)) continue
    if (check && lowerToken(name) === undefined) return undefined
    const v = headers[name]!
    if (typeof v === "string") {
      if (check && unwritable.test(v)) return undefined
      out += name + ": " + v + "\r\n"
    } else {
      for (let i = 0; i < v.length; i++) {
        if (check && unwritable.test(v[i]!)) return undefined
        out += name + ": " + v[i] + "\r\n"
      }
    }
  }
  return out
}

/**
 * A header value or name that would break the head it is written into (CR, LF or NUL), checked
 * before writing so a bad header fails the one message instead of corrupting the connection.
 *
 * @since 0.1.0
 * @category writing
 */
export const invalidHeader = (headers: Headers): string | undefined => {
  for (const name in headers) {
    if (!token.test(name)) return name
    const v = headers[name]!
    if (typeof v === "string") {
      if (unwritable.test(v)) return name
    } else {
      for (let i = 0; i < v.length; i++) if (unwritable.test(v[i]!)) return name
    }
  }
  return undefined
}

/**
 * Writes a request head (`extra` is appended verbatim: framing headers the caller owns).
 *
 * @since 0.1.0
 * @category writing
 */
export const writeRequestHead = (method: string, target: string, headers: Headers, extra: string): string =>
  method + " " + target + " HTTP/1.1\r\n" + headerLines(headers, "none", false)! + extra + "\r\n"

/**
 * `writeRequestHead` for headers not known to be writable: `undefined` when a name or value would
 * break the head (`invalidHeader` then names it), checked while the head is written rather than in a
 * pass of its own.
 *
 * @since 0.1.0
 * @category writing
 */
export const checkedRequestHead = (
  method: string,
  target: string,
  headers: Headers,
  extra: string
): string | undefined => {
  const lines = headerLines(headers, "none", true)
  return lines === undefined ? undefined : method + " " + target + " HTTP/1.1\r\n" + lines + extra + "\r\n"
}

const reasons: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  411: "Length Required",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  417: "Expectation Failed",
  421: "Misdirected Request",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported"
}

/**
 * The standard reason phrase of a status code (`"Unknown"` for one without).
 *
 * @since 0.1.0
 * @category writing
 */
export const reasonPhrase = (status: number): string => reasons[status] ?? "Unknown"

/**
 * Writes a response head (`extra` is appended verbatim: framing and connection headers the caller
 * owns; `omit` leaves the framing headers found in `headers` out, without the caller having to
 * delete them — deleting properties makes V8 rebuild the object). Defaults to omitting none.
 *
 * @since 0.1.0
 * @category writing
 */
export const writeResponseHead = (status: number, headers: Headers, extra: string, omit: Omitted = "none"): string =>
  "HTTP/1.1 " + status + " " + reasonPhrase(status) + "\r\n" + headerLines(headers, omit, false)! + extra + "\r\n"

/**
 * `writeResponseHead` for headers not known to be writable: `undefined` when a name or value would
 * break the head (`invalidHeader` then names it), checked while the head is written.
 *
 * @since 0.1.0
 * @category writing
 */
export const checkedResponseHead = (
  status: number,
  headers: Headers,
  extra: string,
  omit: Omitted = "none"
): string | undefined => {
  const lines = headerLines(headers, omit, true)
  return lines === undefined
    ? undefined
    : "HTTP/1.1 " + status + " " + reasonPhrase(status) + "\r\n" + lines + extra + "\r\n"
}

/**
 * The largest body {@link writeMessage} copies behind its head into one buffer. Beyond it, the head
 * and the body go out as two buffers of one corked write (no copy of the body).
 *
 * @since 0.1.0
 * @category writing
 */
export const joinedBodyBytes = 16 * 1024

/**
 * Writes a message whose body is in memory: the head (latin1) and the body in one buffer when the
 * body is at most {@link joinedBodyBytes}, which costs a copy of a small body and spares node's
 * corked, vectored write path (its write request, chunk list and callbacks) on every such message.
 *
 * @since 0.1.0
 * @category writing
 */
export const writeMessage = (socket: Socket, head: string, body: Uint8Array): void => {
  if (body.length <= joinedBodyBytes) {
    const out = Buffer.allocUnsafe(head.length + body.length)
    out.write(head, 0, "latin1")
    out.set(body, head.length)
    socket.write(out)
    return
  }
  socket.cork()
  socket.write(head, "latin1")
  socket.write(body)
  socket.uncork()
}
