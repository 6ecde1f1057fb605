import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Linker from "../../src/proxy/Linker.js"
import * as Validate from "../../src/proxy/Validate.js"
import { echoBackend, echoClient, type Msg, rawBackend, unary } from "../h2/support.js"
import { waitFor } from "../support/poll.js"

/** Runs a command and returns its exit code, stdout and stderr (never fails). */
const run = (file: string, args: ReadonlyArray<string>) =>
  Effect.callback<{ readonly code: number; readonly stdout: string; readonly stderr: string }>((resume) => {
    execFile(file, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1
      resume(Effect.succeed({ code, stdout, stderr }))
    })
  })

const linkerOf = (text: string) =>
  Effect.gen(function*() {
    const checked = Validate.check(text)
    if (Result.isFailure(checked)) throw new Error(checked.failure.map((p) => `${p.path}: ${p.message}`).join("\n"))
    return yield* Linker.make(checked.success)
  })

/** A backend answering `hello <authority> <path>` with a trailer `x-checksum: 42`. */
const helloBackend = rawBackend((stream, headers) => {
  stream.respond({ ":status": 200, "content-type": "text/plain" }, { waitForTrailers: true })
  stream.on("wantTrailers", () => stream.sendTrailers({ "x-checksum": "42" }))
  stream.end(`hello ${String(headers[":authority"])} ${String(headers[":path"])}`)
})

describe("h2 routers from a config file, driven by curl and nghttp", () => {
  it.live("curl --http2-prior-knowledge and nghttp go through an h2c router; trailers reach them", () =>
    Effect.gen(function*() {
      const backend = yield* helloBackend
      const linker = yield* linkerOf(`
admin: {port: 0}
routers:
- protocol: h2
  dtab: /svc/app => /$/inet/127.0.0.1/${backend.port}
  servers: [{port: 0, maxConcurrentStreamsPerConnection: 50}]
`)
      const port = linker.routers[0]!.servers[0]!.port
      const curl = yield* run("curl", [
        "-sS",
        "-v",
        "--http2-prior-knowledge",
        "-H",
        "Host: app",
        `http://127.0.0.1:${port}/greet?x=1`
      ])
      expect(curl.code).toBe(0)
      expect(curl.stdout).toBe("hello app /greet?x=1")
      expect(curl.stderr).toMatch(/< HTTP\/2 200/)
      expect(curl.stderr).toMatch(/< l5d-success-class: 1\.0/)
      expect(curl.stderr).toMatch(/< x-checksum: 42/)

      const nghttp = yield* run("nghttp", ["-v", "-H", ":authority: app", `http://127.0.0.1:${port}/n`])
      expect(nghttp.code).toBe(0)
      expect(nghttp.stdout).toContain("hello app /n")
      expect(nghttp.stdout).toMatch(/SETTINGS_MAX_CONCURRENT_STREAMS\(0x03\):50/)
      expect(nghttp.stdout).toMatch(/x-checksum: 42/)

      // an unknown authority: linkerd's no-route answer, over HTTP/2
      const miss = yield* run("curl", [
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--http2-prior-knowledge",
        "-H",
        "Host: nope",
        `http://127.0.0.1:${port}/`
      ])
      expect(miss.stdout).toBe("502")
    }))

  it.live("a gRPC service behind an h2 router from a config file, with a gRPC classifier", () =>
    Effect.gen(function*() {
      const backend = yield* echoBackend("b1")
      const linker = yield* linkerOf(`
admin: {port: 0}
routers:
- protocol: h2
  label: grpc
  dtab: /svc/echo => /$/inet/127.0.0.1/${backend.port}
  servers: [{port: 0}]
  service:
    responseClassifier: {kind: io.l5d.h2.grpc.default}
`)
      const port = linker.routers[0]!.servers[0]!.port
      const client = yield* echoClient(port, "echo")
      backend.failNext = 1
      const r = yield* unary(client, { text: "flaky" })
      expect(r.code).toBe(0)
      expect(linker.registry.counterValue("rt/grpc/service/svc/echo/retries/total")).toBe(1)
    }))

  it.live("the balancer counts an open stream as load until it ends, not until its headers", () =>
    Effect.gen(function*() {
      const b1 = yield* echoBackend("b1")
      const b2 = yield* echoBackend("b2")
      const dir = mkdtempSync(join(tmpdir(), "weir-h2-"))
      writeFileSync(join(dir, "echo"), `127.0.0.1 ${b1.port}\n127.0.0.1 ${b2.port}\n`)
      const linker = yield* linkerOf(`
admin: {port: 0}
namers:
- kind: io.l5d.fs
  rootDir: ${dir}
routers:
- protocol: h2
  label: grpc
  dtab: /svc => /#/io.l5d.fs
  servers: [{port: 0}]
`)
      const port = linker.routers[0]!.servers[0]!.port
      const client = yield* echoClient(port, "echo")
      const load = () => linker.registry.gaugeValues().get("rt/grpc/client/#/io.l5d.fs/echo/loadbalancer/load")
      // a server stream that goes on until cancelled: its response headers came long ago
      const stream = client.ServerStream({ n: -1 })
      stream.on("error", () => {})
      const first = yield* Effect.callback<string>((resume) => {
        stream.once("data", (m: Msg) => resume(Effect.succeed(m.text)))
      })
      const other = first === "b1" ? "b2" : "b1"
      const texts: Array<string> = []
      for (let i = 0; i < 20; i++) {
        // only the open stream is in flight (the previous call's stream has closed too)
        yield* waitFor(() => load() === 1, "the load of the open stream alone")
        texts.push((yield* unary(client, { text: "u" })).reply!.text)
      }
      expect(texts).toEqual(Array.from({ length: 20 }, () => `${other}:u`))
      stream.cancel()
      yield* waitFor(() => load() === 0, "the load to drop once the stream ends")
    }))

  it.live("windowUpdateRatio: node returns a stream's and the connection's window once half of it is read (nghttp -v)", () =>
    Effect.gen(function*() {
      // a backend that reads the whole request body before answering
      const backend = yield* rawBackend((stream) => {
        stream.resume()
        stream.on("end", () => {
          stream.respond({ ":status": 200 })
          stream.end("read")
        })
      })
      const linker = yield* linkerOf(`
admin: {port: 0}
routers:
- protocol: h2
  dtab: /svc/app => /$/inet/127.0.0.1/${backend.port}
  servers: [{port: 0, initialStreamWindowBytes: 65535, windowUpdateRatio: 0.99}]
`)
      const port = linker.routers[0]!.servers[0]!.port
      const dir = mkdtempSync(join(tmpdir(), "weir-h2-body-"))
      const file = join(dir, "body")
      const size = 320 * 1024
      writeFileSync(file, Buffer.alloc(size, 7))
      const nghttp = yield* run("nghttp", ["-v", "-H", ":authority: app", "-d", file, `http://127.0.0.1:${port}/up`])
      rmSync(dir, { recursive: true, force: true })
      expect(nghttp.code).toBe(0)
      expect(nghttp.stdout).toContain("read")
      // every WINDOW_UPDATE weir sent: its stream and increment
      const updates = Array.from(
        nghttp.stdout.matchAll(
          /recv WINDOW_UPDATE frame <length=4, flags=0x00, stream_id=(\d+)>\s+\(window_size_increment=(\d+)\)/g
        ),
        (m) => ({ stream: Number(m[1]), increment: Number(m[2]) })
      )
      const onStream = updates.filter((u) => u.stream !== 0)
      const onConnection = updates.filter((u) => u.stream === 0)
      // 0.99 would mean an update after every 1% read; nghttp2 waits for half of the 65535-byte window
      for (const u of updates) expect(u.increment).toBeGreaterThanOrEqual(32767)
      expect(onStream.length).toBeGreaterThanOrEqual(Math.floor(size / 65535))
      expect(onStream.length).toBeLessThanOrEqual(Math.ceil(size / 32767))
      expect(onConnection.length).toBeLessThanOrEqual(Math.ceil(size / 32767))
    }))
})
