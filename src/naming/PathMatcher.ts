/**
 * linkerd's prefix patterns for static client and service configs (`prefix: /#/io.l5d.fs/{service}`).
 * A pattern is `/`-separated; each segment is a literal, `*` (any one segment) or a template with
 * `{name}` captures (`{a}-{b}`; captures are greedy). Matching is by prefix: a name may have more
 * segments than the pattern.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import type * as Path from "./Path.js"

/**
 * A compiled pattern.
 *
 * @since 0.1.0
 * @category model
 */
export interface PathMatcher {
  readonly _tag: "PathMatcher"
  /** The pattern text. */
  readonly pattern: string
  /** One regular expression (or `undefined` for `*`) per segment. */
  readonly segments: ReadonlyArray<{ readonly regex: RegExp; readonly names: ReadonlyArray<string> } | undefined>
}

/**
 * Whether a value is a `PathMatcher`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isPathMatcher = (u: unknown): u is PathMatcher =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "PathMatcher"

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * Compiles a pattern. It must start with `/` (a trailing `/` is ignored); segments must be non-empty; `{` and `}` must pair up
 * around a name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parse = (pattern: string): Result.Result<PathMatcher, string> => {
  const trimmed = pattern.trim()
  // a trailing `/` (`/#/io.l5d.fs/`) adds no segment, as in linkerd
  const text = trimmed.length > 1 && trimmed.endsWith("/") ? trimmed.slice(0, -1) : trimmed
  if (!text.startsWith("/")) return Result.fail(`invalid prefix ${JSON.stringify(pattern)}: must start with "/"`)
  const raw = text === "/" ? [] : text.slice(1).split("/")
  const segments: Array<PathMatcher["segments"][number]> = []
  for (const seg of raw) {
    if (seg === "") return Result.fail(`invalid prefix ${JSON.stringify(pattern)}: empty segment`)
    if (seg === "*") {
      segments.push(undefined)
      continue
    }
    const names: Array<string> = []
    let source = ""
    let rest = seg
    while (rest.length > 0) {
      const open = rest.indexOf("{")
      const close = rest.indexOf("}")
      if (open < 0) {
        if (close >= 0) return Result.fail(`invalid prefix ${JSON.stringify(pattern)}: unmatched "}"`)
        source += escape(rest)
        break
      }
      if (close < open) return Result.fail(`invalid prefix ${JSON.stringify(pattern)}: unmatched "{"`)
      const name = rest.slice(open + 1, close)
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        return Result.fail(`invalid prefix ${JSON.stringify(pattern)}: bad capture name ${JSON.stringify(name)}`)
      }
      source += escape(rest.slice(0, open)) + "(.*)"
      names.push(name)
      rest = rest.slice(close + 1)
    }
    segments.push({ regex: new RegExp(`^${source}$`, "s"), names })
  }
  return Result.succeed({ _tag: "PathMatcher", pattern: text, segments })
}

/**
 * Compiles a pattern, throwing on a bad one. For literals in code and tests.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseUnsafe = (pattern: string): PathMatcher => {
  const r = parse(pattern)
  if (Result.isFailure(r)) throw new Error(r.failure)
  return r.success
}

/**
 * Matches a name (its labels) by prefix; the captured variables on a match, `undefined` otherwise.
 *
 * @since 0.1.0
 * @category matching
 */
export const match = (self: PathMatcher, path: Path.Path): Record<string, string> | undefined => {
  if (path.labels.length < self.segments.length) return undefined
  const vars: Record<string, string> = {}
  for (let i = 0; i < self.segments.length; i++) {
    const seg = self.segments[i]
    if (seg === undefined) continue
    const m = seg.regex.exec(path.labels[i]!)
    if (m === null) return undefined
    seg.names.forEach((name, j) => {
      vars[name] = m[j + 1]!
    })
  }
  return vars
}

/**
 * Whether the pattern matches the name by prefix.
 *
 * @since 0.1.0
 * @category matching
 */
export const matches = (self: PathMatcher, path: Path.Path): boolean => match(self, path) !== undefined
