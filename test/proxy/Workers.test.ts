import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import * as Config from "../../src/proxy/Config.js"
import * as Workers from "../../src/proxy/Workers.js"

const parse = (text: string): Config.Config => {
  const r = Config.parse(text)
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return r.success
}

const base = `
admin: {port: 9990}
routers:
- protocol: http
  label: web
  servers: [{port: 0}, {port: 4141, socketOptions: {backlog: 10}}]
telemetry:
- kind: io.l5d.prometheus
- kind: io.l5d.statsd
  experimental: true
`

describe("workers (config)", () => {
  it("defaults to 1; auto is the cores; a number is taken as it is", () => {
    expect(parse(base).workers).toBe(1)
    expect(Workers.count(parse(base).workers)).toBe(1)
    expect(Workers.count(parse(`workers: auto\n${base}`).workers, 6)).toBe(6)
    expect(Workers.count(parse(`workers: 3\n${base}`).workers, 6)).toBe(3)
    expect(Workers.count(undefined)).toBe(1)
  })

  it("rejects what is not auto or a positive integer, with the location", () => {
    for (const bad of ["0", "-2", "1.5", "many", "1000"]) {
      const r = Config.parse(`workers: ${bad}\n${base}`)
      expect(Result.isFailure(r)).toBe(true)
      if (Result.isFailure(r)) expect(r.failure[0]!.path).toBe("workers")
    }
  })

  it("a worker's config: reusePort everywhere, worker 0's ports, admin and statsd in worker 0 only", () => {
    const c = parse(`workers: 2\n${base}`)
    const ports = { servers: [[40001, 4141]], admin: 9990 }
    const w0 = Workers.forWorker(c, 0, undefined)
    expect(w0.routers[0]!.servers.map((s) => s.socketOptions?.reusePort)).toEqual([true, true])
    expect(w0.routers[0]!.servers[1]!.socketOptions?.backlog).toBe(10)
    expect(w0.routers[0]!.servers[0]!.port).toBe(0)
    expect(w0.admin.port).toBe(9990)
    expect(w0.telemetry.map((t) => t.kind)).toEqual(["io.l5d.prometheus", "io.l5d.statsd"])
    const w1 = Workers.forWorker(c, 1, ports)
    expect(w1.routers[0]!.servers.map((s) => s.port)).toEqual([40001, 4141])
    expect(w1.admin).toMatchObject({ ip: "127.0.0.1", port: 0 })
    expect(w1.telemetry.map((t) => t.kind)).toEqual(["io.l5d.prometheus"])
    expect(Workers.describe(c, ports)).toBe("web on 127.0.0.1:40001, web on 127.0.0.1:4141")
  })
})
