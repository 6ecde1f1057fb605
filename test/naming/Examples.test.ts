import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import { Dtab, Interpreter, Path } from "../../src/index.js"
import { showBound } from "./helpers.js"

const dtabFiles = fs.readdirSync("examples/dtabs").filter((f) => f.endsWith(".dtab"))

describe("examples/dtabs", () => {
  it("has examples", () => expect(dtabFiles.length).toBeGreaterThanOrEqual(3))

  for (const file of dtabFiles) {
    it(`${file} parses and round-trips`, () => {
      const text = fs.readFileSync(nodePath.join("examples/dtabs", file), "utf8")
      const r = Dtab.parse(text)
      if (Result.isFailure(r)) throw new Error(`${file}: ${r.failure.message}`)
      expect(r.success.dentries.length).toBeGreaterThan(0)
      expect(Dtab.equals(Dtab.read(Dtab.show(r.success)), r.success)).toBe(true)
    })
  }

  it.effect("fallback.dtab binds /iceCreamStore to smitten's address", () =>
    Effect.gen(function*() {
      const interp = yield* Interpreter.make()
      const dtab = Dtab.read(fs.readFileSync("examples/dtabs/fallback.dtab", "utf8"))
      const t = yield* Interpreter.bindOnce(interp, dtab, Path.read("/iceCreamStore/try/allFlavors"))
      expect(showBound(t)).toBe("/$/inet/127.0.0.1/4320(/try/allFlavors)")
    }))
})

describe("examples/naming/bind.ts", () => {
  it.live("binds the weighted split through the fs namer", () =>
    Effect.gen(function*() {
      const { program } = yield* Effect.promise(() => import("../../examples/naming/bind.js"))
      // the fs namer reads its two files on its own; a loaded machine can bind before the second is
      // read (that branch still pending): bind again until both are there, a bounded number of times
      let r = yield* program
      for (let i = 0; i < 50 && r.leaves.length < 2; i++) {
        yield* Effect.sleep("20 millis")
        r = yield* program
      }
      expect(r.leaves).toEqual([
        { id: "/#/io.l5d.fs/users", addresses: ["127.0.0.1:7201", "127.0.0.1:7202"] },
        { id: "/#/io.l5d.fs/users-v2", addresses: ["127.0.0.1:7203"] }
      ])
      expect(r.explained).toMatchObject({ type: "alt", path: "/svc/users" })
    }))
})
