import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as TransformerConfig from "../../src/config/transformer/index.js"
import * as Path from "../../src/naming/Path.js"
import * as Config from "../../src/proxy/Config.js"

const decode = Schema.decodeUnknownSync(TransformerConfig.registry.schema)

const routerWith = (transformers: string) => `
routers:
- protocol: http
  dtab: /svc => /#/io.l5d.fs
  servers: [{port: 4140}]
  interpreter:
    kind: default
    transformers:
${transformers}
`

describe("transformer plugins", () => {
  it("has linkerd's seven kinds", () => {
    expect(TransformerConfig.registry.kinds).toEqual([
      "io.l5d.localhost",
      "io.l5d.specificHost",
      "io.l5d.port",
      "io.l5d.k8s.daemonset",
      "io.l5d.k8s.localnode",
      "io.l5d.replace",
      "io.l5d.const"
    ])
  })

  for (const plugin of TransformerConfig.registry.plugins) {
    if (plugin.kind === "io.l5d.k8s.localnode") continue
    it.effect(`${plugin.kind}: its example decodes and builds`, () =>
      Effect.scoped(Effect.gen(function*() {
        const [t] = yield* TransformerConfig.buildAll([decode(plugin.example)])
        expect(t!.name).toBe(plugin.kind)
      })))
  }

  it.effect("io.l5d.k8s.localnode builds only with POD_IP (or NODE_NAME), saying so", () =>
    Effect.scoped(Effect.gen(function*() {
      const saved = process.env["POD_IP"]
      delete process.env["POD_IP"]
      const failed = yield* Effect.result(TransformerConfig.buildAll([decode({ kind: "io.l5d.k8s.localnode" })]))
      expect(Result.isFailure(failed) && failed.failure.message).toBe(
        "transformers[0]: transformer io.l5d.k8s.localnode: the POD_IP environment variable must be set to the pod's IP"
      )
      process.env["POD_IP"] = "10.0.0.7"
      const ok = yield* TransformerConfig.buildAll([decode({ kind: "io.l5d.k8s.localnode" })])
      if (saved === undefined) delete process.env["POD_IP"]
      else process.env["POD_IP"] = saved
      expect(ok[0]!.name).toBe("io.l5d.k8s.localnode")
    })))

  it("decodes linkerd's defaults", () => {
    expect(decode({ kind: "io.l5d.k8s.daemonset", namespace: "linkerd", service: "l5d", port: "incoming" })).toEqual({
      kind: "io.l5d.k8s.daemonset",
      namespace: "linkerd",
      service: "l5d",
      port: "incoming",
      k8sHost: "localhost",
      k8sPort: 8001,
      hostNetwork: false
    })
    expect(decode({ kind: "io.l5d.k8s.localnode" })).toEqual({ kind: "io.l5d.k8s.localnode", hostNetwork: false })
    expect(decode({ kind: "io.l5d.port", port: 4141, prefix: "/p" })).toEqual({
      kind: "io.l5d.port",
      port: 4141,
      prefix: Path.read("/p")
    })
  })

  it("the proxy's config takes transformers on the default interpreter and on namers, with located errors", () => {
    const ok = Config.parse(routerWith("    - kind: io.l5d.port\n      port: 4141\n    - kind: io.l5d.localhost"))
    expect(Result.isSuccess(ok)).toBe(true)
    const namer = Config.parse(`
namers:
- kind: io.l5d.fs
  rootDir: disco
  transformers: [{kind: io.l5d.specificHost, host: 10.0.0.1}]
routers:
- protocol: http
  servers: [{port: 4140}]
`)
    expect(Result.isSuccess(namer)).toBe(true)
    const messages = (text: string) => {
      const r = Config.parse(text)
      return Result.isFailure(r) ? r.failure.map((p) => `${p.path}: ${p.message}`).join("\n") : ""
    }
    expect(messages(routerWith("    - kind: io.l5d.port"))).toContain("routers[0].interpreter.transformers[0].port")
    expect(messages(routerWith("    - kind: io.l5d.port\n      port: 70000"))).toContain(
      "routers[0].interpreter.transformers[0].port"
    )
    expect(messages(routerWith("    - kind: io.l5d.nope"))).toContain("routers[0].interpreter.transformers[0]")
    expect(messages(routerWith("    - kind: io.l5d.replace\n      path: not-a-path"))).toContain("invalid path")
  })
})
