/**
 * YAML with limits, for every file weir reads (router configs, scenarios). It parses with Effect's
 * `effect/encoding/Yaml` and bounds what that parser leaves open:
 *
 * - **document size**: at most `defaults.maxLength` characters (1 MiB);
 * - **aliases**: at most `defaults.maxAliases` alias uses (`*name`) in the text;
 * - **nesting**: at most `defaults.maxDepth` levels, checked on the text before parsing (so the
 *   parser's own recursion stays shallow) and on the parsed value (aliases can nest anchors inside
 *   anchors);
 * - **expanded size**: at most `defaults.maxNodes` nodes counted over the value *as decoding will
 *   walk it*, every use of an alias counted again. An alias expands to the anchored node itself,
 *   shared, so a 500-byte "billion laughs" document parses in a millisecond but is a billion nodes to
 *   any code that walks it; the budget catches it after `maxNodes` steps.
 *
 * Every limit is a `YamlError` whose message names the limit and, where the text shows it, the line:
 * `line 4: YAML alias expansion exceeds 100000 nodes`.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Yaml from "effect/encoding/Yaml"
import * as Result from "effect/Result"

/**
 * The limits a document is checked against.
 *
 * @since 0.1.0
 * @category model
 */
export interface Limits {
  /** Most characters in the document. */
  readonly maxLength: number
  /** Most alias uses (`*name`). */
  readonly maxAliases: number
  /** Deepest nesting of collections. */
  readonly maxDepth: number
  /** Most nodes in the value with every alias expanded. */
  readonly maxNodes: number
}

/**
 * The default limits: 1 MiB of text, 1000 aliases, 64 levels, 100000 expanded nodes. A linkerd-style
 * router config is a few hundred nodes and ten levels deep.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: Limits = { maxLength: 1_048_576, maxAliases: 1000, maxDepth: 64, maxNodes: 100_000 }

/**
 * A document that does not parse, or goes over a limit. `line` is 1-based, when known.
 *
 * @since 0.1.0
 * @category errors
 */
export class YamlError extends Data.TaggedError("YamlError")<{
  readonly line: number | undefined
  readonly reason: string
}> {
  /** Never retryable: the same text fails the same way. */
  readonly retryable = false
  override get message(): string {
    return this.line === undefined ? this.reason : `line ${this.line}: ${this.reason}`
  }
}

interface Scan {
  readonly aliasLines: Array<number>
}

const blockScalar = /(?:^|[:\-]\s+|^-\s*)(?:&\S+\s+)?[|>][1-9+-]{0,2}$/
const aliasStart = /[\s[{,:-]/

const scan = (text: string, limits: Limits): Scan => {
  const aliasLines: Array<number> = []
  const lines = text.split("\n")
  const indents: Array<number> = []
  let flow = 0
  let blockIndent = -1
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!
    const indent = raw.length - raw.trimStart().length
    const body = raw.trim()
    if (blockIndent >= 0) {
      if (body === "" || indent > blockIndent) continue
      blockIndent = -1
    }
    if (body === "" || body.startsWith("#")) continue
    if (flow === 0) {
      while (indents.length > 0 && indents[indents.length - 1]! > indent) indents.pop()
      if (indents.length === 0 || indents[indents.length - 1]! < indent) indents.push(indent)
    }
    let quote = ""
    let dashes = 0
    for (let i = indent; i < raw.length; i++) {
      const c = raw[i]!
      if (quote !== "") {
        if (c === quote) quote = ""
        else if (c === "\\" && quote === "\"") i++
        continue
      }
      const prev = i === 0 ? " " : raw[i - 1]!
      if (c === "#" && (prev === " " || prev === "\t")) break
      if ((c === "\"" || c === "'") && (i === indent || aliasStart.test(prev))) quote = c
      else if (c === "[" || c === "{") flow++
      else if ((c === "]" || c === "}") && flow > 0) flow--
      else if (c === "-" && flow === 0 && raw[i + 1] === " " && raw.slice(indent, i).trim().replace(/-/g, "") === "") {
        dashes++
      } else if (c === "*" && (i === indent || aliasStart.test(prev)) && /[^\s,[\]{}]/.test(raw[i + 1] ?? " ")) {
        aliasLines.push(n + 1)
        if (aliasLines.length > limits.maxAliases) {
          throw new YamlError({ line: n + 1, reason: `more than ${limits.maxAliases} YAML aliases` })
        }
      }
      if (indents.length + dashes + flow > limits.maxDepth) {
        throw new YamlError({ line: n + 1, reason: `YAML nested deeper than ${limits.maxDepth} levels` })
      }
    }
    if (flow === 0 && blockScalar.test(body.replace(/\s+#.*$/, ""))) blockIndent = indent
  }
  return { aliasLines }
}

interface Frame {
  readonly value: unknown
  readonly depth: number
  /** Index of the alias use this node was reached through, in document order. */
  readonly alias: number | undefined
}

const walk = (value: unknown, limits: Limits, aliasLines: ReadonlyArray<number>): void => {
  const seen = new Set<object>()
  const stack: Array<Frame> = [{ value, depth: 0, alias: undefined }]
  let nodes = 0
  let aliasUses = 0
  const lineOf = (alias: number | undefined): number | undefined =>
    alias === undefined ? undefined : aliasLines[Math.min(alias, aliasLines.length - 1)]
  while (stack.length > 0) {
    const frame = stack.pop()!
    nodes++
    if (nodes > limits.maxNodes) {
      throw new YamlError({
        line: lineOf(frame.alias),
        reason: frame.alias === undefined
          ? `YAML document has more than ${limits.maxNodes} nodes`
          : `YAML alias expansion exceeds ${limits.maxNodes} nodes`
      })
    }
    const v = frame.value
    if (typeof v !== "object" || v === null) continue
    if (frame.depth >= limits.maxDepth) {
      throw new YamlError({ line: lineOf(frame.alias), reason: `YAML nested deeper than ${limits.maxDepth} levels` })
    }
    let alias = frame.alias
    if (seen.has(v)) {
      if (alias === undefined) alias = aliasUses++
    } else seen.add(v)
    const children = Array.isArray(v) ? v : Object.values(v)
    for (let i = children.length - 1; i >= 0; i--) stack.push({ value: children[i], depth: frame.depth + 1, alias })
  }
}

/**
 * Parses one YAML document within `limits` (each defaulting to `defaults`).
 *
 * @since 0.1.0
 * @category decoding
 */
export const parse = (text: string, limits?: Partial<Limits>): Result.Result<unknown, YamlError> => {
  try {
    return Result.succeed(parseUnsafe(text, limits))
  } catch (e) {
    if (e instanceof YamlError) return Result.fail(e)
    throw e
  }
}

/**
 * Like `parse`, throwing the `YamlError` (a syntax error's reason is the parser's message, e.g.
 * `Unexpected content at line 3`).
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseUnsafe = (text: string, limits?: Partial<Limits>): unknown => {
  const l: Limits = { ...defaults, ...limits }
  if (text.length > l.maxLength) {
    const line = text.slice(0, l.maxLength).split("\n").length
    throw new YamlError({ line, reason: `YAML document longer than ${l.maxLength} characters` })
  }
  const { aliasLines } = scan(text.replace(/\r\n?/g, "\n"), l)
  let value: unknown
  try {
    value = Yaml.parse(text)
  } catch (e) {
    throw new YamlError({ line: undefined, reason: e instanceof Error ? e.message : String(e) })
  }
  walk(value, l, aliasLines)
  return value
}
