import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { Address, Dtab, Interpreter, Name, NameTree, Path } from "../../src/index.js"
import * as Fs from "../../src/namers/Fs.js"
import { showBound } from "../naming/helpers.js"
import { waitFor } from "../support/poll.js"

describe("Fs.parseFile", () => {
  it("reads host port [weight] lines, comments and blanks", () => {
    const r = Fs.parseFile("# header\n127.0.0.1 8080\n\n  10.0.0.2   9090  2.5 # heavy\nhost.local 80 * 3\n")
    expect(r.errors).toEqual([])
    expect(r.addresses.map((a) => `${Address.key(a)}*${a.weight}`)).toEqual([
      "127.0.0.1:8080*1",
      "10.0.0.2:9090*2.5",
      "host.local:80*3"
    ])
  })

  it("skips malformed lines with their line numbers, keeping the rest", () => {
    const r = Fs.parseFile("127.0.0.1 8080\nnoport\n127.0.0.1 99999\n127.0.0.1 80 x\n127.0.0.1 81 1 2\n10.0.0.1 81\n")
    expect(r.addresses.map(Address.key)).toEqual(["127.0.0.1:8080", "10.0.0.1:81"])
    expect(r.errors.map((e) => e.line)).toEqual([2, 3, 4, 5])
  })
})

const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(nodePath.join(os.tmpdir(), "weir-fs-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** Follows a binding and the addresses of its leaf. */
const follow = (interp: Interpreter.NameInterpreter, dtab: string, path: string) =>
  Effect.gen(function*() {
    const state = { tree: "", addrs: "" }
    yield* interp.bind(Dtab.read(dtab), Path.read(path)).pipe(
      Stream.tap((t) => Effect.sync(() => (state.tree = showBound(t)))),
      Stream.switchMap((t) =>
        t._tag === "Leaf" ? Name.addresses(t.value) : Name.constant<ReadonlyArray<Address.Address>>([])
      ),
      Stream.runForEach((xs) => Effect.sync(() => (state.addrs = xs.map(Address.key).join(",")))),
      Effect.forkChild
    )
    return state
  })

describe("io.l5d.fs on real files", () => {
  it.live("creating, editing, atomically renaming over and deleting a file reach subscribers", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const staging = yield* tempDir
      const namer = yield* Fs.make({ rootDir: dir, rescanInterval: "200 millis" })
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/io.l5d.fs"), namer]] })
      const s = yield* follow(interp, "/svc=>/#/io.l5d.fs", "/svc/users/extra")
      yield* waitFor(() => s.tree === "~", "Neg before the file exists")

      fs.writeFileSync(nodePath.join(dir, "users"), "127.0.0.1 8080\n")
      yield* waitFor(() => s.addrs === "127.0.0.1:8080", "created file")
      expect(s.tree).toBe("/#/io.l5d.fs/users(/extra)")

      fs.appendFileSync(nodePath.join(dir, "users"), "127.0.0.1 8081\n")
      yield* waitFor(() => s.addrs === "127.0.0.1:8080,127.0.0.1:8081", "edited file")

      fs.writeFileSync(nodePath.join(staging, "users.new"), "127.0.0.2 9000\n")
      fs.renameSync(nodePath.join(staging, "users.new"), nodePath.join(dir, "users"))
      yield* waitFor(() => s.addrs === "127.0.0.2:9000", "atomic rename")

      fs.writeFileSync(nodePath.join(dir, "users"), "")
      yield* waitFor(() => s.addrs === "", "emptied file")
      expect(s.tree).toBe("/#/io.l5d.fs/users(/extra)")

      fs.unlinkSync(nodePath.join(dir, "users"))
      yield* waitFor(() => s.tree === "~", "deleted file")
    }))

  it.live("without file events, the periodic rescan still delivers changes", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const namer = yield* Fs.make({ rootDir: dir, rescanInterval: "100 millis", fileEvents: false })
      const interp = yield* Interpreter.make({ namers: [[Path.read("/#/io.l5d.fs"), namer]] })
      const s = yield* follow(interp, "/svc=>/#/io.l5d.fs", "/svc/users")
      yield* waitFor(() => s.tree === "~", "Neg before the file exists")
      fs.writeFileSync(nodePath.join(dir, "users"), "127.0.0.1 1 3\n")
      yield* waitFor(() => s.addrs === "127.0.0.1:1", "rescanned file")
      fs.rmSync(nodePath.join(dir, "users"))
      yield* waitFor(() => s.tree === "~", "rescanned deletion")
    }))

  it.live("sub-directories nest; a Neg file falls back; malformed lines are logged with file:line", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const logs: Array<string> = []
      fs.mkdirSync(nodePath.join(dir, "eu"))
      fs.writeFileSync(nodePath.join(dir, "eu", "web"), "127.0.0.1 1\nnot an address line\n127.0.0.1 2\n")
      fs.writeFileSync(nodePath.join(dir, "fallback"), "127.0.0.9 9\n")
      const program = Effect.gen(function*() {
        const namer = yield* Fs.make({ rootDir: dir })
        const interp = yield* Interpreter.make({ namers: [[Path.read("/#/io.l5d.fs"), namer]] })
        const web = yield* follow(interp, "/svc=>/#/io.l5d.fs", "/svc/eu/web")
        yield* waitFor(() => web.addrs === "127.0.0.1:1,127.0.0.1:2", "nested file")
        expect(web.tree).toBe("/#/io.l5d.fs/eu/web")
        expect(logs.some((l) => l.includes(`${nodePath.join(dir, "eu", "web")}:2`))).toBe(true)
        const alt = yield* follow(interp, "/svc=>/#/io.l5d.fs/missing | /#/io.l5d.fs/fallback", "/svc")
        yield* waitFor(() => alt.addrs === "127.0.0.9:9", "fallback")
        fs.writeFileSync(nodePath.join(dir, "missing"), "127.0.0.3 3\n")
        yield* waitFor(() => alt.addrs === "127.0.0.3:3", "preferred file appears")
        const escape = yield* Interpreter.bindOnce(interp, Dtab.empty, Path.read("/#/io.l5d.fs/\\x2e\\x2e/etc"))
        expect(escape).toEqual(NameTree.neg)
      })
      yield* program.pipe(
        Effect.provideService(Logger.CurrentLoggers, new Set([Logger.make((o) => logs.push(String(o.message)))]))
      )
    }))
})
