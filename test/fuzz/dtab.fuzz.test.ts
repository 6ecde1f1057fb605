/**
 * Properties of the naming parsers and printers: `parse(show(x))` gives back `x` for generated paths,
 * name trees (weights tiny and huge, alternations and unions nested up to the depth limit) and dtabs;
 * any string parses to a value or a `ParseError`, never a throw; and the seeded form of the dtab fuzz
 * that found the stack overflows (mostly deep nesting) ends with no `RangeError`.
 *
 * `FUZZ_RUNS` multiplies the number of runs (`FUZZ_RUNS=12 npm run fuzz` is the original 240,000 inputs).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import fc from "fast-check"
import { Dentry, Dtab, NameTree, Path } from "../../src/index.js"
import { isParseError } from "../../src/naming/ParseError.js"

const runs = (n: number) => n * Number(process.env.FUZZ_RUNS ?? 1)

const label = fc.string({
  unit: fc.oneof(
    fc.constantFrom(..."abcxyz019_:.#$%-"),
    fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c))
  ),
  minLength: 1,
  maxLength: 8
})
const path = fc.array(label, { maxLength: 5 }).map(Path.fromLabels)

const weight = fc.oneof(
  fc.constant(1),
  fc.integer({ min: 0, max: 100 }),
  fc.constantFrom(0.001, 1e23, 5e-324, Number.MAX_VALUE, Number.MIN_VALUE, 0.3, 1e-7, 1e21),
  fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true, noDefaultInfinity: true })
)

const { tree } = fc.letrec<{ tree: NameTree.NameTree<Path.Path> }>((rec) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    path.map(NameTree.leaf),
    fc.constantFrom(NameTree.neg, NameTree.fail, NameTree.empty),
    fc.array(rec("tree"), { minLength: 2, maxLength: 4 }).map((ts) => NameTree.alt(...ts)),
    fc.array(fc.tuple(rec("tree"), weight), { minLength: 2, maxLength: 4 })
      .map((ws) => NameTree.union(...ws.map(([t, w]) => NameTree.weighted(t, w))))
  )
}))

/**
 * A chain of `Alt`/`Union` nodes, each with a leaf sibling; shown, it nests at most one parenthesis
 * per level, so at most `NameTree.maxDepth` of them.
 */
const deepTree = fc.array(fc.tuple(fc.boolean(), weight), { minLength: 1, maxLength: NameTree.maxDepth }).map(
  (levels) =>
    levels.reduce<NameTree.NameTree<Path.Path>>(
      (inner, [isAlt, w], i) =>
        isAlt
          ? NameTree.alt(NameTree.leaf(Path.make(`l${i}`)), inner)
          : NameTree.union(NameTree.weighted(NameTree.leaf(Path.make(`u${i}`))), NameTree.weighted(inner, w)),
      NameTree.leaf(Path.make("bottom"))
    )
)

const elem = fc.oneof(
  label.map((value): Dentry.Elem => ({ _tag: "Label", value })),
  fc.constant<Dentry.Elem>({ _tag: "Any" })
)
const dentry = fc.tuple(fc.array(elem, { maxLength: 4 }), tree).map(([prefix, dst]) => Dentry.make(prefix, dst))
const dtab = fc.array(dentry, { maxLength: 5 }).map(Dtab.make)

const parseTree = (text: string) => {
  const r = NameTree.parse(text)
  if (Result.isFailure(r)) throw new Error(`${JSON.stringify(text)}: ${r.failure.message}`)
  return r.success
}

describe("naming parse ∘ show", () => {
  it("is the identity on paths", () => {
    fc.assert(
      fc.property(path, (p) => Path.equals(Path.parseUnsafe(Path.show(p)), p)),
      { seed: 42, numRuns: runs(1_000) }
    )
  })

  it("is the identity on name trees, weights included", () => {
    fc.assert(
      fc.property(tree, (t) => NameTree.equals(parseTree(NameTree.show(t)), t)),
      { seed: 42, numRuns: runs(1_000) }
    )
  })

  it("is the identity on trees nested up to the depth limit", () => {
    fc.assert(
      fc.property(deepTree, (t) => NameTree.equals(parseTree(NameTree.show(t)), t)),
      { seed: 42, numRuns: runs(200) }
    )
  })

  it("is the identity on dtabs", () => {
    fc.assert(
      fc.property(dtab, (d) => {
        const r = Dtab.parse(Dtab.show(d))
        return Result.isSuccess(r) && Dtab.equals(r.success, d)
      }),
      { seed: 42, numRuns: runs(1_000) }
    )
  })
})

const token = fc.constantFrom(
  "(",
  ")",
  "/",
  "/a",
  "/b/c",
  "|",
  "&",
  "*",
  "=>",
  ";",
  " ",
  "0",
  ".",
  "7",
  "~",
  "!",
  "$",
  "#",
  "\n",
  "\\x4",
  "\\x41",
  "\\"
)
const grammatical = fc.array(token, { maxLength: 60 }).map((ts) => ts.join(""))
const deep = fc.tuple(fc.integer({ min: 0, max: 6_000 }), grammatical, fc.integer({ min: 0, max: 6_000 }))
  .map(([open, inner, close]) => "/a=>" + "(".repeat(open) + inner + ")".repeat(close))
const deepAlt = fc.integer({ min: 200, max: 6_000 }).map((n) => "/a=>" + "(/x|".repeat(n) + "/b" + ")".repeat(n))
const input = fc.oneof(
  { arbitrary: grammatical, weight: 10 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 100 }), weight: 2 },
  { arbitrary: deep, weight: 1 },
  { arbitrary: deepAlt, weight: 1 }
)

describe("naming parsers on arbitrary input", () => {
  it("return a value or a ParseError, never throw", () => {
    fc.assert(
      fc.property(input, (text) => {
        const results: ReadonlyArray<Result.Result<unknown, unknown>> = [
          Dtab.parse(text),
          NameTree.parse(text),
          Path.parse(text),
          Dentry.parse(text)
        ]
        return results.every((r) => Result.isSuccess(r) || isParseError(r.failure))
      }),
      { seed: 42, numRuns: runs(1_000) }
    )
  })

  it("regression: 20,000 seeded dtab strings end in no RangeError", () => {
    const inputs = fc.sample(input, { seed: 7, numRuns: runs(20_000) })
    const deeper = "/a=>" + "(".repeat(3_000)
    let rangeErrors = 0
    let parseErrors = 0
    let deepInputs = 0
    for (const text of inputs) {
      if (text.startsWith(deeper)) deepInputs++
      try {
        const r = Dtab.parse(text)
        if (Result.isFailure(r)) {
          if (isParseError(r.failure)) parseErrors++
          if ((r.failure as unknown) instanceof RangeError) rangeErrors++
        } else {
          Dtab.show(r.success)
        }
      } catch (e) {
        if (e instanceof RangeError) rangeErrors++
        else throw e
      }
    }
    expect(inputs.length).toBe(runs(20_000))
    expect(deepInputs).toBeGreaterThan(runs(300))
    expect(parseErrors).toBeGreaterThan(0)
    expect(rangeErrors).toBe(0)
  })
})
