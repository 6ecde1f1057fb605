import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as https from "node:https"
import * as Path from "node:path"
import { type Certs, makeCerts } from "../support/certs.js"

let certs: Certs
beforeAll(() => {
  certs = makeCerts()
})
afterAll(() => certs.remove())

/** Polls `f` until it returns a value (at most ~30 s, then throws with `what`). */
const until = async <A>(what: () => string, f: () => A | undefined): Promise<A> => {
  for (let i = 0; i < 600; i++) {
    const a = f()
    if (a !== undefined) return a
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out: ${what()}`)
}

/** An HTTPS GET to the proxy checking its certificate for `servername`; the status, or the error's message. */
const get = (port: number, servername: string) =>
  new Promise<string>((resolve) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        path: "/",
        headers: { host: "web" },
        agent: false,
        ca: Fs.readFileSync(certs.ca.cert),
        servername
      },
      (res) => {
        res.resume()
        res.on("end", () => resolve(String(res.statusCode)))
      }
    )
    req.on("error", (e) => resolve(e.message))
    req.end()
  })

describe("weir proxy: SIGHUP reloads TLS files (child process)", () => {
  it("new connections get the new certificate; a bad key is reported and the old files stay", async () => {
    const certPath = Path.join(certs.dir, "live.pem")
    const keyPath = Path.join(certs.dir, "live.key")
    const one = certs.server("one.test")
    const two = certs.server("two.test")
    Fs.copyFileSync(one.cert, certPath)
    Fs.copyFileSync(one.key, keyPath)
    const file = Path.join(certs.dir, "weir.yaml")
    Fs.writeFileSync(
      file,
      `admin: {port: 0}
routers:
- protocol: http
  dtab: /svc/web => /$/nil;
  servers:
  - {port: 0, tls: {certPath: ${certPath}, keyPath: ${keyPath}}}
`
    )
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "src/bin/weir.ts", "proxy", file], {
      cwd: process.cwd(),
      stdio: "pipe"
    })
    let out = ""
    let err = ""
    child.stdout!.on("data", (c: Buffer) => (out += c.toString()))
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()))
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    try {
      const port = await until(() => out + err, () => {
        const m = /on 127\.0\.0\.1:(\d+); admin/.exec(out)
        return m === null ? undefined : Number(m[1])
      })
      // /$/nil binds to nothing: a 502 from weir means the TLS connection was accepted
      expect(await get(port, "one.test")).toBe("502")
      expect(await get(port, "two.test")).toMatch(/two\.test/)

      Fs.copyFileSync(two.cert, certPath)
      Fs.copyFileSync(two.key, keyPath)
      child.kill("SIGHUP")
      await until(() => out, () => out.includes("TLS files reloaded") ? true : undefined)
      expect(await get(port, "two.test")).toBe("502")

      Fs.writeFileSync(keyPath, "not a key")
      child.kill("SIGHUP")
      await until(() => err, () => err.includes("were not reloaded") ? true : undefined)
      expect(err).toContain("routers[0].servers[0].tls")
      expect(err).not.toContain("not a key")
      expect(await get(port, "two.test")).toBe("502")
      expect(child.exitCode).toBeNull()
    } finally {
      child.kill("SIGTERM")
      await exited
    }
  }, 60_000)
})
