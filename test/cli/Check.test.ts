import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { TestConsole } from "effect/testing"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { loadConfig } from "../../src/cli/Check.js"
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
  interpreter: {kind: io.l5d.namerd, dst: /$/inet/127.1/4100}
telemetry: [{kind: io.l5d.zipkin}]
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
        "routers[0].interpreter.kind: interpreter kind io.l5d.namerd is not available in this version of weir (available: default, io.l5d.namerd.http, io.l5d.fs)",
        "telemetry[0].kind: telemeter kind io.l5d.zipkin is not available in this version of weir (available: io.l5d.prometheus, io.l5d.influxdb, io.l5d.statsd)"
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
