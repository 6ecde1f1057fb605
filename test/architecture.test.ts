/**
 * The layer rules of docs/architecture.md, checked against the imports in src/: no import cycles
 * between folders, the core imports nothing above it, the wire does not reach the router, and the
 * simulator does not reach the transport or the proxy.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"

const src = path.resolve(import.meta.dirname, "../src")

const files = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    return e.isDirectory() ? files(p) : e.name.endsWith(".ts") ? [p] : []
  })

/** The layer a source file belongs to: its first folder under src/; each file of src/ itself is its own. */
const layerOf = (file: string): string => path.relative(src, file).split(path.sep)[0]!

/** The core: no HTTP, no YAML, no linkerd keys, nothing above it (src/*.ts but the index are core modules). */
const isCore = (layer: string): boolean =>
  ["internal", "resilience", "loadbalancer", "naming"].includes(layer) ||
  (layer.endsWith(".ts") && layer !== "index.ts")

const importsOf = (file: string): Array<string> => {
  const text = fs.readFileSync(file, "utf8")
  const out: Array<string> = []
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
    out.push(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, ".ts")))
  }
  return out
}

const edges = new Map<string, Set<string>>()
const examples = new Map<string, string>()
for (const file of files(src)) {
  const from = layerOf(file)
  for (const target of importsOf(file)) {
    if (!target.startsWith(src)) continue
    const to = layerOf(target)
    if (to === from) continue
    let set = edges.get(from)
    if (set === undefined) edges.set(from, set = new Set())
    set.add(to)
    examples.set(`${from}->${to}`, `${path.relative(src, file)} imports ${path.relative(src, target)}`)
  }
}

const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
  if (seen.has(from)) return false
  seen.add(from)
  for (const next of edges.get(from) ?? []) if (next === to || reaches(next, to, seen)) return true
  return false
}

describe("architecture", () => {
  it("no import cycles between folders", () => {
    const cycles: Array<string> = []
    for (const [from, tos] of edges) {
      for (const to of tos) if (reaches(to, from)) cycles.push(examples.get(`${from}->${to}`)!)
    }
    expect(cycles).toEqual([])
  })

  it("the core imports nothing above it", () => {
    const violations: Array<string> = []
    for (const [from, tos] of edges) {
      if (!isCore(from)) continue
      for (const to of tos) if (!isCore(to)) violations.push(examples.get(`${from}->${to}`)!)
    }
    expect(violations).toEqual([])
  })

  it("the HTTP/1.1 transport imports nothing of the router's data path", () => {
    const transport = path.join(src, "http", "transport")
    const violations: Array<string> = []
    for (const file of files(transport)) {
      for (const target of importsOf(file)) {
        if (target.startsWith(path.join(src, "http")) && !target.startsWith(transport)) {
          violations.push(`${path.relative(src, file)} imports ${path.relative(src, target)}`)
        }
      }
    }
    expect(violations).toEqual([])
  })

  it("the simulator depends on the core and the stack, not on the transport or the proxy", () => {
    const violations = [...(edges.get("testing") ?? [])].filter((to) => ["http", "proxy", "cli", "namerd"].includes(to))
      .map((to) => examples.get(`testing->${to}`)!)
    expect(violations).toEqual([])
  })
})
