import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { TestConsole } from "effect/testing"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { loadConfig } from "../../src/cli/ConfigFile.js"
import * as Namers from "../../src/config/namer/index.js"

const withFile = <A, E>(text: string, f: (file: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "weir-check-"))
      const file = nodePath.join(dir, "weir.yaml")
      fs.writeFileSync(file, text)
      return { dir, file }
    }),
    ({ file }) => f(file),
    ({ dir }) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )

describe("weir check", () => {
  it.effect("accepts a config that can run here", () =>
    Effect.gen(function*() {
      const config = yield* loadConfig("examples/configs/path-routing.yaml")
      expect(config.routers.length).toBeGreaterThan(0)
    }).pipe(Effect.provide(TestConsole.layer)))

  it.effect("lists every problem from one pass, unavailable kinds and this machine's included", () =>
    Effect.gen(function*() {
      const text = `
namers:
- {kind: io.l5d.rancher, bogus: 1}
routers:
- protocol: http
  servers: [{}]
  client: {loadBalancer: {kind: heap, maxEffort: 3}}
  interpreter: {kind: io.l5d.fs}
telemetry: [{kind: io.l5d.recentRequests}]
`
      const e = yield* Effect.flip(withFile(text, loadConfig))
      expect(e.code).toBe(1)
      const err = (yield* TestConsole.errorLines).join("\n")
      expect(err.split("\n").slice(1)).toEqual([
        `namers[0].kind: namer kind io.l5d.rancher is not available in this version of weir (available: ${
          Namers.registry.kinds.join(", ")
        })`,
        "namers[0].bogus: unknown key",
        "routers[0].client.loadBalancer.maxEffort: unknown key",
        "routers[0].interpreter.dtabFile: missing required key",
        "telemetry[0].sampleRate: missing required key"
      ])
      expect(err).toMatch(/: 5 problems\n/)

      yield* withFile(
        `namers: [{kind: io.l5d.fs, rootDir: /nonexistent/weir-disco}]\nrouters: [{protocol: http, servers: [{}]}]`,
        (file) => Effect.flip(loadConfig(file))
      )
      expect((yield* TestConsole.errorLines).join("\n")).toContain(
        "namers[0].rootDir: /nonexistent/weir-disco is not a directory"
      )
    }).pipe(Effect.provide(TestConsole.layer)))
})
