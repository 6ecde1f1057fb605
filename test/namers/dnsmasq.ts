/**
 * A real dnsmasq on 127.0.0.1 for the dnssrv tests: no daemon, no system config, only the records
 * given. Answers NXDOMAIN for unknown names under `.local`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as dgram from "node:dgram"
import * as dns from "node:dns"
import * as fs from "node:fs"

export const binary = "/usr/sbin/dnsmasq"

export interface Records {
  readonly srv?: ReadonlyArray<
    {
      readonly name: string
      readonly target: string
      readonly port: number
      readonly priority?: number
      readonly weight?: number
    }
  >
  readonly hosts?: ReadonlyArray<{ readonly name: string; readonly ip: string }>
}

export interface Dnsmasq {
  readonly port: number
  /** Stops the server (the port is then closed: lookups get ECONNREFUSED). */
  readonly stop: () => Promise<void>
  /** Restarts it on the same port with other records. */
  readonly restart: (records: Records) => Promise<void>
}

const freeUdpPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4")
    s.once("error", reject)
    s.bind(0, "127.0.0.1", () => {
      const port = s.address().port
      s.close(() => resolve(port))
    })
  })

const args = (port: number, records: Records): Array<string> => [
  "--keep-in-foreground",
  "--no-resolv",
  "--no-hosts",
  "--conf-file=/dev/null",
  "--pid-file=",
  "--bind-interfaces",
  "--listen-address=127.0.0.1",
  `--port=${port}`,
  "--local=/local/",
  ...(records.srv ?? []).map((r) => `--srv-host=${r.name},${r.target},${r.port},${r.priority ?? 0},${r.weight ?? 0}`),
  ...(records.hosts ?? []).map((h) => `--host-record=${h.name},${h.ip}`)
]

const launch = async (port: number, records: Records): Promise<ChildProcess> => {
  const child = spawn(binary, args(port, records), { stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()))
  let exited: number | null | undefined
  child.on("exit", (code) => (exited = code))
  const resolver = new dns.promises.Resolver({ timeout: 200, tries: 1 })
  resolver.setServers([`127.0.0.1:${port}`])
  for (let i = 0; i < 100; i++) {
    if (exited !== undefined) throw new Error(`dnsmasq exited (${exited}) on port ${port}: ${stderr}`)
    try {
      await resolver.resolveSrv("ready.check.local")
      return child
    } catch (e) {
      if ((e as { code?: string }).code === dns.NOTFOUND) return child
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  child.kill("SIGKILL")
  throw new Error(`dnsmasq did not answer on 127.0.0.1:${port}: ${stderr}`)
}

const kill = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGTERM")
  })

/** Starts dnsmasq on a free UDP port; fails (never skips) with a clear message when it is not installed. */
export const start = async (records: Records): Promise<Dnsmasq> => {
  if (!fs.existsSync(binary)) {
    throw new Error(
      `${binary} not found: the dnssrv tests need a real dnsmasq (Debian package dnsmasq-base: ` +
        "`apt-get install -y dnsmasq-base`; .ci/run installs it)"
    )
  }
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeUdpPort()
    try {
      let child = await launch(port, records)
      return {
        port,
        stop: () => kill(child),
        restart: async (next) => {
          await kill(child)
          child = await launch(port, next)
        }
      }
    } catch (e) {
      lastError = e
    }
  }
  throw lastError
}
