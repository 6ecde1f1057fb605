/**
 * The io.l5d.influxdb and io.l5d.statsd telemeters through a running proxy: the admin serves line
 * protocol at /admin/metrics/influxdb with the scrape's Host as the host tag, and statsd datagrams
 * reach a UDP listener on loopback.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as dgram from "node:dgram"
import type { AddressInfo } from "node:net"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { getUrl as get, textBackend } from "../http/support.js"
import { waitFor } from "../support/poll.js"

describe("telemeters", () => {
  it.live("io.l5d.influxdb and io.l5d.statsd report the requests a router served", () =>
    Effect.gen(function*() {
      const received: Array<string> = []
      const udp = dgram.createSocket("udp4")
      yield* Effect.addFinalizer(() => Effect.sync(() => void udp.close()))
      yield* Effect.callback<void>((resume) => {
        udp.bind(0, "127.0.0.1", () => resume(Effect.void))
      })
      udp.on("message", (m) => received.push(...m.toString("utf8").split("\n")))
      const port = (yield* textBackend("ok")).port
      const parsed = Config.parse(`
admin: {port: 0}
routers:
- protocol: http
  label: web
  dtab: /svc => /$/inet/127.0.0.1/${port}
  servers: [{port: 0}]
telemetry:
- kind: io.l5d.influxdb
- kind: io.l5d.statsd
  experimental: true
  port: ${(udp.address() as AddressInfo).port}
  gaugeIntervalMs: 50
  prefix: weir
`)
      if (Result.isFailure(parsed)) throw new Error(JSON.stringify(parsed.failure))
      const linker = yield* Linker.make(parsed.success)
      const web = `http://127.0.0.1:${linker.routers[0]!.servers[0]!.port}`
      for (let i = 0; i < 4; i++) expect((yield* get(`${web}/`, { host: "books" })).status).toBe(200)
      const admin = `127.0.0.1:${linker.admin.port}`
      const influx = yield* get(`http://${admin}/admin/metrics/influxdb`)
      expect(influx.status).toBe(200)
      const service = influx.body.split("\n").find((l) =>
        l.startsWith(`rt:service,host=${admin},rt=web,service=svc/books `)
      )
      expect(service).toMatch(/[ ,]requests=4(,|$)/)
      // counters go as increases per interval: they add up to the requests sent
      const sent = () =>
        received.filter((l) => l.startsWith("weir.rt.web.service.svc.books.requests:"))
          .reduce((n, l) => n + Number(/:(\d+)\|c$/.exec(l)![1]), 0)
      yield* waitFor(() => sent() === 4, "the statsd counters to add up to 4")
    }))

  it("io.l5d.statsd needs experimental: true", () => {
    const parsed = Config.parse(`
routers: [{protocol: http, servers: [{port: 0}]}]
telemetry: [{kind: io.l5d.statsd}]
`)
    expect(Result.isFailure(parsed) && parsed.failure).toEqual([{
      path: "telemetry[0].experimental",
      message: "io.l5d.statsd is experimental: set experimental: true to use it"
    }])
  })
})
