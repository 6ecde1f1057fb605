import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { Path } from "../../src/index.js"
import * as Fs from "../../src/namers/Fs.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(nodePath.join(os.tmpdir(), "weir-fs-state-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

const waitFor = <A>(get: Effect.Effect<A>, cond: (a: A) => boolean, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 150; i++) {
      const a = yield* get
      if (cond(a)) return a
      yield* Effect.sleep("20 millis")
    }
    throw new Error(`timed out waiting for ${what}`)
  })

const populate = (dir: string) => {
  fs.writeFileSync(nodePath.join(dir, "books"), "127.0.0.1 8080\n127.0.0.2 8081 * 2\n")
  fs.writeFileSync(nodePath.join(dir, "bad"), "127.0.0.1 8080\nnoport\n")
  fs.writeFileSync(nodePath.join(dir, ".books.swp"), "junk")
  fs.mkdirSync(nodePath.join(dir, "eu"))
  fs.writeFileSync(nodePath.join(dir, "eu", "users"), "")
  fs.mkdirSync(nodePath.join(dir, "empty"))
}

describe("io.l5d.fs enumerate and state", () => {
  it.live("enumerates the files under rootDir recursively, skipping hidden ones and directories", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      populate(dir)
      const namer = yield* Fs.make({ rootDir: dir, fileEvents: false })
      const ids = yield* namer.enumerate!
      expect(ids.map(Path.show)).toEqual(["/bad", "/books", "/eu/users"])
      fs.rmSync(nodePath.join(dir, "bad"))
      fs.writeFileSync(nodePath.join(dir, "eu", "orders"), "10.0.0.1 80\n")
      expect((yield* namer.enumerate!).map(Path.show)).toEqual(["/books", "/eu/orders", "/eu/users"])
    }))

  it.live("state shows rootDir, each file's addresses and malformed lines, and which are watched", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      populate(dir)
      const namer = yield* Fs.make({ rootDir: dir, fileEvents: false, rescanInterval: "20 millis" })
      const state = () => Effect.map(namer.state!, (s) => s as Fs.FsState)
      const first = yield* state()
      expect(first.rootDir).toBe(nodePath.resolve(dir))
      expect(first.error).toBeUndefined()
      expect(Object.keys(first.files)).toEqual(["/bad", "/books", "/eu/users"])
      expect(first.files["/books"]).toEqual({
        watched: false,
        addresses: [{ ip: "127.0.0.1", port: 8080, weight: 1 }, { ip: "127.0.0.2", port: 8081, weight: 2 }],
        errors: []
      })
      expect(first.files["/bad"]?.errors).toEqual([
        { line: 2, text: "noport", reason: "expected `host port [weight]`" }
      ])
      expect(first.files["/eu/users"]).toEqual({ watched: false, addresses: [], errors: [] })

      yield* namer.lookup(Path.read("/books")).pipe(Stream.runDrain, Effect.forkChild)
      yield* waitFor(state(), (s) => s.files["/books"]?.watched === true, "a watched file")
      fs.rmSync(nodePath.join(dir, "books"))
      const gone = yield* waitFor(state(), (s) => s.files["/books"]?.exists === false, "a deleted watched file")
      expect(gone.files["/books"]).toEqual({ watched: true, exists: false })
    }))

  it.live("a missing rootDir enumerates nothing and says why in its state", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const namer = yield* Fs.make({ rootDir: nodePath.join(dir, "nope") })
      expect(yield* namer.enumerate!).toEqual([])
      const s = (yield* namer.state!) as Fs.FsState
      expect(s.error).toContain("cannot be read: ENOENT")
      expect(s.files).toEqual({})
    }))
})
