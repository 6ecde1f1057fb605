import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import { Dentry, Dtab, NameTree, Path } from "../../src/index.js"

const errorOf = <A, E>(r: Result.Result<A, E>): E => {
  if (Result.isSuccess(r)) throw new Error("expected a parse error")
  return r.failure
}
const message = (r: Result.Result<unknown, { readonly message: string }>): string => errorOf(r).message

describe("Path", () => {
  it("parses and shows", () => {
    expect(Path.read("/foo/bar").labels).toEqual(["foo", "bar"])
    expect(Path.read("  /foo  ").labels).toEqual(["foo"])
    expect(Path.read("/").labels).toEqual([])
    expect(Path.show(Path.empty)).toBe("/")
    expect(Path.show(Path.read("/#/io.l5d.fs/a_b:c%d$e-f"))).toBe("/#/io.l5d.fs/a_b:c%d$e-f")
  })

  it("decodes \\xHH escapes in either case and escapes every byte of an unshowable label", () => {
    expect(Path.read("/\\x66\\x6f\\x6F")).toEqual(Path.make("foo"))
    expect(Path.show(Path.make("a b", "ok"))).toBe("/\\x61\\x20\\x62/ok")
    expect(Path.read(Path.show(Path.make("a b")))).toEqual(Path.make("a b"))
  })

  it("reports errors with the offending character marked", () => {
    expect(message(Path.parse("/foo^bar"))).toContain("'/foo[^]bar'")
    expect(message(Path.parse("/foo/bar/"))).toBe("label char expected but end of input found at '/foo/bar/[]'")
    expect(message(Path.parse("invalid-param"))).toBe("'/' expected but 'i' found at '[i]nvalid-param'")
    for (const bad of ["/{", "/}", "/a?", "/a*", "/\\?", "/\\x?", "/\\x0?", "/foo//bar"]) {
      expect(Result.isFailure(Path.parse(bad)), bad).toBe(true)
    }
    const e = errorOf(Path.parse("/foo^bar"))
    expect(e.position).toBe(4)
    expect(e._tag).toBe("NamingParseError")
  })

  it("combinators", () => {
    const p = Path.read("/a/b/c")
    expect(Path.startsWith(p, Path.read("/a/b"))).toBe(true)
    expect(Path.startsWith(p, Path.read("/b"))).toBe(false)
    expect(Path.show(Path.drop(p, 1))).toBe("/b/c")
    expect(Path.show(Path.take(p, 2))).toBe("/a/b")
    expect(Path.show(Path.concat(p, Path.read("/d")))).toBe("/a/b/c/d")
    expect(Path.equals(Path.concat(Path.empty, p), p)).toBe(true)
  })
})

describe("Dentry and Dtab", () => {
  it("shows as Finagle does", () => {
    expect(Dtab.show(Dtab.read("/a => /b; /c => /d"))).toBe("/a=>/b;/c=>/d")
    expect(Dtab.show(Dtab.read("/a => 0.3 * /b & 0.7 * /c | ~;"))).toBe("/a=>0.30*/b & 0.70*/c | ~")
    expect(Dentry.show(Dentry.parseUnsafe("/svc/* => /#/io.l5d.fs"))).toBe("/svc/*=>/#/io.l5d.fs")
  })

  it("E13: empty prefixes, empty dtab, trailing semicolon", () => {
    const d = Dentry.parseUnsafe("/=>!")
    expect(d.prefix).toEqual([])
    expect(d.dst).toEqual(NameTree.fail)
    expect(Dentry.parseUnsafe("/ => !")).toEqual(d)
    expect(Dtab.read("").dentries).toEqual([])
    expect(Dtab.read("  # only a comment\n").dentries).toEqual([])
    expect(Dtab.read("/=>!;").dentries.length).toBe(1)
  })

  it("rejects a wildcard that is not a whole segment, and missing separators", () => {
    expect(Result.isFailure(Dtab.parse("/foo/*bar/baz => !"))).toBe(true)
    expect(message(Dtab.parse("/a=>/b /c=>/d"))).toBe("';' expected but '/' found at '/a=>/b [/]c=>/d'")
    expect(message(Dtab.parse("/a=>"))).toContain("'/a=>[]'")
  })

  it("E14: comments", () => {
    const text = `
      # a comment
      /#foo => /biz  # another comment
               | ( /bliz & # yet another
                   /bluth ) # and finally
      # end
    `
    const d = Dtab.read(text)
    expect(d.dentries.length).toBe(1)
    expect(Dentry.show(d.dentries[0]!)).toBe("/#foo=>/biz | /bliz & /bluth")
    expect(Dtab.equals(d, Dtab.read("/#foo => /biz | (/bliz & /bluth)"))).toBe(true)
  })

  it("E1: wildcard lookup appends the suffix", () => {
    expect(NameTree.show(Dtab.lookup(Dtab.read("/a/*/c => /d"), Path.read("/a/b/c/e/f")))).toBe("/d/e/f")
    expect(Dtab.lookup(Dtab.read("/a/*/c => /d"), Path.read("/a/b"))).toEqual(NameTree.neg)
  })

  it("lookup collects every match, last first", () => {
    const d = Dtab.read("/a=>/x;/b=>/y;/a/b=>/z | ~;/=>/all")
    expect(NameTree.show(Dtab.lookup(d, Path.read("/a/b/c")))).toBe("/all/a/b/c | (/z/c | ~) | /x/b/c")
  })

  it("E2: concatenation keeps order", () => {
    const d = Dtab.concat(Dtab.read("/foo => /bar"), Dtab.read("/foo=>/biz;/biz=>/$/inet/8080;/bar=>/$/inet/9090"))
    expect(Dtab.equals(d, Dtab.read("/foo=>/bar; /foo=>/biz; /biz=>/$/inet/8080; /bar=>/$/inet/9090"))).toBe(true)
    expect(Dtab.concat(Dtab.empty, d)).toBe(d)
  })
})

describe("NameTree", () => {
  it("E13: parser precedence and weights", () => {
    expect(NameTree.read("! | ~ | $")).toEqual(NameTree.alt(NameTree.fail, NameTree.neg, NameTree.empty))
    const t = NameTree.read("1 * /foo & 2 * /bar | .5 * /bar & .5 * /baz")
    const leaf = (s: string) => NameTree.leaf(Path.read(s))
    expect(t).toEqual(NameTree.alt(
      NameTree.union(NameTree.weighted(leaf("/foo"), 1), NameTree.weighted(leaf("/bar"), 2)),
      NameTree.union(NameTree.weighted(leaf("/bar"), 0.5), NameTree.weighted(leaf("/baz"), 0.5))
    ))
    expect(NameTree.read("/foo & /bar | /bar & /baz")._tag).toBe("Alt")
  })

  it("number and dangling-operator errors", () => {
    for (const bad of ["0.1.2 * /bar", ". * /bar", "/foo &", "/foo |", "#", "(/a", "/a)", "3 /a"]) {
      expect(Result.isFailure(NameTree.parse(bad)), bad).toBe(true)
    }
    expect(message(NameTree.parse("0.1.2 * /bar"))).toBe("'*' expected but '.' found at '0.1[.]2 * /bar'")
  })

  it("E23: rendering", () => {
    expect(NameTree.show(NameTree.read("0.3 * /a & 0.7 * /b"))).toBe("0.30*/a & 0.70*/b")
    expect(NameTree.show(NameTree.read("/a | (/b & /c)"))).toBe("/a | /b & /c")
    expect(NameTree.show(NameTree.read("(/a | /b) & /c"))).toBe("(/a | /b) & /c")
    expect(NameTree.show(NameTree.read("(/a | /b) | /c"))).toBe("(/a | /b) | /c")
    expect(NameTree.show(NameTree.read("(/a & /b) & /c"))).toBe("(/a & /b) & /c")
  })

  const evalShow = (text: string): string => {
    const r = NameTree.evaluate(NameTree.read(text))
    return r === undefined ? "None" : `{${r.map(Path.show).join(",")}}`
  }

  it("E7: eval and simplify", () => {
    const table: Array<[string, string]> = [
      ["~", "None"],
      ["/ok", "{/ok}"],
      ["/ok & /ok1", "{/ok,/ok1}"],
      ["/ok & ~ & /blah & $", "{/ok,/blah}"],
      ["$ & $ & $", "{}"],
      ["~ & ~ & (~ | ~)", "None"],
      ["~ | /foo | /bar", "{/foo}"],
      ["~ | $ | /blah", "{}"],
      ["~ | (~ | $) | /blah", "{}"],
      ["(~|$|/foo) & (/bar|/blah) & ~ & /FOO", "{/bar,/FOO}"],
      ["! | /ok", "None"],
      ["/ok & !", "{/ok}"],
      ["! & ! & !", "None"],
      ["~ | /ok | !", "{/ok}"]
    ]
    for (const [text, expected] of table) {
      expect(evalShow(text), text).toBe(expected)
      const simplified = NameTree.simplify(NameTree.read(text))
      const r = NameTree.evaluate(simplified)
      expect(r === undefined ? "None" : `{${r.map(Path.show).join(",")}}`, `simplified ${text}`).toBe(expected)
    }
  })

  it("simplify", () => {
    expect(NameTree.simplify(NameTree.alt())).toEqual(NameTree.neg)
    expect(NameTree.simplify(NameTree.union())).toEqual(NameTree.neg)
    expect(NameTree.show(NameTree.simplify(NameTree.read("~ | /a | ! | /b")))).toBe("/a | !")
    expect(NameTree.show(NameTree.simplify(NameTree.read("3 * /a & ~ & !")))).toBe("/a")
  })
})

// Property tests: trees, paths and dtabs are built deterministically from generated integer seeds.
const Seed = Schema.Array(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 1_000_000 })))

const builder = (seed: ReadonlyArray<number>) => {
  let i = 0
  const next = (n: number) => (seed.length === 0 ? 0 : seed[i++ % seed.length]! + i) % n
  const showable = "abcXYZ019_:.#$%-"
  const label = (): string => {
    const len = 1 + next(4)
    let s = ""
    for (let k = 0; k < len; k++) {
      s += next(5) === 0 ? String.fromCharCode(next(256)) : showable[next(showable.length)]!
    }
    return s
  }
  const path = (): Path.Path => Path.fromLabels(Array.from({ length: next(4) }, label))
  const tree = (depth: number): NameTree.NameTree<Path.Path> => {
    const k = next(depth >= 3 ? 4 : 6)
    if (k === 0) return NameTree.neg
    if (k === 1) return NameTree.fail
    if (k === 2) return NameTree.empty
    if (k === 3) return NameTree.leaf(path())
    const n = 2 + next(2)
    if (k === 4) return NameTree.alt(...Array.from({ length: n }, () => tree(depth + 1)))
    return NameTree.union(...Array.from({ length: n }, () => NameTree.weighted(tree(depth + 1), 1 + next(5))))
  }
  const dtab = (): Dtab.Dtab =>
    Dtab.make(Array.from({ length: next(4) }, () =>
      Dentry.make(
        Array.from(
          { length: next(4) },
          (): Dentry.Elem => next(4) === 0 ? { _tag: "Any" } : { _tag: "Label", value: label() }
        ),
        tree(0)
      )))
  return { path, tree, dtab }
}

describe("round trips", () => {
  it.prop("Path: parse(show(p)) == p", [Seed], ([seed]) => {
    const p = builder(seed).path()
    expect(Path.read(Path.show(p))).toEqual(p)
  })

  it.prop("NameTree: parse(show(t)) == t", [Seed], ([seed]) => {
    const t = builder(seed).tree(0)
    expect(NameTree.read(NameTree.show(t))).toEqual(t)
  })

  it.prop("Dtab: parse(show(d)) == d", [Seed], ([seed]) => {
    const d = builder(seed).dtab()
    expect(Dtab.equals(Dtab.read(Dtab.show(d)), d)).toBe(true)
  })
})
