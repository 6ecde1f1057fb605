import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Namers from "../../src/config/namer/index.js"
import * as Problems from "../../src/config/Problems.js"
import { Dtab, Interpreter, Path } from "../../src/index.js"
import * as Rewrite from "../../src/namers/Rewrite.js"
import * as PathMatcher from "../../src/naming/PathMatcher.js"
import * as Validate from "../../src/proxy/Validate.js"
import { addresses } from "../naming/helpers.js"

const options = (pattern: string, name: string): Rewrite.Options => ({
  pattern: PathMatcher.parseUnsafe(pattern),
  name
})

describe("io.l5d.rewrite", () => {
  it("substitutes the captures of pattern into name; no match is no answer", () => {
    const o = options("/{service}/api", "/srv/{service}")
    expect(Rewrite.rewrite(o, Path.read("/users/api/v1"))).toEqual(Result.succeed(Path.read("/srv/users")))
    expect(Rewrite.rewrite(o, Path.read("/users/web"))).toBeUndefined()
    expect(Rewrite.rewrite(o, Path.read("/users"))).toBeUndefined()
    const two = options("/{ns}/*/{svc}", "/#/io.l5d.fs/{svc}-{ns}")
    expect(Rewrite.rewrite(two, Path.read("/prod/http/web"))).toEqual(
      Result.succeed(Path.read("/#/io.l5d.fs/web-prod"))
    )
    expect(Result.isFailure(Rewrite.rewrite(options("/{a}", "no-slash-{a}"), Path.read("/x"))!)).toBe(true)
  })

  it.effect("its answer re-enters the dtab", () =>
    Effect.scoped(Effect.gen(function*() {
      const namer = Rewrite.make(options("/{service}/api", "/srv/{service}"))
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/rewrite"), namer]] })
      const dtab = Dtab.read("/svc => /#/rewrite; /srv/users => /$/inet/127.0.0.1/8080")
      const bound = yield* Interpreter.bindOnce(interp, dtab, Path.read("/svc/users/api"))
      expect(yield* addresses(bound)).toEqual(["127.0.0.1:8080"])
      const neg = yield* Interpreter.bindOnce(interp, dtab, Path.read("/svc/users/web"))
      expect(neg._tag).toBe("Neg")
    })))

  it("requires prefix, pattern and name, and checks the pattern", () => {
    const decode = (input: unknown) => {
      const r = Schema.decodeUnknownResult(Namers.registry.schema)(input, Problems.parseOptions)
      return Result.isSuccess(r) ? [] : Problems.problems(r.failure.issue).map((p) => `${p.path}: ${p.message}`)
    }
    expect(decode({ kind: "io.l5d.rewrite", pattern: "/{a}", name: "/b/{a}" })).toEqual([
      "prefix: missing required key"
    ])
    expect(decode({ kind: "io.l5d.rewrite", prefix: "/r", pattern: "/{a", name: "/b" })).toEqual([
      expect.stringMatching(/^pattern: .*unmatched "\{"/)
    ])
  })

  it("linkerd's rewriting example is accepted by weir check", () => {
    const r = Validate.check(`
namers:
- kind: io.l5d.rewrite
  prefix: /rewrite
  pattern: "/{service}/api"
  name: "/srv/{service}"
routers:
- protocol: http
  dtab: /svc => /#/rewrite
  servers: [{port: 0}]
`)
    expect(Result.isSuccess(r)).toBe(true)
  })
})
