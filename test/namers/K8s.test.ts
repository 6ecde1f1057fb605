import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { TestClock } from "effect/testing"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import { Address, Name, Namer, NameTree, Path } from "../../src/index.js"
import * as K8s from "../../src/namers/K8s.js"
import * as K8sApi from "../../src/namers/k8s/Api.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import { sendE, textBackend } from "../http/support.js"
import { waitFor } from "../support/poll.js"
import * as Fake from "./k8s-fake.js"

const fakeServer = Effect.acquireRelease(Effect.promise(() => Fake.start()), (f) => Effect.promise(() => f.close()))

const tempFile = (content: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "weir-k8s-"))
      const file = nodePath.join(dir, "token")
      fs.writeFileSync(file, content)
      return { dir, file }
    }),
    ({ dir }) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )

/** Follows a lookup: the tree shown (`neg` or the bound id + residual) and its current addresses. */
const follow = (namer: Namer.Namer, path: string) =>
  Effect.gen(function*() {
    const state = { tree: "", addrs: "", error: "" }
    yield* namer.lookup(Path.read(path)).pipe(
      Stream.tap((t) =>
        Effect.sync(() => {
          state.tree = t._tag === "Leaf" && Name.isBound(t.value)
            ? `${Name.idString(t.value)} ${Path.show(t.value.residual)}`
            : NameTree.showWith(t, Name.show)
        })
      ),
      Stream.switchMap((t) =>
        t._tag === "Leaf" && Name.isBound(t.value)
          ? Name.addresses(t.value)
          : Name.constant<ReadonlyArray<Address.Address>>([])
      ),
      Stream.runForEach((xs) => Effect.sync(() => (state.addrs = xs.map(Address.key).join(",")))),
      Effect.catch((e) => Effect.sync(() => (state.error = e.message))),
      Effect.forkChild
    )
    return state
  })

const statusOf = (namer: K8s.K8sNamer, resource: string) =>
  Effect.map(namer.status, (xs) => xs.find((x) => x.resource === `endpoints ${resource}`))

const books = (ready: ReadonlyArray<string>, notReady: ReadonlyArray<string> = []): Fake.EndpointsSpec => ({
  ready,
  notReady,
  ports: [{ name: "http", port: 8080 }, { name: "admin", port: 9990 }]
})

/** Collects log lines. */
const capture = () => {
  const lines: Array<string> = []
  const layer = Logger.layer([Logger.make((o) => void lines.push(String(o.message)))])
  return { lines, layer }
}

describe("K8sApi.addressesFor", () => {
  const decode = Schema.decodeUnknownSync(K8sApi.Endpoints)
  const ep = decode({
    metadata: { name: "books" },
    subsets: [
      {
        addresses: [{ ip: "10.0.0.1", nodeName: "n1" }, { ip: "10.0.0.2" }],
        notReadyAddresses: [{ ip: "10.0.0.9" }],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }]
      },
      {
        addresses: [{ ip: "10.0.1.1" }],
        ports: [{ name: "HTTP", port: 8081 }, { name: "dns", port: 53, protocol: "UDP" }]
      }
    ]
  })

  it("takes ready addresses of every subset with the port, by name or number", () => {
    expect(K8sApi.addressesFor(ep, "http")?.map(Address.key)).toEqual([
      "10.0.0.1:8080",
      "10.0.0.2:8080",
      "10.0.1.1:8081"
    ])
    expect(K8sApi.addressesFor(ep, "http")?.[0]?.meta).toEqual({ nodeName: "n1" })
    expect(K8sApi.addressesFor(ep, "8081")?.map(Address.key)).toEqual(["10.0.1.1:8081"])
  })

  it("is undefined (Neg) without the object, the port, or for a UDP port", () => {
    expect(K8sApi.addressesFor(undefined, "http")).toBeUndefined()
    expect(K8sApi.addressesFor(ep, "grpc")).toBeUndefined()
    expect(K8sApi.addressesFor(ep, "dns")).toBeUndefined()
    expect(K8sApi.addressesFor(decode({ metadata: {}, subsets: null }), "http")).toBeUndefined()
  })

  it("decodes watch events and rejects wrong shapes", () => {
    const ev = Schema.decodeUnknownResult(K8sApi.WatchEvent)
    expect(Result.isSuccess(ev({ type: "BOOKMARK", object: { metadata: { resourceVersion: "7" } } }))).toBe(true)
    expect(Result.isSuccess(ev({ type: "ERROR", object: { code: 410, message: "too old" } }))).toBe(true)
    expect(Result.isFailure(ev({ type: "ADDED", object: { metadata: {}, subsets: [{ addresses: [{}] }] } }))).toBe(true)
    expect(Result.isFailure(ev({ type: "SURPRISE", object: { metadata: {} } }))).toBe(true)
  })
})

describe("io.l5d.k8s against a fake API server", () => {
  it.live("lists, then watches: scale up and down reach subscribers; not-ready addresses are excluded", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.set("default", "books", books(["10.0.0.1"], ["10.0.0.9"]))
      const namer = yield* K8s.make({ host: "127.0.0.1", port: fake.port })
      const named = yield* follow(namer, "/default/http/books/extra")
      const numbered = yield* follow(namer, "/DEFAULT/9990/Books")
      yield* waitFor(() => named.addrs === "10.0.0.1:8080", "first answer")
      expect(named.tree).toBe("/default/http/books /extra")
      yield* waitFor(() => numbered.addrs === "10.0.0.1:9990", "numeric port")
      expect(numbered.tree).toBe("/default/9990/books /")

      fake.set("default", "books", books(["10.0.0.1", "10.0.0.2", "10.0.0.3"], ["10.0.0.9"]))
      yield* waitFor(() => named.addrs === "10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080", "scale up")
      fake.set("default", "books", books(["10.0.0.2"], ["10.0.0.1", "10.0.0.3"]))
      yield* waitFor(() => named.addrs === "10.0.0.2:8080", "scale down")

      const lists = fake.requests.filter((r) => !r.url.includes("watch=true"))
      expect(lists.map((r) => r.url)).toEqual([
        "/api/v1/namespaces/default/endpoints?fieldSelector=metadata.name%3Dbooks"
      ])
      const watch = fake.requests.find((r) => r.url.includes("watch=true"))!
      expect(watch.url).toBe(
        "/api/v1/namespaces/default/endpoints?fieldSelector=metadata.name%3Dbooks&watch=true&resourceVersion=101&allowWatchBookmarks=true"
      )
      expect(watch.authorization).toBeUndefined()
      const st = yield* statusOf(namer, "default/books")
      expect(st).toMatchObject({ state: "ok", resourceVersion: "103", lists: 1, watches: 1 })
    }))

  it.live("a missing service is Neg, turns Bound when created, Neg again when deleted; a missing port is Neg", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      const namer = yield* K8s.make({ host: "127.0.0.1", port: fake.port })
      const s = yield* follow(namer, "/default/http/authors")
      const grpc = yield* follow(namer, "/default/grpc/authors")
      const short = yield* follow(namer, "/default/http")
      yield* waitFor(() => s.tree === "~" && grpc.tree === "~" && short.tree === "~", "Neg")
      fake.set("default", "authors", books(["10.0.2.1"]))
      yield* waitFor(() => s.addrs === "10.0.2.1:8080", "created")
      expect(s.tree).toBe("/default/http/authors /")
      expect(grpc.tree).toBe("~")
      fake.set("default", "authors", books([], []))
      yield* waitFor(() => s.tree === "~", "no endpoints left: no subset with the port")
      fake.set("default", "authors", books(["10.0.2.2"]))
      yield* waitFor(() => s.addrs === "10.0.2.2:8080", "back")
      fake.remove("default", "authors")
      yield* waitFor(() => s.tree === "~", "deleted")
      fake.set("other", "authors", books(["10.9.9.9"]))
      yield* Effect.sleep("50 millis")
      expect(s.tree).toBe("~")
    }))

  it.live("labelSelector: the 4th label selects the object by label; without it the name is Neg", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.set("default", "books", { ...books(["10.0.0.1"]), labels: { version: "v1" } })
      const namer = yield* K8s.make({ host: "127.0.0.1", port: fake.port, labelSelector: "version" })
      const v1 = yield* follow(namer, "/default/http/books/v1/rest")
      const v2 = yield* follow(namer, "/default/http/books/v2")
      const bare = yield* follow(namer, "/default/http/books")
      yield* waitFor(() => v1.addrs === "10.0.0.1:8080" && v2.tree === "~" && bare.tree === "~", "answers")
      expect(v1.tree).toBe("/default/http/books/v1 /rest")
      expect(fake.requests[0]!.url).toContain("&labelSelector=version%3Dv")
      fake.set("default", "books", { ...books(["10.0.0.1"]), labels: { version: "v2" } })
      yield* waitFor(() => v1.tree === "~" && v2.addrs === "10.0.0.1:8080", "relabelled")
    }))

  it.live("410 Gone on re-watch makes it list again", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.set("default", "books", books(["10.0.0.1"]))
      const namer = yield* K8s.make({ host: "127.0.0.1", port: fake.port })
      const s = yield* follow(namer, "/default/http/books")
      yield* waitFor(() => s.addrs === "10.0.0.1:8080" && fake.openWatches() === 1, "watching")
      fake.set("default", "unrelated", books(["10.1.1.1"]))
      fake.set("default", "unrelated", books(["10.1.1.2"]))
      fake.closeWatches()
      fake.compact()
      fake.set("default", "books", books(["10.0.0.5"]))
      yield* waitFor(() => s.addrs === "10.0.0.5:8080", "relisted answer")
      const st = yield* statusOf(namer, "default/books")
      expect(st).toMatchObject({ state: "ok", lists: 2, resourceVersion: String(fake.resourceVersion()) })
      expect(
        fake.requests.filter((r) => r.url.includes("watch=true")).map((r) => /resourceVersion=(\d+)/.exec(r.url)![1])
      )
        .toEqual(["101", "101", "104"])
    }))

  it.live("a watch closed by the server is re-opened from the last resource version, losing no event", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.set("default", "books", books(["10.0.0.1"]))
      const namer = yield* K8s.make({ host: "127.0.0.1", port: fake.port })
      const s = yield* follow(namer, "/default/http/books")
      yield* waitFor(() => s.addrs === "10.0.0.1:8080" && fake.openWatches() === 1, "watching")
      fake.set("default", "books", books(["10.0.0.2"]))
      yield* waitFor(() => s.addrs === "10.0.0.2:8080", "event")
      fake.closeWatches()
      fake.set("default", "books", books(["10.0.0.3"]))
      yield* waitFor(() => s.addrs === "10.0.0.3:8080", "event sent while disconnected")
      fake.closeWatches()
      yield* waitFor(() => fake.openWatches() === 1, "re-watch")
      fake.set("default", "books", books(["10.0.0.4"]))
      yield* waitFor(() => s.addrs === "10.0.0.4:8080", "event after re-watch")
      const watches = fake.requests.filter((r) => r.url.includes("watch=true"))
      expect(watches.map((r) => /resourceVersion=(\d+)/.exec(r.url)![1])).toEqual(["101", "102", "103"])
      expect(yield* statusOf(namer, "default/books")).toMatchObject({ lists: 1, watches: 3, resourceVersion: "104" })
    }))

  it.live("bookmarks advance the resource version, so a re-watch after compaction needs no relist", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.set("default", "books", books(["10.0.0.1"]))
      const namer = yield* K8s.make({ host: "127.0.0.1", port: fake.port })
      const s = yield* follow(namer, "/default/http/books")
      yield* waitFor(() => s.addrs === "10.0.0.1:8080" && fake.openWatches() === 1, "watching")
      fake.set("default", "unrelated", books(["10.1.1.1"]))
      fake.set("default", "unrelated", books(["10.1.1.2"]))
      fake.bookmark()
      let rv: string | undefined
      yield* waitFor(() => {
        Effect.runSync(Effect.map(statusOf(namer, "default/books"), (st) => (rv = st?.resourceVersion)))
        return rv === "103"
      }, "bookmark")
      fake.closeWatches()
      fake.compact()
      fake.set("default", "books", books(["10.0.0.7"]))
      yield* waitFor(() => s.addrs === "10.0.0.7:8080", "event after compaction")
      expect(yield* statusOf(namer, "default/books")).toMatchObject({ lists: 1, watches: 2, resourceVersion: "104" })
    }))

  it.live("garbage from the API is reported with the resource's name; the last good answer is kept", () => {
    const logs = capture()
    return Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.set("default", "books", books(["10.0.0.1", "10.0.0.2"]))
      const namer = yield* K8s.make({ host: "127.0.0.1", port: fake.port })
      const s = yield* follow(namer, "/default/http/books")
      yield* waitFor(() => s.addrs === "10.0.0.1:8080,10.0.0.2:8080" && fake.openWatches() === 1, "watching")
      fake.mode = "garbage"
      fake.sendRaw("{\"type\": \"MODIFIED\", \"object\": {\"metadata\": 12}}")
      let st: K8s.WatchStatus | undefined
      yield* waitFor(() => {
        st = Effect.runSync(statusOf(namer, "default/books"))
        return st?.error?.includes("cannot decode the list") === true
      }, "list garbage reported")
      expect(st?.state).toBe("stale")
      expect(st?.error).toMatch(/^endpoints default\/books: cannot decode the list: /)
      expect(s.addrs).toBe("10.0.0.1:8080,10.0.0.2:8080")
      expect(s.tree).toBe("/default/http/books /")
      fake.mode = "ok"
      fake.set("default", "books", books(["10.0.0.3"]))
      yield* waitFor(() => s.addrs === "10.0.0.3:8080", "recovered")
      expect(yield* statusOf(namer, "default/books")).toMatchObject({ state: "ok", error: undefined })
      expect(logs.lines.some((l) => l.includes("endpoints default/books: cannot decode the watch event"))).toBe(true)
    }).pipe(Effect.provide(logs.layer))
  })

  it.live("a service whose list never succeeded is Failed (through Namer.shared), then answers", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.mode = { status: 500 }
      fake.set("default", "books", books(["10.0.0.1"]))
      const namer = yield* K8s.make({ host: "127.0.0.1", port: fake.port })
      const shared = yield* Namer.shared(namer, { retryDelay: "20 millis" })
      const states: Array<string> = []
      yield* shared.watch(Path.read("/default/http/books")).pipe(
        Stream.runForEach((s) => Effect.sync(() => states.push(s._tag === "Failed" ? `Failed: ${s.cause}` : s._tag))),
        Effect.forkChild
      )
      yield* waitFor(() => states.some((s) => s.startsWith("Failed")), "Failed")
      expect(states.find((s) => s.startsWith("Failed"))).toBe(
        "Failed: endpoints default/books: API answered 500: etcd is unhappy"
      )
      fake.mode = "ok"
      yield* waitFor(() => states[states.length - 1] === "Ok", "answer after recovery")
    }))

  it.live("reconnects with backoff after the API server goes away, keeping the last answer meanwhile", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.set("default", "books", books(["10.0.0.1"]))
      const namer = yield* K8s.make({ host: "127.0.0.1", port: fake.port, maxBackoff: "100 millis" })
      const s = yield* follow(namer, "/default/http/books")
      yield* waitFor(() => s.addrs === "10.0.0.1:8080" && fake.openWatches() === 1, "watching")
      yield* Effect.promise(() => fake.stop())
      fake.set("default", "books", books(["10.0.0.2"]))
      yield* waitFor(() => Effect.runSync(statusOf(namer, "default/books"))?.state === "stale", "stale")
      expect(s.addrs).toBe("10.0.0.1:8080")
      yield* Effect.promise(() => fake.resume())
      yield* waitFor(() => s.addrs === "10.0.0.2:8080", "reconnected")
      expect(yield* statusOf(namer, "default/books")).toMatchObject({ state: "ok", lists: 1 })
      yield* Effect.promise(() => fake.stop())
      yield* waitFor(() => Effect.runSync(statusOf(namer, "default/books"))?.state === "stale", "stale again")
      yield* Effect.promise(() => fake.resume())
      yield* waitFor(() => Effect.runSync(statusOf(namer, "default/books"))?.state === "ok", "ok without a change")
      expect(s.addrs).toBe("10.0.0.2:8080")
      expect(yield* statusOf(namer, "default/books")).toMatchObject({ lists: 1, error: undefined })
    }))

  it.live("authTokenFile: the token is sent as a bearer token on every request and never logged", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      const logs = capture()
      const token = yield* tempFile("s3cr3t-t0ken\n")
      fake.set("default", "books", books(["10.0.0.1"]))
      const run = Effect.gen(function*() {
        const namer = yield* K8s.make({ host: "127.0.0.1", port: fake.port, authTokenFile: token.file })
        const s = yield* follow(namer, "/default/http/books")
        yield* waitFor(() => s.addrs === "10.0.0.1:8080" && fake.openWatches() === 1, "watching")
        fake.mode = { status: 401 }
        fake.sendRaw("not json")
        yield* waitFor(() => Effect.runSync(statusOf(namer, "default/books"))?.error?.includes("401") === true, "401")
        const missing = yield* K8s.make({ host: "127.0.0.1", port: fake.port, authTokenFile: `${token.file}.nope` })
        const m = yield* follow(missing, "/default/http/books")
        yield* waitFor(() => m.error !== "", "missing token file")
        expect(m.error).toContain("cannot read authTokenFile")
        expect(m.error).toContain("ENOENT")
      })
      yield* run.pipe(Effect.provide(logs.layer))
      expect(fake.requests.length).toBeGreaterThanOrEqual(3)
      expect(fake.requests.every((r) => r.authorization === "Bearer s3cr3t-t0ken")).toBe(true)
      expect(logs.lines.length).toBeGreaterThan(0)
      expect(logs.lines.some((l) => l.includes("s3cr3t"))).toBe(false)
    }))
})

describe("io.l5d.experimental.k8s over TLS", () => {
  const tlsFake = Effect.acquireRelease(
    Effect.promise(() => Fake.start({ tls: true })),
    (f) => Effect.promise(() => f.close())
  )

  it.live("talks HTTPS; tlsWithoutValidation accepts a self-signed certificate, validation rejects it", () =>
    Effect.gen(function*() {
      const fake = yield* tlsFake
      fake.set("default", "books", books(["10.0.0.1"]))
      const lax = yield* K8s.make({ host: "127.0.0.1", port: fake.port, tls: true, tlsWithoutValidation: true })
      const s = yield* follow(lax, "/default/http/books")
      yield* waitFor(() => s.addrs === "10.0.0.1:8080", "answer over TLS")
      const strict = yield* K8s.make({ host: "127.0.0.1", port: fake.port, tls: true })
      const t = yield* follow(strict, "/default/http/books")
      yield* waitFor(() => t.error !== "", "certificate rejected")
      expect(t.error).toMatch(/^endpoints default\/books: .*self[- ]signed certificate/)
    }))
})

describe("io.l5d.k8s retry backoff (TestClock)", () => {
  /** Polls in real time (the API server is real; only the namer's sleeps are virtual). */
  const realWait = (cond: () => boolean, what: string) =>
    Effect.promise(async () => {
      for (let i = 0; i < 250; i++) {
        if (cond()) return
        await new Promise((r) => setTimeout(r, 10))
      }
      throw new Error(`timed out waiting for ${what}`)
    })
  const realPause = Effect.promise(() => new Promise((r) => setTimeout(r, 80)))

  it.effect("retries a failing list after a jittered delay that doubles from 10 ms", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      fake.mode = { status: 503 }
      const namer = yield* K8s.make({ host: "127.0.0.1", port: fake.port })
      const s = yield* follow(namer, "/default/http/books")
      yield* realWait(() => s.error !== "", "first failure")
      expect(s.error).toBe("endpoints default/books: API answered 503: etcd is unhappy")
      yield* realPause
      expect(fake.requests.length).toBe(1)
      yield* TestClock.adjust("4 millis")
      yield* realPause
      expect(fake.requests.length).toBe(1)
      yield* TestClock.adjust("6 millis")
      yield* realWait(() => fake.requests.length === 2, "second list after 5-10 ms")
      yield* TestClock.adjust("9 millis")
      yield* realPause
      expect(fake.requests.length).toBe(2)
      yield* TestClock.adjust("11 millis")
      yield* realWait(() => fake.requests.length === 3, "third list after 10-20 ms")
      fake.mode = "ok"
      fake.set("default", "books", books(["10.0.0.1"]))
      yield* TestClock.adjust("40 millis")
      yield* realWait(() => fake.requests.length === 4, "fourth list")
      yield* realWait(() => Effect.runSync(statusOf(namer, "default/books"))?.state === "ok", "answer")
    }))
})

describe("the seed talk's config, as written, on the fake API (end to end)", () => {
  it.live("routes a request by Host to a backend discovered through io.l5d.experimental.k8s", () =>
    Effect.gen(function*() {
      const fake = yield* fakeServer
      const token = yield* tempFile("seed-token")
      const backend = yield* textBackend("books from k8s")
      fake.set("default", "books", { ready: ["127.0.0.1"], ports: [{ name: "http", port: backend.port }] })
      const asWritten = fs.readFileSync(new URL("../../examples/configs/seed-talk.yaml", import.meta.url), "utf8")
      // the servers' ports first: the fake API's port could start with 8080 or 4140
      const yaml = asWritten
        .replace("port: 8080", "port: 0")
        .replace("port: 4140", "port: 0")
        .replace(
          "authTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token",
          `authTokenFile: ${token.file}\n  host: 127.0.0.1\n  port: ${fake.port}\n  tls: false`
        ) + "\nadmin: {ip: 127.0.0.1, port: 0}\n"
      const decoded = Config.parse(yaml)
      if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
      const linker = yield* Linker.make(decoded.success)
      const port = linker.routers[1]!.servers[0]!.port
      const r = yield* sendE(port, { headers: { host: "books" }, path: "/shelf" })
      expect(r.status).toBe(200)
      expect(r.body).toBe("books from k8s")
      expect(backend.seen[0]!.headers["l5d-dst-client"]).toBe("/io.l5d.k8s/default/http/books")
      expect(fake.requests.every((q) => q.authorization === "Bearer seed-token")).toBe(true)
      const missing = yield* sendE(port, { headers: { host: "authors" } })
      expect(missing.status).toBe(502)
      fake.set("default", "authors", { ready: ["127.0.0.1"], ports: [{ name: "http", port: backend.port }] })
      let again = missing
      for (let i = 0; i < 100 && again.status !== 200; i++) {
        yield* Effect.sleep("20 millis")
        again = yield* sendE(port, { headers: { host: "authors" } })
      }
      expect(again.status).toBe(200)
    }))
})
