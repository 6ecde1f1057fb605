import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Tls from "../../src/http/transport/Tls.js"
import * as Path from "../../src/naming/Path.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"

const problems = (text: string): ReadonlyArray<string> => {
  const r = Config.parse(text)
  return Result.isFailure(r) ? r.failure.map((p) => `${p.path}: ${p.message}`) : []
}

const router = (server: string, client = "") =>
  `routers:\n- protocol: http\n  servers: [${server}]\n${client === "" ? "" : `  client: ${client}\n`}`

describe("tls sections", () => {
  it("decode a server's, the admin's and a client's (global and per prefix)", () => {
    const r = Config.parse(`
admin: {port: 0, tls: {certPath: a.pem, keyPath: a.key}}
${
      router(
        "{port: 0, tls: {certPath: s.pem, keyPath: s.key, caCertPath: ca.pem, requireClientAuth: true, protocols: [TLSv1.3]}}",
        "{kind: io.l5d.static, configs: [{prefix: '/#/io.l5d.fs/{service}', tls: {commonName: '{service}.x'}}]}"
      )
    }`)
    if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
    expect(r.success.admin.tls).toEqual({ certPath: "a.pem", keyPath: "a.key", requireClientAuth: false })
    expect(r.success.routers[0]!.servers[0]!.tls).toMatchObject({ requireClientAuth: true, protocols: ["TLSv1.3"] })
    expect(r.success.routers[0]!.client[0]!.params.tls).toEqual({
      enabled: true,
      commonName: "{service}.x",
      disableValidation: false
    })
  })

  it("locates what is wrong, never showing a keyPath's value", () => {
    expect(problems(router("{tls: {certPath: s.pem, keyPath: s.key, requireClientAuth: true}}"))).toEqual([
      "routers[0].servers[0].tls.caCertPath: requireClientAuth needs caCertPath (the CA client certificates must chain to)"
    ])
    expect(problems(router("{tls: {certPath: s.pem, keyPath: s.key, protocols: [SSLv3]}}"))).toEqual([
      expect.stringMatching(/^routers\[0\]\.servers\[0\]\.tls\.protocols\[0\]: unknown TLS protocol "SSLv3"/)
    ])
    expect(problems(router("{tls: {certPath: s.pem}}"))).toEqual([
      "routers[0].servers[0].tls.keyPath: missing required key"
    ])
    const secret = problems(router("{tls: {certPath: s.pem, keyPath: 42}}"))
    expect(secret).toHaveLength(1)
    expect(secret[0]).toMatch(/^routers\[0\]\.servers\[0\]\.tls\.keyPath: /)
    expect(secret[0]).not.toContain("42")
    expect(problems(router("{port: 0}", "{tls: {commonName: x, clientAuth: {certPath: c.pem}}}"))).toEqual([
      "routers[0].client.tls.clientAuth.keyPath: missing required key"
    ])
  })
})

describe("client tls per bound id (Linker.clientTls)", () => {
  it.effect("the last matching config with tls decides; commonName gets that prefix's captures", () =>
    Effect.gen(function*() {
      const r = Config.parse(router(
        "{port: 0}",
        `{kind: io.l5d.static, configs: [
          {prefix: /, tls: {commonName: everyone.example.com}},
          {prefix: '/#/io.l5d.fs/{service}', tls: {commonName: '{service}.{zone}.example.com'}},
          {prefix: '/$/inet/*', loadBalancer: {kind: ewma}},
          {prefix: '/#/io.l5d.fs/plain', tls: {enabled: false}}]}`
      ))
      if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
      const configs = r.success.routers[0]!.client
      const loaded = yield* Effect.forEach(
        configs,
        (c) => c.params.tls === undefined || !c.params.tls.enabled ? Effect.succeed(undefined) : Tls.client({})
      )
      const name = (id: string) => Linker.clientTls(configs, Path.parseUnsafe(id), loaded)?.commonName
      expect(name("/#/io.l5d.fs/books/extra")).toBe("books.{zone}.example.com")
      expect(name("/$/inet/127.0.0.1/8080")).toBe("everyone.example.com")
      // enabled: false, later in the list: plaintext for that name, whatever matched before
      expect(Linker.clientTls(configs, Path.parseUnsafe("/#/io.l5d.fs/plain"), loaded)).toBeUndefined()
      expect(Linker.clientParams(configs, Path.parseUnsafe("/#/io.l5d.fs/web"), loaded).pool?.tls)
        .toMatchObject({ commonName: "web.{zone}.example.com", rejectUnauthorized: true })
      expect(Linker.clientParams(configs, Path.parseUnsafe("/#/io.l5d.fs/web")).pool.tls).toBeUndefined()
    }))
})
