/**
 * Reroute time through namerd: how long after a dtab write the first request lands on the new
 * destination, with the proxy under load. One process holds everything, on loopback: two backends
 * (`books`, `books-v2`), a namerd (`io.l5d.inMemory`, with `io.l5d.httpController` and
 * `io.l5d.mesh`), and one proxy per interpreter (`io.l5d.namerd.http`, `io.l5d.mesh`), each driven by
 * `--concurrency` keep-alive clients sending `Host: books` in a loop.
 *
 * Each round writes the dtab with `PUT /api/1/dtabs/default` (`/svc/books =>` the other backend)
 * and times from just before the write to the moment the new backend receives its first request
 * from that proxy (a timestamp taken in the backend's request handler). Rounds alternate the
 * direction; the first few are a warm-up and not counted. Reported per interpreter: median, p90
 * and max over the rounds, and the number of failed requests during the run.
 *
 * Run: `npm run bench:namerd` (`tsx bench/namerd/reroute.ts`). Options: `--rounds N` (default 40),
 * `--concurrency C` (default 8).
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as Scope from "effect/Scope"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import * as NamerdConfig from "../../src/namerd/Config.js"
import * as Namerd from "../../src/namerd/Namerd.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const rounds = arg("rounds", 40)
const concurrency = arg("concurrency", 8)
const warmup = 4

/** A backend answering its name; `firstFrom(tag)` resolves at the first request carrying `x-from: tag`. */
const backend = async (name: string) => {
  const waiters = new Map<string, (t: number) => void>()
  const server = Http.createServer((req, res) => {
    const from = String(req.headers["x-from"] ?? "")
    const w = waiters.get(from)
    if (w !== undefined) {
      waiters.delete(from)
      w(performance.now())
    }
    req.resume()
    res.end(name)
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()))
  return {
    port: (server.address() as AddressInfo).port,
    firstFrom: (tag: string) => new Promise<number>((resolve) => waiters.set(tag, resolve)),
    close: () => new Promise<void>((r) => server.close(() => r()))
  }
}

const put = (port: number, body: string) =>
  new Promise<number>((resolve, reject) => {
    const req = Http.request(
      {
        host: "127.0.0.1",
        port,
        method: "PUT",
        path: "/api/1/dtabs/default",
        headers: { "content-type": "application/dtab" }
      },
      (res) => {
        res.resume()
        res.on("end", () => resolve(res.statusCode ?? 0))
      }
    )
    req.on("error", reject)
    req.end(body)
  })

const quantile = (xs: ReadonlyArray<number>, q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}

const main = Effect.gen(function*() {
  const books = yield* Effect.promise(() => backend("books"))
  const booksV2 = yield* Effect.promise(() => backend("books-v2"))
  yield* Effect.addFinalizer(() => Effect.promise(() => Promise.all([books.close(), booksV2.close()])))
  const dtabTo = (port: number) => `/svc/books => /$/inet/127.0.0.1/${port}`
  const nc = NamerdConfig.decode({
    admin: { port: 0 },
    storage: { kind: "io.l5d.inMemory", namespaces: { default: dtabTo(books.port) } },
    interfaces: [{ kind: "io.l5d.httpController", port: 0 }, { kind: "io.l5d.mesh", port: 0 }]
  })
  if (Result.isFailure(nc)) throw new Error(JSON.stringify(nc.failure))
  const namerd = yield* Namerd.make(nc.success)
  const [httpPort, meshPort] = [namerd.interfaces[0]!.port, namerd.interfaces[1]!.port]

  const interpreters: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
    ["io.l5d.namerd.http", { kind: "io.l5d.namerd.http", dst: `/$/inet/127.0.0.1/${httpPort}` }],
    ["io.l5d.mesh", { kind: "io.l5d.mesh", dst: `/$/inet/127.0.0.1/${meshPort}` }]
  ]
  console.log(`reroute through namerd: ${rounds} rounds (${warmup} warm-up), ${concurrency} clients per proxy`)
  console.log("| interpreter | median ms | p90 ms | max ms | requests | failed |")
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |")
  for (const [label, interpreter] of interpreters) {
    const scope = yield* Scope.make()
    const decoded = Config.decode({
      admin: { port: 0 },
      routers: [{ protocol: "http", label: "bench", servers: [{ port: 0 }], interpreter }]
    })
    if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
    const linker = yield* Linker.make(decoded.success).pipe(Scope.provide(scope))
    const proxyPort = linker.routers[0]!.servers[0]!.port
    yield* Effect.promise(() => put(httpPort, dtabTo(books.port)))

    let stop = false
    let sent = 0
    let failed = 0
    const agent = new Http.Agent({ keepAlive: true, maxSockets: concurrency })
    const client = async () => {
      while (!stop) {
        await new Promise<void>((resolve) => {
          const req = Http.request(
            { host: "127.0.0.1", port: proxyPort, path: "/", agent, headers: { host: "books", "x-from": label } },
            (res) => {
              if (res.statusCode !== 200) failed++
              res.resume()
              res.on("end", () => resolve())
            }
          )
          req.on("error", () => {
            failed++
            resolve()
          })
          req.end()
        })
        sent++
      }
    }
    const clients = Array.from({ length: concurrency }, client)
    yield* Effect.promise(() => new Promise((r) => setTimeout(r, 500)))

    const times: Array<number> = []
    for (let i = 0; i < rounds + warmup; i++) {
      const to = i % 2 === 0 ? booksV2 : books
      const landed = to.firstFrom(label)
      const t0 = performance.now()
      const status = yield* Effect.promise(() => put(httpPort, dtabTo(to.port)))
      if (status !== 204) throw new Error(`PUT answered ${status}`)
      const t1 = yield* Effect.promise(() => landed)
      if (i >= warmup) times.push(t1 - t0)
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 100)))
    }
    stop = true
    yield* Effect.promise(() => Promise.all(clients))
    agent.destroy()
    yield* Scope.close(scope, Exit.void)
    const f = (x: number) => x.toFixed(2)
    console.log(
      `| ${label} | ${f(quantile(times, 0.5))} | ${f(quantile(times, 0.9))} | ${
        f(Math.max(...times))
      } | ${sent} | ${failed} |`
    )
  }
})

Effect.runPromise(Effect.scoped(main)).then(
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
