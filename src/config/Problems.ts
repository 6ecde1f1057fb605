/**
 * Problems in a config document: one walker that turns a `Schema` issue into a flat list of
 * located messages (`routers[1].client.loadBalancer.kind: unknown kind "rr" (expected one of: p2c,
 * ewma, …)`). Every config decode in weir (the proxy's file, a simulation scenario, a lone
 * `client` section) reports through it, so the messages read the same everywhere:
 *
 * - an unknown key: `path: unknown key`; a missing one: `path: missing required key`;
 * - a plugin family (a union discriminated by `kind`): an unknown kind names the kinds accepted, a
 *   missing `kind` says so, and only the member with the given kind reports its problems;
 * - the value of a secret key (see `secretKeys`) is never shown.
 *
 * @since 0.1.0
 */
import type * as SchemaAST from "effect/SchemaAST"
import * as SchemaIssue from "effect/SchemaIssue"

/**
 * One problem in a config document: where (`routers[0].client.loadBalancer.kind`) and what.
 *
 * @since 0.1.0
 * @category model
 */
export interface Problem {
  readonly path: string
  readonly message: string
}

/**
 * The parse options config decoding uses: unknown keys are errors, every problem is reported, and
 * issues keep their input (so an unknown `kind` can be named).
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseOptions: SchemaAST.ParseOptions = { onExcessProperty: "error", errors: "all", reportInput: true }

/**
 * The keys whose values are secrets: problems and `/config.json` never show them.
 *
 * @since 0.1.0
 * @category constants
 */
export const secretKeys: ReadonlySet<string> = new Set([
  "token",
  "password",
  "passphrase",
  "secret",
  "auth",
  "authInfo",
  "clientAuth",
  "credentials",
  "tokenFile",
  "keyPath",
  "keyFile",
  "privateKey"
])

const secretSuffix = new RegExp(`(${Array.from(secretKeys, (k) => k.toLowerCase()).join("|")})$`)

/**
 * Whether a config key holds a secret or a secret's location: one of `secretKeys`, or a key ending
 * in one of them, in any case (`authTokenFile`, `clientKeyPath`, `proxyPassword`).
 *
 * @since 0.1.0
 * @category constants
 */
export const isSecretKey = (key: string): boolean => secretKeys.has(key) || secretSuffix.test(key.toLowerCase())

/**
 * Renders a path as `a.b[0].c` (the root is `""`).
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`
    else if (typeof segment === "string" && /^[A-Za-z_$][\w$.-]*$/.test(segment)) {
      out += out === "" ? segment : `.${segment}`
    } else out += `[${JSON.stringify(String(segment))}]`
  }
  return out
}

/**
 * Renders problems one per line, `path: message`: at most 100 lines, then `… and N more problems`;
 * a line longer than 500 characters is cut with `…`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatProblems = (ps: ReadonlyArray<Problem>): string => {
  const lines: Array<string> = []
  for (const p of ps.slice(0, 100)) {
    const line = p.path === "" ? p.message : `${p.path}: ${p.message}`
    lines.push(line.length > 500 ? `${line.slice(0, 499)}…` : line)
  }
  if (ps.length > 100) lines.push(`… and ${ps.length - 100} more problems`)
  return lines.join("\n")
}

interface KindOf {
  readonly literals: ReadonlyArray<string>
  readonly optional: boolean
}

const kindOf = (member: SchemaAST.AST): KindOf | undefined => {
  if (member._tag !== "Objects") return undefined
  const ps = member.propertySignatures.find((p) => p.name === "kind")
  if (ps === undefined) return undefined
  const optional = ps.type.context?.isOptional === true
  if (ps.type._tag === "Literal") return { literals: [String(ps.type.literal)], optional }
  if (ps.type._tag === "Union" && ps.type.types.every((t) => t._tag === "Literal")) {
    return { literals: ps.type.types.map((t) => String((t as SchemaAST.Literal).literal)), optional }
  }
  return undefined
}

const inputKind = (input: unknown): unknown =>
  typeof input === "object" && input !== null && !Array.isArray(input) ? (input as { kind?: unknown }).kind : undefined

const standard = SchemaIssue.makeFormatterStandardSchemaV1()

const walk = (issue: SchemaIssue.Issue, path: ReadonlyArray<PropertyKey>, out: Array<Problem>): void => {
  switch (issue._tag) {
    case "Pointer":
      return walk(issue.issue, [...path, ...issue.path], out)
    case "Encoding":
      return walk(issue.issue, path, out)
    case "Composite":
      for (const i of issue.issues) walk(i, path, out)
      return
    case "Filter":
      if (issue.issue._tag === "Pointer" || issue.issue._tag === "Composite") return walk(issue.issue, path, out)
      break
    case "UnexpectedKey":
      out.push({ path: formatPath(path), message: "unknown key" })
      return
    case "MissingKey": {
      const last = path[path.length - 1]
      out.push(
        typeof last === "number"
          ? { path: formatPath(path.slice(0, -1)), message: `must have at least ${last + 1} item(s)` }
          : { path: formatPath(path), message: "missing required key" }
      )
      return
    }
    case "AnyOf": {
      const kinds = issue.ast.types.map(kindOf)
      const family = kinds.every((k) => k !== undefined) ? (kinds as ReadonlyArray<KindOf>) : undefined
      const input = issue.input
      const kind = inputKind(input)
      if (family !== undefined) {
        const expected = `one of: ${family.flatMap((k) => k.literals).join(", ")}`
        const hasOptional = family.some((k) => k.optional)
        if (typeof input !== "object" || input === null || Array.isArray(input)) {
          out.push({ path: formatPath(path), message: `expected an object with a "kind" (${expected})` })
          return
        }
        if (kind === undefined && !hasOptional) {
          out.push({ path: formatPath([...path, "kind"]), message: `missing "kind" (${expected})` })
          return
        }
        if (kind !== undefined && family.every((k) => !k.literals.includes(kind as string))) {
          out.push({
            path: formatPath([...path, "kind"]),
            message: `unknown kind ${JSON.stringify(kind)} (expected ${expected})`
          })
          return
        }
      }
      if (issue.issues.length > 0) {
        // each member's issue names the member (`ast`) when the union tried it: keep those whose kind
        // matches the input's, so a kind's own problems are not drowned by the other members'
        const memberKind = (i: SchemaIssue.Issue, index: number): KindOf | undefined => {
          const ast = (i as { readonly ast?: SchemaAST.AST }).ast
          const own = ast === undefined ? undefined : kindOf(ast)
          return own ?? (family !== undefined && issue.issues.length === family.length ? family[index] : undefined)
        }
        const keep = family === undefined ? issue.issues : issue.issues.filter((i, index) => {
          const k = memberKind(i, index)
          return k === undefined || (kind === undefined ? k.optional : k.literals.includes(kind as string))
        })
        for (const i of keep.length > 0 ? keep : issue.issues) walk(i, path, out)
        return
      }
      break
    }
  }
  const last = path[path.length - 1]
  const secret = typeof last === "string" && isSecretKey(last)
  for (const f of standard(issue).issues) {
    out.push({
      path: formatPath([...path, ...(f.path ?? []).map((p) => typeof p === "object" ? p.key : p)]),
      message: secret ? f.message.replace(/, got .*$/s, "") : f.message
    })
  }
}

/**
 * Flattens a schema issue into problems with readable paths, under `prefix`. For a union
 * discriminated by `kind`, only the members with the given kind are reported; an unknown kind is
 * reported at its `kind` key with the kinds that would have been accepted.
 *
 * @since 0.1.0
 * @category errors
 */
export const problems = (issue: SchemaIssue.Issue, prefix: ReadonlyArray<PropertyKey> = []): Array<Problem> => {
  const out: Array<Problem> = []
  walk(issue, prefix, out)
  return out
}
