import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { execFileSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Delegation, Dtab, Interpreter, NameTree, Path } from "../../src/index.js"
import { ParseError } from "../../src/naming/ParseError.js"
import { showBound } from "./helpers.js"

const nested = (depth: number, leaf = "/b") => "(".repeat(depth) + leaf + ")".repeat(depth)
const nestedAlt = (depth: number): string => {
  let t = "/z"
  for (let i = 0; i < depth; i++) t = `(/y | ${t})`
  return t
}

const failure = <A>(r: Result.Result<A, ParseError>): ParseError => {
  if (Result.isSuccess(r)) throw new Error("expected a parse error")
  return r.failure
}

describe("naming parser limits", () => {
  it("parses trees nested maxDepth levels and rejects one more with a located ParseError", () => {
    expect(NameTree.maxDepth).toBe(256)
    const ok = NameTree.parseUnsafe(nestedAlt(256))
    expect(NameTree.equals(NameTree.parseUnsafe(NameTree.show(ok)), ok)).toBe(true)
    const e = failure(Dtab.parse(`/a=>${nested(257)}`))
    expect(e).toBeInstanceOf(ParseError)
    expect(e.position).toBe(4 + 256)
    expect(e.message).toBe("name tree nested deeper than 256 levels at offset 260")
  })

  it("rejects a 3,000- and a 100,000-deep dtab with the limit, not a RangeError", () => {
    for (const depth of [3_000, 100_000]) {
      expect(failure(Dtab.parse(`/a=>${nested(depth)}`)).message).toContain("nested deeper than 256 levels")
      expect(failure(NameTree.parse(nestedAlt(depth))).message).toContain("nested deeper than 256 levels")
    }
  })

  it("rejects input longer than maxLength", () => {
    const text = "/a=>/b;".repeat(Math.ceil((Dtab.maxLength + 1) / 7))
    expect(failure(Dtab.parse(text)).message).toBe(
      `input longer than ${Dtab.maxLength} characters at offset ${Dtab.maxLength}`
    )
    expect(Result.isFailure(Path.parse("/" + "a".repeat(Dtab.maxLength)))).toBe(true)
  })

  it("shows a window of a long input around the error, not the whole input", () => {
    const e = failure(Dtab.parse("/a=>/b;".repeat(10_000) + "^"))
    expect(e.message.length).toBeLessThan(300)
    expect(e.message).toMatch(/^'\/' expected but '\^' found at '….*\[\^\]'$/)
  })

  it("weights print so that they parse back to the same number", () => {
    for (const w of [1e23, 0.001, 5e-324, Number.MAX_VALUE, 123456789.123, 1e21, 0.1 + 0.2, 2 / 3]) {
      const tree = NameTree.union(NameTree.weighted(NameTree.leaf(Path.read("/a")), w))
      const shown = NameTree.show(tree)
      expect(shown).not.toMatch(/e/)
      const back = NameTree.parseUnsafe(`${shown} & /b`)
      expect(back._tag === "Union" && back.trees[0]!.weight).toBe(w)
    }
    expect(NameTree.showWeight(1e23)).toBe("100000000000000000000000*")
    expect(NameTree.showWeight(0.001)).toBe("0.001*")
    expect(NameTree.showWeight(0.3)).toBe("0.30*")
    expect(NameTree.showWeight(1)).toBe("")
  })

  it("rejects a weight too large for a number", () => {
    expect(failure(NameTree.parse(`${"9".repeat(400)} * /a & /b`)).message).toContain("weight larger than")
  })

  it("a fresh process with a fifth of the default stack parses 256 levels and rejects 3,000", () => {
    const dir = mkdtempSync(join(tmpdir(), "weir-limits-"))
    const script = join(dir, "deep.ts")
    const dtab = resolve(import.meta.dirname, "../../src/naming/Dtab.ts")
    writeFileSync(
      script,
      `import * as Dtab from ${JSON.stringify(dtab)}
const show = (n: number) => {
  const r = Dtab.parse("/a=>" + "(/x|".repeat(n) + "/b" + ")".repeat(n))
  return r._tag === "Success" ? "ok " + Dtab.show(r.success).length : r.failure._tag + ": " + r.failure.message
}
console.log(show(256))
console.log(show(3000))
`
    )
    const out = execFileSync(process.execPath, ["--stack-size=200", "--import", "tsx", script], {
      cwd: resolve(import.meta.dirname, "../.."),
      encoding: "utf8"
    }).trim().split("\n")
    expect(out[0]).toMatch(/^ok \d+$/)
    expect(out[1]).toBe("NamingParseError: name tree nested deeper than 256 levels at offset 1028")
  })
})

describe("binding limits", () => {
  it.effect("a dtab whose unions double at every step fails after maxBindNodes, quickly", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      const steps = Array.from({ length: 30 }, (_, i) => `/n${i}=>/n${i + 1} & /n${i + 1}`).join(";")
      const e = yield* Effect.flip(
        Interpreter.bindOnce(interp, Dtab.read(`${steps};/n30=>/$/inet/127.0.0.1/1`), Path.read("/n0"))
      )
      expect(e.message).toBe(`name tree larger than ${Interpreter.maxBindNodes} nodes while binding`)
    }))

  it.effect("lookups chaining deep trees fail at maxBindLevels instead of overflowing the stack", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      const deep = (next: string) => {
        let t = next
        for (let i = 0; i < 250; i++) t = `(~ | ${t})`
        return t
      }
      const dtab = Array.from({ length: 8 }, (_, i) => `/d${i}=>${deep(`/d${i + 1}`)}`).join(";")
      const e = yield* Effect.flip(
        Interpreter.bindOnce(interp, Dtab.read(`${dtab};/d8=>/$/inet/127.0.0.1/1`), Path.read("/d0"))
      )
      expect(e.message).toBe(`name tree nested deeper than ${Interpreter.maxBindLevels} levels while binding`)
      const shallow = Array.from({ length: 2 }, (_, i) => `/d${i}=>${deep(`/d${i + 1}`)}`).join(";")
      const ok = yield* Interpreter.bindOnce(interp, Dtab.read(`${shallow};/d2=>/$/inet/127.0.0.1/1`), Path.read("/d0"))
      expect(showBound(ok)).toBe("/$/inet/127.0.0.1/1")
    }))

  it.effect("an alternation of 20,000 negative branches binds without deep recursion", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      const tree = NameTree.alt(...Array.from({ length: 5_000 }, () => NameTree.neg), NameTree.leaf(Path.read("/ok")))
      const dtab = Dtab.make([{ _tag: "Dentry", prefix: [{ _tag: "Label", value: "a" }], dst: tree }])
      const ok = yield* Interpreter.bindOnce(
        interp,
        Dtab.concat(dtab, Dtab.read("/ok=>/$/inet/127.0.0.1/1")),
        Path.read("/a")
      )
      expect(showBound(ok)).toBe("/$/inet/127.0.0.1/1")
    }))
})

describe("delegation limits", () => {
  it.effect("an explanation of a dtab that doubles at every step stops at maxBindNodes", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      const steps = Array.from({ length: 30 }, (_, i) => `/n${i}=>/n${i + 1} & /n${i + 1}`).join(";")
      const tree = yield* Delegation.explain(interp, Dtab.read(`${steps};/n30=>/$/inet/127.0.0.1/1`), Path.read("/n0"))
      const json = JSON.stringify(tree)
      expect(json).toContain(`name tree larger than ${Interpreter.maxBindNodes} nodes`)
      expect(json.length).toBeLessThan(50_000_000)
    }))
})
