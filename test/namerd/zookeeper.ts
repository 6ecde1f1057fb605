/**
 * A real ZooKeeper (Debian's `zookeeper` package, standalone `ZooKeeperServerMain`) on 127.0.0.1
 * for the namerd tests: a free port, a temporary data directory, `tickTime` 500 ms (sessions of 1 s
 * and more). `stop`/`restart` keep the data and the port.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as nodePath from "node:path"
import { freeTcpPort } from "./etcd.js"

const jars = [
  "zookeeper",
  "zookeeper-jute",
  "slf4j-api",
  "netty-handler",
  "netty-common",
  "netty-buffer",
  "netty-transport",
  "netty-codec",
  "netty-resolver",
  "netty-transport-native-epoll",
  "netty-transport-native-unix-common",
  "commons-io",
  "metrics-core",
  "snappy-java"
].map((j) => `/usr/share/java/${j}.jar`)

export interface ZooKeeper {
  readonly port: number
  readonly stop: () => Promise<void>
  readonly restart: () => Promise<void>
  readonly close: () => Promise<void>
}

const ruok = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => s.write("ruok"))
    let answer = ""
    s.on("data", (d) => (answer += d.toString()))
    s.on("close", () => resolve(answer === "imok"))
    s.on("error", () => resolve(false))
    s.setTimeout(1000, () => s.destroy())
  })

const launch = async (dir: string, port: number): Promise<ChildProcess> => {
  const cfg = nodePath.join(dir, "zoo.cfg")
  fs.writeFileSync(
    cfg,
    [
      "tickTime=500",
      `dataDir=${nodePath.join(dir, "data")}`,
      `clientPort=${port}`,
      "clientPortAddress=127.0.0.1",
      "admin.enableServer=false",
      "4lw.commands.whitelist=ruok"
    ].join("\n") + "\n"
  )
  const child = spawn(
    "java",
    ["-Xmx128m", "-cp", jars.join(":"), "org.apache.zookeeper.server.ZooKeeperServerMain", cfg],
    { stdio: ["ignore", "ignore", "pipe"] }
  )
  let stderr = ""
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)))
  let exited: number | null | undefined
  child.on("exit", (code) => (exited = code))
  for (let i = 0; i < 300; i++) {
    if (exited !== undefined) throw new Error(`zookeeper exited (${exited}) on port ${port}: ${stderr}`)
    if (await ruok(port)) return child
    await new Promise((r) => setTimeout(r, 50))
  }
  child.kill("SIGKILL")
  throw new Error(`zookeeper did not answer on 127.0.0.1:${port}: ${stderr}`)
}

const kill = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGTERM")
  })

/** Starts ZooKeeper; fails (never skips) with a clear message when it is not installed. */
export const start = async (): Promise<ZooKeeper> => {
  const missing = jars.filter((j) => !fs.existsSync(j))
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(", ")} not found: the namerd io.l5d.zk tests need a real ZooKeeper (Debian package zookeeper: ` +
        "`apt-get install -y zookeeper`; .ci/run installs it)"
    )
  }
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), "weir-zk-"))
    const port = await freeTcpPort()
    try {
      let child = await launch(dir, port)
      return {
        port,
        stop: () => kill(child),
        restart: async () => {
          await kill(child)
          child = await launch(dir, port)
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
