import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import * as Config from "../../src/proxy/Config.js"

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
    expect(r.success.routers[0]!.client[0]!.params.tls).toEqual({ commonName: "{service}.x", disableValidation: false })
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
