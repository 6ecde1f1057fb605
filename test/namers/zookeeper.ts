/**
 * A real ZooKeeper (Debian's `zookeeper` package) on 127.0.0.1 for the ZooKeeper namer and
 * announcer tests: a standalone server on a free port with a temporary data directory, which the
 * test can stop and restart on the same port and data (sessions and ephemeral nodes survive a short
 * restart, as on a real ensemble). Also a small client for the test to write znodes with.
 */
import * as zookeeper from "node-zookeeper-client"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"

export const jar = "/usr/share/java/zookeeper.jar"
const java = "/usr/bin/java"

export interface ZooKeeper {
  readonly port: number
  readonly connectString: string
  /** Stops the server (SIGTERM, waits for exit): clients see the connection lost. */
  readonly stop: () => Promise<void>
  /** Starts it again on the same port and data directory. */
  readonly restart: () => Promise<void>
  /** Stops it and removes the data directory. */
  readonly close: () => Promise<void>
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

/** Sends a four-letter word; resolves with the answer, or "" when the server is not there. */
const fourLetter = (port: number, word: string): Promise<string> =>
  new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port })
    let answer = ""
    socket.setTimeout(500, () => socket.destroy())
    socket.on("connect", () => socket.write(word))
    socket.on("data", (d) => (answer += d.toString()))
    socket.on("error", () => {})
    socket.on("close", () => resolve(answer))
  })

const launch = async (cfg: string, port: number): Promise<ChildProcess> => {
  const child = spawn(
    java,
    [
      "-Xmx96m",
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      "-Dzookeeper.jmx.log4j.disable=true",
      "-cp",
      `${jar}:/usr/share/java/slf4j-nop.jar`,
      "org.apache.zookeeper.server.ZooKeeperServerMain",
      cfg
    ],
    { stdio: ["ignore", "ignore", "pipe"] }
  )
  let stderr = ""
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()))
  let exited: number | null | undefined
  child.on("exit", (code) => (exited = code))
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`zookeeper exited (${exited}) on port ${port}: ${stderr}`)
    if ((await fourLetter(port, "ruok")) === "imok") return child
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

/** Starts ZooKeeper on a free loopback port; fails (never skips) with a clear message when it is not installed. */
export const start = async (): Promise<ZooKeeper> => {
  if (!fs.existsSync(jar) || !fs.existsSync(java)) {
    throw new Error(
      `${jar} or ${java} not found: the ZooKeeper tests need a real ZooKeeper (Debian package zookeeper: ` +
        "`apt-get install -y zookeeper`; .ci/run installs it)"
    )
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "weir-zk-"))
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const cfg = path.join(dir, "zoo.cfg")
    fs.writeFileSync(
      cfg,
      [
        "tickTime=200",
        `dataDir=${path.join(dir, "data")}`,
        `clientPort=${port}`,
        "clientPortAddress=127.0.0.1",
        "admin.enableServer=false",
        "4lw.commands.whitelist=*",
        "minSessionTimeout=400",
        "maxSessionTimeout=60000",
        "preAllocSize=1024",
        "snapCount=1000",
        "forceSync=no",
        ""
      ].join("\n")
    )
    try {
      let child = await launch(cfg, port)
      return {
        port,
        connectString: `127.0.0.1:${port}`,
        stop: () => kill(child),
        restart: async () => {
          await kill(child)
          child = await launch(cfg, port)
        },
        close: async () => {
          await kill(child)
          fs.rmSync(dir, { recursive: true, force: true })
        }
      }
    } catch (e) {
      lastError = e
    }
  }
  fs.rmSync(dir, { recursive: true, force: true })
  throw lastError
}

/** A test's own ZooKeeper client, to write znodes with (promises). */
export interface Writer {
  readonly create: (path: string, data: string, mode?: "persistent" | "ephemeral") => Promise<string>
  readonly set: (path: string, data: string) => Promise<void>
  readonly remove: (path: string) => Promise<void>
  readonly children: (path: string) => Promise<Array<string>>
  readonly session: () => { readonly id: Buffer; readonly password: Buffer }
  readonly close: () => void
}

const promise = <A>(f: (cb: (e: unknown, a: A) => void) => void): Promise<A> =>
  new Promise((resolve, reject) => f((e, a) => (e ? reject(e) : resolve(a))))

/** Connects a writer to `connectString`. */
export const writer = (connectString: string): Promise<Writer> =>
  new Promise((resolve) => {
    const client = zookeeper.createClient(connectString, { sessionTimeout: 4000, spinDelay: 100 })
    // as the namers' session does: drop a socket stuck in the handshake with a stopping server
    let connected = false
    client.on("state", (s) => (connected = s === zookeeper.State.SYNC_CONNECTED))
    let watched: { socket: unknown; since: number } | undefined
    const watchdog = setInterval(() => {
      const socket = (client as unknown as { connectionManager?: { socket?: { destroy?: () => void } } })
        .connectionManager?.socket
      if (connected || socket === undefined) return void (watched = undefined)
      if (watched?.socket !== socket) watched = { socket, since: Date.now() }
      else if (Date.now() - watched.since > 1000) {
        watched = undefined
        socket.destroy?.()
      }
    }, 250)
    watchdog.unref()
    client.once("connected", () =>
      resolve({
        create: async (p, data, mode) => {
          const parent = p.slice(0, p.lastIndexOf("/"))
          if (parent !== "") await promise<string>((cb) => client.mkdirp(parent, cb))
          return promise<string>((cb) =>
            client.create(
              p,
              Buffer.from(data),
              mode === "ephemeral" ? zookeeper.CreateMode.EPHEMERAL : zookeeper.CreateMode.PERSISTENT,
              cb
            )
          )
        },
        set: async (p, data) => {
          await promise((cb) => client.setData(p, Buffer.from(data), cb))
        },
        remove: async (p) => {
          await promise<void>((cb) => client.remove(p, (e) => cb(e, undefined)))
        },
        children: (p) => promise<Array<string>>((cb) => client.getChildren(p, cb)),
        session: () => ({ id: client.getSessionId(), password: client.getSessionPassword() }),
        close: () => {
          clearInterval(watchdog)
          client.close()
        }
      }))
    client.connect()
  })

/**
 * Expires a session, as a ZooKeeper ensemble does when a client is partitioned away: a second
 * client opens the same session (id and password) and closes it, which ends the session on the
 * server; the first client then learns on its next contact that the session expired.
 */
export const expire = (connectString: string, id: Buffer, password: Buffer): Promise<void> =>
  new Promise((resolve) => {
    const client = zookeeper.createClient(connectString, { sessionTimeout: 4000, spinDelay: 100 })
    const manager = (client as unknown as { connectionManager: { sessionId: Buffer; sessionPassword: Buffer } })
      .connectionManager
    manager.sessionId = id
    manager.sessionPassword = password
    let done = false
    const finish = () => {
      if (done) return
      done = true
      client.close()
      setTimeout(resolve, 100)
    }
    // connected: closing ends the session; expired already: nothing to do; no answer: give up
    client.on("state", (s) => {
      if (s === zookeeper.State.SYNC_CONNECTED || s === zookeeper.State.EXPIRED) finish()
    })
    setTimeout(finish, 3000)
    client.connect()
  })

/**
 * Expires a session until `expired()` says it is: the owner may win the session back before the
 * taking-over client closes it (a race on a loaded machine), so this retries, up to 10 times.
 */
export const expireSession = async (
  connectString: string,
  credentials: () => { readonly id: Buffer; readonly password: Buffer },
  expired: () => boolean
): Promise<void> => {
  for (let attempt = 0; attempt < 10; attempt++) {
    const { id, password } = credentials()
    await expire(connectString, id, password)
    for (let i = 0; i < 100 && !expired(); i++) await new Promise((r) => setTimeout(r, 20))
    if (expired()) return
  }
  throw new Error("could not expire the session")
}
