/**
 * The real-config corpus: every linkerd 1.x config (a YAML document with `routers:`) in linkerd's own
 * repository and in linkerd-examples, checked with weir's config check (`Validate.check`, what
 * `weir check` runs). Prints each config as accepted or refused with its first problem, then the
 * refusals grouped by cause. Not part of `npm test`: the repositories are not in this project.
 *
 * ```sh
 * git clone --bare https://github.com/linkerd/linkerd.git /tmp/linkerd.git
 * git clone --bare https://github.com/linkerd/linkerd-examples.git /tmp/linkerd-examples.git
 * npx tsx bench/corpus/check.ts /tmp/linkerd.git /tmp/linkerd-examples.git           # the report
 * npx tsx bench/corpus/check.ts --list /tmp/linkerd.git /tmp/linkerd-examples.git    # the file list
 * npx tsx bench/corpus/check.ts --all /tmp/linkerd.git /tmp/linkerd-examples.git     # every problem
 * ```
 *
 * Where configs are found: YAML files whose document (or one of whose `---` documents) has a
 * top-level `routers`; string values inside YAML/JSON documents that are such a config (Kubernetes
 * ConfigMaps, DC/OS and ECS definitions embed the config as text); fenced YAML blocks in Markdown
 * (linkerd's docs). namerd configs (no `routers`) are not linkerd configs and are skipped. Configs
 * with the same parsed content are counted once.
 *
 * An `io.l5d.fs` `rootDir` that is not a directory on this machine is the one environment check
 * `weir check` makes; the corpus's directories exist on the machines the examples were written
 * for, so that problem alone is reported as "accepted (rootDir absent here)".
 */
import * as Yaml from "effect/encoding/Yaml"
import * as Result from "effect/Result"
import { execFileSync } from "node:child_process"
import type * as Config from "../../src/proxy/Config.js"
import * as Validate from "../../src/proxy/Validate.js"

interface Found {
  readonly repo: string
  readonly path: string
  readonly text: string
}

const git = (dir: string, ...args: Array<string>): string =>
  execFileSync("git", ["-C", dir, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })

const tryParse = (text: string): unknown => {
  try {
    return Yaml.parse(text)
  } catch {
    return undefined
  }
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const isConfig = (u: unknown): boolean => isObject(u) && "routers" in u

/** Strings inside a parsed document that are themselves a linkerd config. */
const embedded = (u: unknown, out: Array<string>, depth = 0): void => {
  if (depth > 32) return
  if (typeof u === "string") {
    if (/(^|\n)\s*routers:/.test(u) && isConfig(tryParse(u))) out.push(u)
    return
  }
  if (Array.isArray(u)) { for (const v of u) embedded(v, out, depth + 1) }
  else if (isObject(u)) { for (const v of Object.values(u)) embedded(v, out, depth + 1) }
}

const documents = (text: string): Array<string> => text.split(/^---.*$/m)

const configsOf = (path: string, text: string): Array<string> => {
  if (path.endsWith(".md")) {
    const blocks = [...text.matchAll(/```(?:ya?ml|json)?[^\n]*\n([\s\S]*?)```/g)].map((m) => m[1]!)
    return blocks.filter((b) => /(^|\n)routers:/.test(b) && isConfig(tryParse(b)))
  }
  const out: Array<string> = []
  for (const doc of path.endsWith(".json") ? [text] : documents(text)) {
    const parsed = tryParse(doc)
    if (isConfig(parsed)) out.push(doc)
    else embedded(parsed, out)
  }
  return out
}

const collect = (repo: string, dir: string): Array<Found> => {
  const files = git(dir, "ls-tree", "-r", "HEAD", "--name-only")
    .split("\n")
    .filter((f) => /\.(ya?ml|json|md)$/.test(f) && !/(^|\/)(vendor|node_modules)\//.test(f))
  const found: Array<Found> = []
  for (const path of files) {
    let text: string
    try {
      text = git(dir, "show", `HEAD:${path}`)
    } catch {
      continue
    }
    if (!text.includes("routers")) continue
    const configs = configsOf(path, text)
    configs.forEach((c, i) => found.push({ repo, path: configs.length > 1 ? `${path}#${i + 1}` : path, text: c }))
  }
  return found
}

/** The cause a problem is grouped under: its message without the values that vary. */
const causeOf = (p: Config.Problem): string => {
  const m = p.message
  const kind = /^(\w+) kind (\S+) is not available/.exec(m)
  if (kind) return `${kind[1]} kind ${kind[2]}`
  const unknownKind = /unknown kind "([^"]+)"/.exec(m)
  const family = p.path.replace(/\[\d+\]/g, "[]").replace(/\.kind$/, "")
  if (unknownKind) return `${family}: unknown kind ${unknownKind[1]}`
  if (/not supported by this version/.test(m)) return m.replace(/ is not supported by this version of weir.*/, "")
  if (/^protocol \w+ is not available/.test(m)) return m.replace(/ is not available.*/, "")
  return `${family}: ${m.replace(/"[^"]*"/g, "\"…\"")}`
}

/**
 * Which piece of work a cause belongs to: open work (a bucket whose name ends in "(open work)";
 * none is open now), and what no open work covers (thrift and mux, the rest). "In scope" counts the
 * configs whose every cause is open work (accepted ones included); the projection, those that pass
 * once that work lands.
 */
const buckets: ReadonlyArray<readonly [RegExp, string]> = [
  [/thrift|mux|attemptTTwitterUpgrade/i, "thrift and mux (not planned)"],
  [/.*/, "not planned"]
]

const bucketOf = (cause: string): string => buckets.find(([re]) => re.test(cause))![1]

const inFlight = (bucket: string) => bucket.endsWith("(open work)")

const main = () => {
  const args = process.argv.slice(2)
  const list = args[0] === "--list"
  const every = args[0] === "--all"
  const [linkerdDir, examplesDir] = list || every ? args.slice(1) : args
  if (linkerdDir === undefined || examplesDir === undefined) {
    console.error("usage: tsx bench/corpus/check.ts [--list] <linkerd git dir> <linkerd-examples git dir>")
    process.exit(2)
  }
  const all = [...collect("linkerd/linkerd", linkerdDir), ...collect("linkerd/linkerd-examples", examplesDir)]
  const seen = new Set<string>()
  const corpus = all.filter((f) => {
    const key = JSON.stringify(tryParse(f.text))
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  if (list) {
    for (const [repo, dir] of [["linkerd/linkerd", linkerdDir], ["linkerd/linkerd-examples", examplesDir]] as const) {
      console.log(`${repo} @ ${git(dir, "rev-parse", "HEAD").trim()}`)
      for (const f of corpus.filter((c) => c.repo === repo)) console.log(`  ${f.path}`)
    }
    return
  }
  const causes = new Map<string, Array<string>>()
  const byBucket = new Map<string, number>()
  let accepted = 0
  let inScope = 0
  let projected = 0
  for (const f of corpus) {
    const name = `${f.repo}:${f.path}`
    const r = Validate.check(f.text)
    const problems = Result.isSuccess(r)
      ? []
      : r.failure.filter((p) => !/^namers\[\d+\]\.rootDir$/.test(p.path) || !/is not a directory/.test(p.message))
    const all = new Set(problems.map((p) => bucketOf(causeOf(p))))
    for (const b of all) byBucket.set(b, (byBucket.get(b) ?? 0) + 1)
    if ([...all].every(inFlight)) {
      inScope++
      projected++
    }
    if (problems.length === 0) {
      accepted++
      console.log(`accepted  ${name}${Result.isFailure(r) ? " (rootDir absent here)" : ""}`)
      continue
    }
    const first = problems[0]!
    console.log(`refused   ${name}: ${first.path}: ${first.message}`)
    if (every) { for (const p of problems.slice(1)) console.log(`            ${p.path}: ${p.message}`) }
    const cause = causeOf(first)
    causes.set(cause, [...(causes.get(cause) ?? []), name])
  }
  console.log(`\n${accepted} of ${corpus.length} accepted (${Math.round((accepted / corpus.length) * 100)} %)`)
  console.log("\nrefusals by cause (first problem):")
  for (const [cause, names] of [...causes].sort((a, b) => b[1].length - a[1].length)) {
    console.log(`  ${String(names.length).padStart(3)}  ${cause}`)
  }
  console.log("\nrefused configs by work item (every problem counted; a config can be in several):")
  for (const [bucket, n] of [...byBucket].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${String(n).padStart(3)}  ${bucket}`)
  }
  const pct = (n: number, d: number) => `${n} of ${d} (${Math.round((n / d) * 100)} %)`
  console.log(`\nonce the open work lands (estimate): ${pct(projected, corpus.length)} accepted`)
  console.log(
    `of the ${inScope} configs using only features weir has or open work adds: ${
      pct(accepted, inScope)
    } accepted now, ${pct(projected, inScope)} once the open work lands`
  )
}

main()
