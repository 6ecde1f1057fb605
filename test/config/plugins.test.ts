/**
 * The plugin trio for every kind of every registry: it decodes its smallest config with its
 * defaults, rejects an unknown key and an unknown kind with their location, and builds a core value
 * that works. Kinds registered as unavailable are rejected by the same decode, with the kinds that
 * are available.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as os from "node:os"
import * as nodePath from "node:path"
import * as Accruals from "../../src/config/accrual/index.js"
import * as Backoffs from "../../src/config/backoff/index.js"
import * as Balancers from "../../src/config/balancer/index.js"
import * as ClassifierPlugins from "../../src/config/classifier/index.js"
import * as IdentifierPlugins from "../../src/config/identifier/index.js"
import * as Interpreters from "../../src/config/interpreter/index.js"
import * as Namers from "../../src/config/namer/index.js"
import type * as Plugin from "../../src/config/Plugin.js"
import * as Problems from "../../src/config/Problems.js"
import * as Telemeters from "../../src/config/telemeter/index.js"
import * as Classifiers from "../../src/http/Classifiers.js"
import * as Message from "../../src/http/transport/Message.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Path from "../../src/naming/Path.js"
import * as Backoff from "../../src/resilience/Backoff.js"
import * as FailureAccrual from "../../src/resilience/FailureAccrual.js"
import * as Stats from "../../src/Stats.js"
import * as Metrics from "../../src/telemetry/Metrics.js"
import { balancerSuite } from "../loadbalancer/suite.js"

const decode = <T, E>(registry: Plugin.Registry<T, E, unknown>, input: unknown) => {
  const r = Schema.decodeUnknownResult(registry.schema)(input, Problems.parseOptions)
  return Result.isSuccess(r)
    ? Result.succeed(r.success)
    : Result.fail(Problems.problems(r.failure.issue).map((p) => `${p.path}: ${p.message}`))
}

const decodeOk = <T, E>(registry: Plugin.Registry<T, E, unknown>, input: unknown): T => {
  const r = decode(registry, input)
  if (Result.isFailure(r)) throw new Error(r.failure.join("\n"))
  return r.success
}

/** Runs the trio over every kind of `registry`; `works` checks what one kind builds. */
const pluginSuite = <T, E, A>(
  registry: Plugin.Registry<T, E, A>,
  works: (value: A, plugin: Plugin.Plugin<Schema.Top, A>) => void | Promise<void>
) =>
  describe(`${registry.family} plugins`, () => {
    const all = registry.plugins.flatMap((p) => [p.kind, ...p.aliases])
    for (const plugin of registry.plugins) {
      describe(plugin.kind, () => {
        it("decodes its smallest config, with its defaults", () => {
          const decoded = decodeOk(registry, plugin.example) as { readonly kind: string }
          expect(decoded.kind).toBe(plugin.kind)
          expect(Object.keys(decoded)).toEqual(expect.arrayContaining(Object.keys(plugin.example as object)))
        })

        it("rejects an unknown key with its location", () => {
          expect(decode(registry, { ...(plugin.example as object), bogusKey: 1 })).toEqual(
            Result.fail(["bogusKey: unknown key"])
          )
        })

        it("builds, and what it builds works", () =>
          works(registry.make(decodeOk(registry, plugin.example)), registry.plugins.find((p) => p === plugin)!))

        for (const alias of plugin.aliases) {
          it(`accepts the older spelling ${alias}`, () => {
            const decoded = decodeOk(registry, { ...(plugin.example as object), kind: alias })
            expect(registry.make(decoded)).toEqual(registry.make(decodeOk(registry, plugin.example)))
          })
        }
      })
    }

    it("rejects an unknown kind, naming every accepted kind", () => {
      expect(decode(registry, { kind: "io.l5d.nope" })).toEqual(
        Result.fail([
          `kind: unknown kind "io.l5d.nope" (expected one of: ${[...all, ...registry.unavailable].join(", ")})`
        ])
      )
    })

    for (const kind of registry.unavailable) {
      it(`reports ${kind} as not available, with the problems of its keys, in the same decode`, () => {
        const notAvailable =
          `kind: ${registry.family} kind ${kind} is not available in this version of weir (available: ${
            registry.kinds.join(", ")
          })`
        const r = decode(registry, { kind, bogusKey: 1 })
        expect(Result.isFailure(r) && r.failure[0]).toBe(notAvailable)
        expect(Result.isFailure(r) && r.failure).toContain("bogusKey: unknown key")
      })
    }
  })

pluginSuite(Backoffs.registry, async (backoff) => {
  const delays = await Effect.runPromise(Backoff.take(backoff, 5))
  expect(delays.length).toBe(5)
  for (const d of delays) expect(d).toBeGreaterThanOrEqual(0)
})

pluginSuite(Balancers.registry, (factory, plugin) => {
  expect(factory.kind).toBe(plugin.kind)
})
for (const plugin of Balancers.registry.plugins) {
  // the conformance suite spreads over 10 nodes: aperture's window must cover them all
  const config = plugin.kind === "aperture" ? { kind: "aperture", minAperture: 10 } : plugin.example
  balancerSuite(`config ${plugin.kind}`, () => Balancers.registry.make(decodeOk(Balancers.registry, config)))
}

pluginSuite(Accruals.registry, (policy) => {
  const state = FailureAccrual.policyState(policy, 0)
  expect(state).toBeDefined()
})

pluginSuite(ClassifierPlugins.registry, (kind, plugin) => {
  if (typeof kind !== "string") {
    // an h2 classifier's config: classified by http/h2/Classifiers (test/http/h2/Grpc.test.ts)
    expect(kind.kind).toBe(plugin.kind)
    return
  }
  expect(kind).toBe(plugin.kind)
  const classify = Classifiers.classifier(kind)
  const ok = classify({ method: "GET" }, Exit.succeed({ status: 200 }))
  expect(ok._tag).toBe("Success")
  const failed = classify({ method: "GET" }, Exit.succeed({ status: 503 }))
  expect(failed._tag).toBe(kind === "io.l5d.http.allSuccessful" ? "Success" : "Failed")
})

pluginSuite(IdentifierPlugins.registry, (make, plugin) => {
  const made = make(Path.parseUnsafe("/svc"))
  if (Effect.isEffect(made)) {
    // a watching identifier (io.l5d.ingress): test/http/IngressIdentifier.test.ts runs it against a fake API
    expect(plugin.kind).toBe("io.l5d.ingress")
    return
  }
  const identify = made
  const request = Message.request({
    url: "/books/1",
    headers: { host: "web", "l5d-name": "/books" },
    version: "1.1",
    method: "GET"
  })
  const r = identify(request)
  expect(r._tag).toBe("Identified")
  if (r._tag === "Identified") expect(Path.show(r.name)).toMatch(/^\/svc\//)
})

pluginSuite(Interpreters.registry, async (make) => {
  const interpreter = await Effect.runPromise(
    Effect.scoped(Effect.flatMap(Interpreter.make({}), (base) => make({ base, stats: Stats.makeInMemory() })))
  )
  expect(typeof interpreter.bind).toBe("function")
})

pluginSuite(Telemeters.registry, async (make, plugin) => {
  const registry = Stats.makeInMemory()
  registry.scope("rt", "web", "service", "svc/books").counter("requests").incr(2)
  const exporter = Metrics.makeExporter(registry)
  const started = await Effect.runPromise(Effect.scoped(make({ registry, snapshot: exporter.snapshot })))
  const served = started.endpoints.map((e) => [e.path, e.render("admin")] as const)
  switch (plugin.kind) {
    case "io.l5d.prometheus":
      expect(served.map(([p]) => p)).toEqual(["/admin/metrics/prometheus"])
      expect(served[0]![1]).toContain(`rt:service:requests{rt="web", service="svc/books"} 2`)
      break
    case "io.l5d.influxdb":
      expect(served).toEqual([[
        "/admin/metrics/influxdb",
        "rt:service,host=admin,rt=web,service=svc/books requests=2\n"
      ]])
      break
    default:
      expect(served).toEqual([])
  }
})

pluginSuite(Namers.registry, async (build, plugin) => {
  // io.l5d.k8s.ns reads its namespace from the environment (the downward API) when built
  process.env["POD_NAMESPACE"] ??= "default"
  if (plugin.kind !== "io.l5d.fs") {
    const namer = await Effect.runPromise(Effect.scoped(build))
    expect(typeof namer.lookup).toBe("function")
  }
})

describe("namer plugins build namers that resolve", () => {
  it.live("io.l5d.fs resolves a service from its rootDir", () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => fs.mkdtempSync(nodePath.join(os.tmpdir(), "weir-plugin-fs-"))),
        (d) => Effect.sync(() => fs.rmSync(d, { recursive: true, force: true }))
      )
      fs.writeFileSync(nodePath.join(dir, "books"), "127.0.0.1 8080\n")
      const config = decodeOk(Namers.registry, { kind: "io.l5d.fs", rootDir: dir })
      expect(Namers.mounts(config).map(Path.show)).toEqual(["/#/io.l5d.fs", "/io.l5d.fs"])
      const namer = yield* Namers.build(config)
      const tree = yield* namer.lookup(Path.parseUnsafe("/books")).pipe(
        Stream.filter((t) => t._tag === "Leaf"),
        Stream.take(1),
        Stream.runHead,
        Effect.timeout(Duration.seconds(5))
      )
      expect(tree._tag).toBe("Some")
    })))
})
