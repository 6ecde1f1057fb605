import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Command } from "effect/cli"
import * as Effect from "effect/Effect"
import { TestConsole } from "effect/testing"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { delegateText, dtab, showText } from "../../src/cli/Dtab.js"

const runCli = (...args: Array<string>) =>
  Command.runWith(dtab, { version: "test" })(args).pipe(
    Effect.provide(NodeServices.layer),
    Effect.provide(TestConsole.layer),
    Effect.exit
  )

describe("weir dtab", () => {
  it.effect("show prints the dtab as Finagle does", () =>
    Effect.gen(function*() {
      expect(yield* showText("/a => /b; # comment\n /c => 0.3 * /d & 0.7 * /e;")).toBe("/a=>/b;/c=>0.30*/d & 0.70*/e")
    }))

  it.effect("show fails with the positioned message", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(showText("/a => /b /c"))
      expect(e.message).toBe("Invalid dtab: ';' expected but '/' found at '/a => /b [/]c'")
      expect(e.code).toBe(1)
    }))

  it.effect("the command prints to stdout, and errors to stderr with a failing exit", () =>
    Effect.gen(function*() {
      const ok = yield* Effect.gen(function*() {
        const exit = yield* Command.runWith(dtab, { version: "test" })(["show", "/a=>/b"]).pipe(
          Effect.provide(NodeServices.layer),
          Effect.exit
        )
        return { exit, logs: yield* TestConsole.logLines }
      }).pipe(Effect.provide(TestConsole.layer))
      expect(ok.exit._tag).toBe("Success")
      expect(ok.logs).toEqual(["/a=>/b"])
      const bad = yield* runCli("show", "/a=>")
      expect(bad._tag).toBe("Failure")
    }))

  it.effect("delegate with --dtab uses the system namers", () =>
    Effect.gen(function*() {
      const json = JSON.parse(yield* delegateText({ dtab: "/svc => /$/inet/127.1/8080", path: "/svc/users" }))
      expect(json).toMatchObject({
        type: "delegate",
        path: "/svc/users",
        delegate: { type: "leaf", bound: { id: "/$/inet/127.1/8080", path: "/users" } }
      })
      const e = yield* Effect.flip(delegateText({ dtab: "", path: "svc" }))
      expect(e.message).toBe("Invalid path: '/' expected but 's' found at '[s]vc'")
    }))

  it.live("delegate with --config adds the config's namers and the router's dtab", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "weir-cli-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
      fs.mkdirSync(nodePath.join(dir, "disco"))
      fs.writeFileSync(nodePath.join(dir, "disco", "users"), "127.0.0.1 9001\n")
      const config = nodePath.join(dir, "linkerd.yaml")
      fs.writeFileSync(
        config,
        [
          "namers:",
          "- kind: io.l5d.fs",
          `  rootDir: ${nodePath.join(dir, "disco")}`,
          "routers:",
          "- protocol: http",
          "  label: web",
          "  dtab: /svc => /#/io.l5d.fs",
          "  servers:",
          "  - port: 4140",
          ""
        ].join("\n")
      )
      const json = JSON.parse(yield* delegateText({ config, router: "web", path: "/svc/users" }))
      expect(json).toMatchObject({
        type: "delegate",
        delegate: {
          type: "leaf",
          path: "/#/io.l5d.fs/users",
          dentry: { prefix: "/svc", dst: "/#/io.l5d.fs" },
          bound: { id: "/#/io.l5d.fs/users", addr: { type: "bound", addrs: [{ ip: "127.0.0.1", port: 9001 }] } }
        }
      })
      const override = JSON.parse(
        yield* delegateText({ config, path: "/svc/users", dtab: "/svc/users => /$/inet/127.0.0.1/1" })
      )
      expect(override).toMatchObject({ type: "alt", alt: [{ type: "leaf" }, { type: "leaf" }] })
      expect(override.alt[0].bound.id).toBe("/$/inet/127.0.0.1/1")
      const e = yield* Effect.flip(delegateText({ config, router: "nope", path: "/svc/users" }))
      expect(e.message).toContain("no router labelled nope")
    }))
})
