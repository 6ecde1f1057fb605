/**
 * Test certificates made with the system's `openssl` at test time in a temp dir: a CA, a server
 * certificate for a name (and 127.0.0.1), a client certificate, an expired one and a second,
 * unrelated CA.
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

export interface Pair {
  readonly cert: string
  readonly key: string
}

export interface Certs {
  readonly dir: string
  readonly ca: Pair
  /** Another CA nothing here is signed by. */
  readonly otherCa: Pair
  /** A server certificate for `name` and for IP 127.0.0.1, signed by `ca`. */
  readonly server: (name: string) => Pair
  /** Like `server` but no longer valid (its notAfter is yesterday). */
  readonly expired: (name: string) => Pair
  /** A client certificate signed by `ca` (or by `otherCa`). */
  readonly client: (name: string, byOther?: boolean) => Pair
  readonly remove: () => void
}

const openssl = (dir: string, args: ReadonlyArray<string>) =>
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] })

const keyArgs = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

export const makeCerts = (): Certs => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "weir-tls-"))
  let n = 0
  const selfSigned = (name: string): Pair => {
    const cert = Path.join(dir, `${name}.pem`)
    const key = Path.join(dir, `${name}.key`)
    openssl(dir, ["req", "-x509", ...keyArgs, "-keyout", key, "-out", cert, "-subj", `/CN=${name}`, "-days", "2"])
    return { cert, key }
  }
  const ca = selfSigned("ca")
  const otherCa = selfSigned("other-ca")
  const signed = (name: string, by: Pair, days: number, san: string | undefined): Pair => {
    const base = Path.join(dir, `leaf-${n++}`)
    const csr = `${base}.csr`
    const ext = `${base}.ext`
    openssl(dir, ["req", "-new", ...keyArgs, "-keyout", `${base}.key`, "-out", csr, "-subj", `/CN=${name}`])
    Fs.writeFileSync(ext, san === undefined ? "basicConstraints=CA:FALSE\n" : `subjectAltName=${san}\n`)
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      by.cert,
      "-CAkey",
      by.key,
      "-CAcreateserial",
      "-out",
      `${base}.pem`,
      "-days",
      String(days),
      "-extfile",
      ext
    ])
    return { cert: `${base}.pem`, key: `${base}.key` }
  }
  return {
    dir,
    ca,
    otherCa,
    server: (name) => signed(name, ca, 2, `DNS:${name},IP:127.0.0.1`),
    // a negative -days puts notAfter before notBefore's "now": the certificate has expired
    expired: (name) => signed(name, ca, -1, `DNS:${name},IP:127.0.0.1`),
    client: (name, byOther) => signed(name, byOther === true ? otherCa : ca, 2, undefined),
    remove: () => Fs.rmSync(dir, { recursive: true, force: true })
  }
}
