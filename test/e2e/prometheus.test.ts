/**
 * weir's Prometheus exposition against Debian's real Prometheus: `promtool check metrics` finds every
 * family described, and a Prometheus server scraping the admin on loopback returns, through its query
 * API, the request counts this test sent. `.ci/run` installs the `prometheus` package when missing.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import type { AddressInfo } from "node:net"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { getUrl as get, textBackend } from "../http/support.js"

const freePort = Effect.promise(() =>
  new Promise<number>((resolve) => {
    const s = net.createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as AddressInfo).port
      s.close(() => resolve(port))
    })
  })
)

/** A Prometheus server on loopback scraping `target` every second, stopped with the scope. */
const prometheus = (target: string) =>
  Effect.gen(function*() {
    const port = yield* freePort
    const dir = mkdtempSync(join(tmpdir(), "weir-prometheus-"))
    writeFileSync(
      join(dir, "prometheus.yml"),
      `global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
- job_name: weir
  metrics_path: /admin/metrics/prometheus
  static_configs: [{targets: ["${target}"]}]
`
    )
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn("prometheus", [
          `--config.file=${join(dir, "prometheus.yml")}`,
          `--storage.tsdb.path=${join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`
        ], { stdio: "ignore" })
      ),
      (c) =>
        Effect.sync(() => {
          c.kill("SIGKILL")
          rmSync(dir, { recursive: true, force: true })
        })
    )
    return { url: `http://127.0.0.1:${port}`, child }
  })

const setup = Effect.gen(function*() {
  const port = (yield* textBackend("ok")).port
  const parsed = Config.parse(`
admin: {port: 0}
routers:
- protocol: http
  label: web
  dtab: /svc => /$/inet/127.0.0.1/${port}
  servers: [{port: 0}]
telemetry:
- kind: io.l5d.prometheus
`)
  if (Result.isFailure(parsed)) throw new Error(JSON.stringify(parsed.failure))
  const linker = yield* Linker.make(parsed.success)
  return {
    web: `http://127.0.0.1:${linker.routers[0]!.servers[0]!.port}`,
    admin: `127.0.0.1:${linker.admin.port}`
  }
})

describe("Prometheus", () => {
  it.live("promtool finds every family described", () =>
    Effect.gen(function*() {
      const { admin, web } = yield* setup
      for (let i = 0; i < 3; i++) expect((yield* get(`${web}/`, { host: "books" })).status).toBe(200)
      const text = (yield* get(`http://${admin}/admin/metrics/prometheus`)).body
      const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" })
      const problems = `${check.stdout}${check.stderr}`.split("\n").filter((l) => l.trim() !== "")
      // linkerd's names are kept (`rt:client:requests`, `…_ms`): promtool's naming lints about colons,
      // abbreviated units and a `_total` suffix are expected; anything else (no help text, bad
      // format, duplicate families) fails
      const naming = /should not contain ':'|should not contain abbreviated units|should have "_total" suffix/
      expect(check.error).toBeUndefined()
      expect(problems.filter((l) => !naming.test(l))).toEqual([])
      expect(text).toContain("# TYPE rt:server:requests counter")
    }))

  it.live("a real Prometheus scrapes the admin and returns the requests sent", () =>
    Effect.gen(function*() {
      const { admin, web } = yield* setup
      for (let i = 0; i < 5; i++) expect((yield* get(`${web}/`, { host: "books" })).status).toBe(200)
      const server = yield* prometheus(admin)
      const query = `${server.url}/api/v1/query?query=${encodeURIComponent("sum(rt:service:requests)")}`
      let value: string | undefined
      for (let i = 0; i < 300 && value !== "5"; i++) {
        yield* Effect.sleep("100 millis")
        const r = yield* get(query).pipe(Effect.orElseSucceed(() => ({ status: 0, body: "" })))
        if (r.status !== 200) continue
        const result = (JSON.parse(r.body) as { data: { result: Array<{ value: [number, string] }> } }).data.result
        value = result[0]?.value[1]
      }
      expect(value).toBe("5")
    }), 60_000)
})
