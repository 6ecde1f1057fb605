import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Yaml from "effect/encoding/Yaml"
import * as Result from "effect/Result"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import * as Delegation from "../src/naming/Delegation.js"
import * as Path from "../src/naming/Path.js"
import * as Config from "../src/proxy/Config.js"
import * as Linker from "../src/proxy/Linker.js"
import * as Validate from "../src/proxy/Validate.js"

const walk = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })

/** Every weir config in examples/: a YAML or JSON document with `routers`. */
const configs = walk("examples").filter((f) => /\.(ya?ml|json)$/.test(f)).filter((f) => {
  try {
    const doc = Yaml.parse(readFileSync(f, "utf8"))
    return typeof doc === "object" && doc !== null && "routers" in doc
  } catch {
    return false
  }
}).sort()

/** Golden configs that decode but need a plugin this version does not have (none since the k8s namer). */
const unavailable: Record<string, string> = {}

/**
 * Configs naming files only a deployment has (TLS certificates and keys): they pass `weir check`,
 * and the build stops at the first file it cannot read (test/e2e/tls.test.ts runs the same shapes
 * with certificates made at test time).
 */
const deploymentFiles: Record<string, string> = {
  "examples/configs/tls.yaml": "routers[0].servers[0].tls: cannot read certificate /etc/weir/tls/weir.pem",
  "examples/configs/h2-tls.yaml": "routers[0].servers[0].tls: cannot read certificate /etc/weir/tls/weir.pem",
  "examples/configs/tls-linker-incoming.yaml": "cannot read certificate /etc/weir/mesh/incoming.pem",
  "examples/configs/tls-linker-outgoing.yaml": "cannot read trusted certificate /etc/weir/mesh/ca.pem",
  "examples/namerd/linker-mesh-tls.yaml":
    "routers[0].interpreter: cannot read trusted certificate /etc/weir/namerd/ca.pem",
  "examples/namerd/linker-thrift-tls.yaml":
    "routers[0].interpreter: cannot read trusted certificate /etc/weir/namerd/ca.pem",
  "examples/configs/daemonset-tls.yaml": "cannot read trusted certificate /etc/weir-tls/ca.pem"
}

/** Configs that build only in the environment they are written for (a pod's downward API variables). */
const environment: Record<string, Record<string, string>> = {
  "examples/configs/daemonset.yaml": { POD_IP: "10.0.1.7" },
  "examples/configs/daemonset-tls.yaml": { POD_IP: "10.0.1.7" }
}

/** Bind everything on loopback, on free ports, so the build can run next to other tests. */
const onFreePorts = (c: Config.Config): Config.Config => ({
  ...c,
  admin: { ...c.admin, ip: "127.0.0.1", port: 0 },
  routers: c.routers.map((r) => ({ ...r, servers: r.servers.map((s) => ({ ...s, ip: "127.0.0.1", port: 0 })) }))
})

// examples/configs/k8s-namespaced.yaml's io.l5d.k8s.ns reads its namespace from the environment
process.env["POD_NAMESPACE"] ??= "default"

describe("examples (golden configs)", () => {
  it("finds the configs", () => {
    expect(configs).toContain("examples/quickstart/weir.yaml")
    expect(configs).toContain("examples/configs/seed-talk.yaml")
    expect(configs.length).toBeGreaterThanOrEqual(7)
  })

  for (const file of configs) {
    it.live(`${file} passes \`weir check\` and builds`, () =>
      Effect.gen(function*() {
        const decoded = Validate.check(readFileSync(file, "utf8"))
        if (Result.isFailure(decoded)) {
          throw new Error(`${file}:\n${decoded.failure.map((p) => `${p.path}: ${p.message}`).join("\n")}`)
        }
        const env = environment[file] ?? {}
        const saved = Object.keys(env).map((k) => [k, process.env[k]] as const)
        Object.assign(process.env, env)
        const built = yield* Effect.scoped(Effect.result(Linker.make(onFreePorts(decoded.success)))).pipe(
          Effect.ensuring(Effect.sync(() => {
            for (const [k, v] of saved) {
              if (v === undefined) delete process.env[k]
              else process.env[k] = v
            }
          }))
        )
        const expected = unavailable[file] ?? deploymentFiles[file]
        if (expected === undefined) {
          if (Result.isFailure(built)) throw new Error(`${file}: ${built.failure.message}`)
        } else {
          expect(Result.isFailure(built)).toBe(true)
          if (Result.isFailure(built)) expect(built.failure.message).toContain(expected)
        }
      }))
  }

  it.live("the seed talk's routing (older shape, fs namer) resolves /http/1.1/GET/books", () =>
    Effect.gen(function*() {
      const decoded = Config.parse(readFileSync("examples/configs/seed-talk-fs.yaml", "utf8"))
      if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
      const linker = yield* Linker.make(onFreePorts(decoded.success))
      const outgoing = decoded.success.routers[1]!
      const tree = yield* Delegation.explain(linker.interpreter, outgoing.dtab, Path.parseUnsafe("/http/1.1/GET/books"))
      expect(JSON.stringify(tree)).toContain("\"id\":\"/#/io.l5d.fs/books\"")
    }))
})
