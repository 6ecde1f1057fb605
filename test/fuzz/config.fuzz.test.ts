/**
 * Config files are input too: random and mutated YAML documents give `Config.parse` a config or
 * located problems, never a throw, and the YAML limits (`src/config/Yaml.ts`) stop alias bombs and
 * deep nesting before decoding walks them.
 *
 * `FUZZ_RUNS` multiplies the number of runs.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import fc from "fast-check"
import { readdirSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import * as ClientConfig from "../../src/config/Client.js"
import * as Yaml from "../../src/config/Yaml.js"
import * as Config from "../../src/proxy/Config.js"
import * as Scenario from "../../src/testing/Scenario.js"

const runs = (n: number) => n * Number(process.env.FUZZ_RUNS ?? 1)

/** The "billion laughs" document: `levels` anchors, each a list of `width` aliases of the one before. */
const bomb = (levels: number, width: number): string => {
  const names = Array.from({ length: levels }, (_, i) => `l${i}`)
  const lines = ["routers:", `- &l0 [${Array.from({ length: width }, () => "\"lol\"").join(",")}]`]
  for (let i = 1; i < levels; i++) {
    lines.push(`- &${names[i]} [${Array.from({ length: width }, () => `*${names[i - 1]}`).join(",")}]`)
  }
  return lines.join("\n") + "\n"
}

const problemsOf = (text: string): Array<ClientConfig.Problem> => {
  const r = Config.parse(text)
  if (Result.isSuccess(r)) throw new Error("expected problems")
  return r.failure
}

const examples = (dir: string) =>
  readdirSync(resolve(import.meta.dirname, "../..", dir))
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => readFileSync(join(resolve(import.meta.dirname, "../..", dir), f), "utf8"))

const isProblemList = (ps: unknown): boolean =>
  Array.isArray(ps) && ps.length > 0 &&
  ps.every((p) => typeof p.path === "string" && typeof p.message === "string")

describe("YAML limits", () => {
  it("regression: the 342-byte alias bomb fails fast with a located error", () => {
    const text = bomb(9, 9)
    expect(text.length).toBeLessThan(500)
    const ps = problemsOf(text)
    expect(ps).toEqual([{ path: "", message: "invalid YAML: line 7: YAML alias expansion exceeds 100000 nodes" }])
    expect(ClientConfig.formatProblems(ps)).toBe("invalid YAML: line 7: YAML alias expansion exceeds 100000 nodes")
    const scenario = Scenario.parse(text)
    expect(Result.isFailure(scenario) && scenario.failure.problems[0]!.message).toContain("alias expansion exceeds")
  })

  it("counts alias uses over the whole document, and the aliases themselves", () => {
    const shared = "base: &b {x: 1, y: [1, 2, 3]}\n" +
      Array.from({ length: 1_000 }, (_, i) => `k${i}: *b`).join("\n")
    expect(Result.isSuccess(Yaml.parse(shared))).toBe(true)
    const r = Yaml.parse(shared + "\nmore: *b")
    expect(Result.isFailure(r) && r.failure.message).toBe("line 1002: more than 1000 YAML aliases")
    const small = Yaml.parse(bomb(4, 10), { maxNodes: 500 })
    expect(Result.isFailure(small) && small.failure.message).toMatch(
      /^line \d: YAML alias expansion exceeds 500 nodes$/
    )
  })

  it("rejects deep nesting in the text before parsing it, and through aliases after", () => {
    expect(problemsOf("routers: " + "[".repeat(100_000))[0]!.message).toBe(
      "invalid YAML: line 1: YAML nested deeper than 64 levels"
    )
    const indented = Array.from({ length: 200 }, (_, i) => " ".repeat(i) + "k:").join("\n")
    expect(problemsOf(indented)[0]!.message).toBe("invalid YAML: line 65: YAML nested deeper than 64 levels")
    const chain = "a0: &a0 [1]\n" + Array.from({ length: 80 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}]`).join("\n")
    expect(problemsOf(chain)[0]!.message).toMatch(/^invalid YAML: line \d+: YAML nested deeper than 64 levels$/)
  })

  it("rejects a document over the size limit", () => {
    const r = Yaml.parse("a: 1\n".repeat(300_000))
    expect(Result.isFailure(r) && r.failure.message).toBe("line 209716: YAML document longer than 1048576 characters")
  })

  it("formatProblems shows at most 100 problems and cuts long lines", () => {
    const ps = Array.from(
      { length: 250 },
      (_, i) => ({ path: `routers[${i}]`, message: "x".repeat(i === 0 ? 2_000 : 3) })
    )
    const lines = ClientConfig.formatProblems(ps).split("\n")
    expect(lines.length).toBe(101)
    expect(lines[0]!.length).toBe(500)
    expect(lines[100]).toBe("… and 150 more problems")
  })
})

const configs = examples("examples/configs")
const scenarios = examples("examples/simulations")

const yamlToken = fc.constantFrom(
  "routers:",
  "- ",
  "  ",
  "    ",
  "\n",
  "&a ",
  "*a",
  "&b ",
  "*b",
  "<<: *a",
  "[",
  "]",
  "{",
  "}",
  ",",
  ": ",
  "'",
  "\"",
  "|",
  ">-",
  "#",
  "protocol: http",
  "label: x",
  "dtab: /svc => /$/inet/127.0.0.1/1",
  "servers:",
  "port: 0",
  "kind: io.l5d.fs",
  "\t",
  "~",
  "null",
  "1e400",
  "-1"
)
const tokenSoup = fc.array(yamlToken, { maxLength: 80 }).map((ts) => ts.join(""))

const mutation = fc.tuple(
  fc.constantFrom("delete", "insert", "duplicate", "indent"),
  fc.nat(),
  fc.nat({ max: 40 }),
  fc.array(yamlToken, { maxLength: 4 })
)
const mutate = (text: string, ms: ReadonlyArray<readonly [string, number, number, ReadonlyArray<string>]>): string =>
  ms.reduce((t, [kind, at, len, tokens]) => {
    const i = t.length === 0 ? 0 : at % t.length
    switch (kind) {
      case "delete":
        return t.slice(0, i) + t.slice(i + len)
      case "insert":
        return t.slice(0, i) + tokens.join("") + t.slice(i)
      case "duplicate":
        return t.slice(0, i) + t.slice(i, i + len) + t.slice(i)
      default: {
        const lineStart = t.lastIndexOf("\n", i) + 1
        return t.slice(0, lineStart) + " ".repeat(len % 5) + t.slice(lineStart)
      }
    }
  }, text)

describe("Config.parse on arbitrary documents", () => {
  it("returns a config or located problems for token soup, never throws", () => {
    fc.assert(
      fc.property(tokenSoup, (text) => {
        const r = Config.parse(text)
        if (Result.isFailure(r)) ClientConfig.formatProblems(r.failure)
        return Result.isSuccess(r) || isProblemList(r.failure)
      }),
      { seed: 42, numRuns: runs(1_000) }
    )
  })

  it("returns a config or located problems for mutated example configs, never throws", () => {
    fc.assert(
      fc.property(fc.constantFrom(...configs), fc.array(mutation, { minLength: 1, maxLength: 5 }), (text, ms) => {
        const r = Config.parse(mutate(text, ms))
        if (Result.isFailure(r)) ClientConfig.formatProblems(r.failure)
        return Result.isSuccess(r) || isProblemList(r.failure)
      }),
      { seed: 42, numRuns: runs(300) }
    )
  })

  it("returns a config or located problems for JSON values, never throws", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const r = Config.parse(JSON.stringify(v))
        return Result.isSuccess(r) || isProblemList(r.failure)
      }),
      { seed: 42, numRuns: runs(500) }
    )
  })

  it("Scenario.parse returns a scenario or an InvalidScenario for mutated examples, never throws", () => {
    fc.assert(
      fc.property(fc.constantFrom(...scenarios), fc.array(mutation, { minLength: 1, maxLength: 5 }), (text, ms) => {
        const r = Scenario.parse(mutate(text, ms))
        return Result.isSuccess(r) || r.failure.problems.length > 0
      }),
      { seed: 42, numRuns: runs(200) }
    )
  })
})
