import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Command } from "effect/cli"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { TestConsole } from "effect/testing"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { namerctl } from "../../src/cli/Namerctl.js"
import * as NamerdConfig from "../../src/namerd/Config.js"
import * as Namerd from "../../src/namerd/Namerd.js"
import { request } from "./support.js"

const startNamerd = Effect.gen(function*() {
  const r = NamerdConfig.decode({
    admin: { port: 0 },
    storage: { kind: "io.l5d.inMemory", namespaces: { default: "/svc => /#/io.l5d.fs" } },
    interfaces: [{ kind: "io.l5d.httpController", port: 0 }]
  })
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return (yield* Namerd.make(r.success)).interfaces[0]!.port
})

const run = (...args: Array<string>) =>
  Effect.gen(function*() {
    const exit = yield* Command.runWith(namerctl, { version: "test" })(args).pipe(
      Effect.provide(NodeServices.layer),
      Effect.exit
    )
    return {
      exit: exit._tag,
      out: (yield* TestConsole.logLines).join("\n"),
      err: (yield* TestConsole.errorLines).join("\n")
    }
  }).pipe(Effect.provide(TestConsole.layer))

const file = (text: string) => {
  const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "weir-namerctl-"))
  const f = nodePath.join(dir, "dtab")
  fs.writeFileSync(f, text)
  return f
}

describe("weir namerctl dtab", () => {
  it.live("list, get, create, update (with the version it read) and delete", () =>
    Effect.gen(function*() {
      const port = yield* startNamerd
      const base = ["--base-url", `http://127.0.0.1:${port}`]
      expect((yield* run("dtab", "list", ...base)).out).toBe("default")
      const got = yield* run("dtab", "get", ...base, "default")
      expect(got.exit).toBe("Success")
      expect(got.out).toMatch(/^# version \S+\n\/svc=>\/#\/io\.l5d\.fs;$/)

      expect((yield* run("dtab", "create", ...base, "canary", file("/svc/books => /#/io.l5d.fs/books-v2"))).out)
        .toBe("created canary")
      const dup = yield* run("dtab", "create", ...base, "canary", file("/a=>/b"))
      expect(dup.exit).toBe("Failure")
      expect(dup.err).toContain("already exists")

      expect((yield* run("dtab", "update", ...base, "default", file("/svc => /#/io.l5d.fs/v2"))).out)
        .toBe("updated default")
      const after = (yield* run("dtab", "get", ...base, "default")).out
      expect(after).toContain("/svc=>/#/io.l5d.fs/v2;")

      const version = got.out.split("\n")[0]!.slice("# version ".length)
      const stale = yield* run("dtab", "update", ...base, "--version", version, "default", file("/svc => /lost"))
      expect(stale.exit).toBe("Failure")
      expect(stale.err).toContain("was changed since version")
      expect((yield* request(port, "GET", "/api/1/dtabs/default", { headers: { accept: "application/dtab" } })).body)
        .toContain("/svc=>/#/io.l5d.fs/v2")

      const bad = yield* run("dtab", "update", ...base, "default", file("/svc => "))
      expect(bad.exit).toBe("Failure")
      expect(bad.err).toContain("invalid dtab")

      expect((yield* run("dtab", "delete", ...base, "canary")).out).toBe("deleted canary")
      const gone = yield* run("dtab", "get", ...base, "canary")
      expect(gone.exit).toBe("Failure")
      expect(gone.err).toContain("does not exist")
    }))

  it.live("says so when namerd cannot be reached", () =>
    Effect.gen(function*() {
      const r = yield* run("dtab", "list", "--base-url", "http://127.0.0.1:1")
      expect(r.exit).toBe("Failure")
      expect(r.err).toContain("cannot reach namerd at http://127.0.0.1:1")
    }))
})
