/**
 * A fake Marathon for the io.l5d.marathon tests (no Marathon/Mesos is packaged for this machine),
 * following Marathon's documented REST API for what the namer reads:
 *
 * - `GET /v2/apps` — `{"apps": [{"id": "/group/web", "healthChecks": [...], …}]}`;
 * - `GET /v2/tasks` — `{"tasks": [{"id", "appId", "host", "ports": [...], "state": "TASK_RUNNING",
 *   "healthCheckResults": [{"alive": true, …}]}]}`;
 *
 * optionally under a URI prefix (as behind DC/OS's admin router at `/marathon`), and optionally
 * protected as DC/OS does: a login endpoint (`POST /acs/api/v1/auth/login` with `{uid, token}`, the
 * token an RS256 JWT checked against the service account's public key) issuing tokens accepted as
 * `Authorization: token=…`, or HTTP basic credentials.
 */
import * as crypto from "node:crypto"
import * as http from "node:http"
import type * as net from "node:net"

export interface Task {
  readonly host: string
  readonly port: number
  readonly alive?: ReadonlyArray<boolean>
  readonly state?: string
}

export interface App {
  readonly id: string
  readonly healthChecks?: boolean
  readonly tasks: ReadonlyArray<Task>
}

export interface FakeMarathon {
  readonly port: number
  readonly requests: Array<{ readonly path: string; readonly authorization: string | undefined }>
  readonly setApps: (apps: ReadonlyArray<App>) => void
  readonly failNext: (n: number, status?: number) => void
  readonly garbageNext: (n: number) => void
  /** Drops every issued token (the next request with one gets 401). */
  readonly revokeTokens: () => void
  readonly logins: () => number
  readonly close: () => Promise<void>
}

export interface Options {
  readonly uriPrefix?: string
  readonly basic?: string
  readonly serviceAccount?: { readonly uid: string; readonly publicKey: string }
}

const verify = (jwt: string, uid: string, publicKey: string): boolean => {
  const [head, body, sig] = jwt.split(".")
  if (head === undefined || body === undefined || sig === undefined) return false
  const ok = crypto.verify("RSA-SHA256", Buffer.from(`${head}.${body}`), publicKey, Buffer.from(sig, "base64url"))
  const claims = JSON.parse(Buffer.from(body, "base64url").toString()) as { uid?: string; exp?: number }
  return ok && claims.uid === uid && typeof claims.exp === "number"
}

export const start = (options: Options = {}): Promise<FakeMarathon> =>
  new Promise((resolve) => {
    let apps: ReadonlyArray<App> = []
    let failing = { n: 0, status: 500 }
    let garbage = 0
    let logins = 0
    const tokens = new Set<string>()
    const requests: Array<{ path: string; authorization: string | undefined }> = []
    const prefix = options.uriPrefix ?? ""
    const sockets = new Set<net.Socket>()
    const json = (res: http.ServerResponse, status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" })
      res.end(JSON.stringify(body))
    }
    const server = http.createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://marathon").pathname
      requests.push({ path, authorization: req.headers.authorization })
      if (req.method === "POST" && path === "/acs/api/v1/auth/login" && options.serviceAccount !== undefined) {
        let body = ""
        req.on("data", (c: Buffer) => (body += c.toString()))
        req.on("end", () => {
          const { token, uid } = JSON.parse(body) as { uid: string; token: string }
          if (uid !== options.serviceAccount!.uid || !verify(token, uid, options.serviceAccount!.publicKey)) {
            return json(res, 401, { title: "Invalid token" })
          }
          logins++
          const issued = crypto.randomBytes(12).toString("hex")
          tokens.add(issued)
          json(res, 200, { token: issued })
        })
        return
      }
      if (options.serviceAccount !== undefined) {
        const m = /^token=(.+)$/.exec(req.headers.authorization ?? "")
        if (m === null || !tokens.has(m[1]!)) return json(res, 401, { message: "unauthorized" })
      }
      if (options.basic !== undefined && req.headers.authorization !== `Basic ${options.basic}`) {
        return json(res, 401, { message: "unauthorized" })
      }
      if (path !== `${prefix}/v2/apps` && path !== `${prefix}/v2/tasks`) return json(res, 404, { message: "not found" })
      if (failing.n > 0) {
        failing.n--
        return json(res, failing.status, { message: "simulated failure" })
      }
      if (garbage > 0) {
        garbage--
        res.writeHead(200, { "content-type": "application/json" })
        return res.end("{\"apps\": 42")
      }
      if (path.endsWith("/v2/apps")) {
        return json(res, 200, {
          apps: apps.map((a) => ({
            id: a.id,
            instances: a.tasks.length,
            healthChecks: a.healthChecks === true ? [{ protocol: "HTTP", path: "/health" }] : []
          }))
        })
      }
      json(res, 200, {
        tasks: apps.flatMap((a, i) =>
          a.tasks.map((t, j) => ({
            id: `${a.id.replace(/\//g, "_")}.${i}-${j}`,
            appId: a.id,
            host: t.host,
            ports: [t.port],
            state: t.state ?? "TASK_RUNNING",
            ...(t.alive !== undefined ? { healthCheckResults: t.alive.map((alive) => ({ alive })) } : {})
          }))
        )
      })
    })
    server.on("connection", (s) => {
      sockets.add(s)
      s.on("close", () => sockets.delete(s))
    })
    server.listen(0, "127.0.0.1", () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        requests,
        setApps: (next) => (apps = next),
        failNext: (n, status = 500) => (failing = { n, status }),
        garbageNext: (n) => (garbage = n),
        revokeTokens: () => tokens.clear(),
        logins: () => logins,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          })
      }))
  })
