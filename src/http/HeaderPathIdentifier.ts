/**
 * The identifier `io.l5d.header.path` (linkerd's h2 identifier for gRPC): a path read from a header,
 * `:path` by default — on an HTTP/1.1 request, `:path` is the request target. The query is dropped;
 * with `segments`, the first `segments` path segments are the name (a path with fewer is not
 * identified), without it the whole path is. `/true/love/waits.php?thing=1` with `segments: 2` is
 * `/svc/true/love`.
 *
 * @since 0.1.0
 */
import * as Path from "../naming/Path.js"
import type * as Identifiers from "./Identifiers.js"
import { header as headerOf } from "./transport/Message.js"

/**
 * The pseudo-header naming the request target (HTTP/2's `:path`).
 *
 * @since 0.1.0
 * @category constants
 */
export const pathHeader = ":path"

const segmentsOf = (value: string): Array<string> => {
  const q = value.search(/[?#]/)
  return (q < 0 ? value : value.slice(0, q)).split("/").filter((s) => s !== "")
}

/**
 * `io.l5d.header.path` under `prefix`: the path of `header` (default `:path`), its first `segments`
 * segments when given.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (prefix: Path.Path, header = pathHeader, segments?: number | undefined): Identifiers.Identifier => {
  const name = header.toLowerCase()
  const tooShort = `Path must have at least ${segments ?? 1} segment(s)`
  return (request) => {
    const value = name === pathHeader ? request.url : headerOf(request.headers, name)
    const all = value === undefined ? [] : segmentsOf(value)
    if (segments === undefined) {
      if (all.length === 0) return { _tag: "Unidentified", reason: "Missing destination path" }
      return { _tag: "Identified", name: Path.fromLabels([...prefix.labels, ...all]), request }
    }
    if (all.length < segments) return { _tag: "Unidentified", reason: tooShort }
    return { _tag: "Identified", name: Path.fromLabels([...prefix.labels, ...all.slice(0, segments)]), request }
  }
}
