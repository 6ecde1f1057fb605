/**
 * A real etcd on 127.0.0.1 for the namerd tests: free client and peer ports, a temporary data
 * directory, one member. `stop`/`restart` keep the data and the ports.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as nodePath from "node:path"

export const binary = "/usr/bin/etcd"

export interface Etcd {
  readonly port: number
  readonly stop: () => Promise<void>
  readonly restart: () => Promise<void>
  /** Stops it and removes its data directory. */
  readonly close: () => Promise<void>
}

export const freeTcpPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

const healthy = (port: number): Promise<boolean> =>
  fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)

const launch = async (dir: string, port: number, peer: number): Promise<ChildProcess> => {
  const child = spawn(binary, [
    "--name",
    "default",
    "--data-dir",
    dir,
    "--listen-client-urls",
    `http://127.0.0.1:${port}`,
    "--advertise-client-urls",
    `http://127.0.0.1:${port}`,
    "--listen-peer-urls",
    `http://127.0.0.1:${peer}`,
    "--initial-advertise-peer-urls",
    `http://127.0.0.1:${peer}`,
    "--initial-cluster",
    `default=http://127.0.0.1:${peer}`,
    "--log-level",
    "error"
  ], { stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  let exited: number | null | undefined
  child.on("exit", (code) => (exited = code))
  for (let i = 0; i < 200; i++) {
    if (exited !== undefined) throw new Error(`etcd exited (${exited}) on port ${port}: ${stderr}`)
    if (await healthy(port)) return child
    await new Promise((r) => setTimeout(r, 50))
  }
  child.kill("SIGKILL")
  throw new Error(`etcd did not answer on 127.0.0.1:${port}: ${stderr}`)
}

const kill = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGTERM")
  })

/** Starts etcd; fails (never skips) with a clear message when it is not installed. */
export const start = async (): Promise<Etcd> => {
  if (!fs.existsSync(binary)) {
    throw new Error(
      `${binary} not found: the namerd io.l5d.etcd tests need a real etcd (Debian package etcd-server: ` +
        "`apt-get install -y etcd-server`; .ci/run installs it)"
    )
  }
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "weir-etcd-"))
    const port = await freeTcpPort()
    const peer = await freeTcpPort()
    try {
      let child = await launch(dir, port, peer)
      return {
        port,
        stop: () => kill(child),
        restart: async () => {
          await kill(child)
          child = await launch(dir, port, peer)
        },
        close: async () => {
          await kill(child)
          fs.rmSync(dir, { recursive: true, force: true })
        }
      }
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true })
      lastError = e
    }
  }
  throw lastError
}
