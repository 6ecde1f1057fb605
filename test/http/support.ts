import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import * as net from "node:net"

export interface Backend {
  readonly port: number
  readonly server: http.Server
  /** Requests seen, in order. */
  readonly seen: Array<{ readonly method: string; readonly url: string; readonly headers: http.IncomingHttpHeaders }>
  readonly kill: () => Promise<void>
}

/** A node:http backend on 127.0.0.1, closed with the scope. */
export const backend = (
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void
): Effect.Effect<Backend, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<Backend>((resolve) => {
        const seen: Backend["seen"] = []
        const server = http.createServer((req, res) => {
          seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers })
          handler(req, res)
        })
        server.keepAliveTimeout = 60_000
        server.listen(0, "127.0.0.1", () => {
          const port = (server.address() as net.AddressInfo).port
          resolve({
            port,
            server,
            seen,
            kill: () =>
              new Promise<void>((done) => {
                server.close(() => done())
                server.closeAllConnections()
              })
          })
        })
      })
    ),
    (b) => Effect.promise(() => b.server.listening ? b.kill() : Promise.resolve())
  )

/** A backend that answers `text` with status 200 (echoing method and url in headers). */
export const textBackend = (text: string, status = 200) =>
  backend((req, res) => {
    req.resume()
    req.on("end", () => {
      res.writeHead(status, { "content-type": "text/plain", "x-backend": text, "x-url": req.url ?? "" })
      res.end(text)
    })
  })

export interface Reply {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/** One request to 127.0.0.1:port; resolves with status, headers and body text. */
export const send = (
  port: number,
  options: {
    readonly method?: string
    readonly path?: string
    readonly headers?: http.OutgoingHttpHeaders
    readonly body?: string | Buffer
    readonly agent?: http.Agent | false
  } = {}
): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port,
      method: options.method ?? "GET",
      path: options.path ?? "/",
      headers: options.headers ?? {},
      agent: options.agent ?? false
    }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }))
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(options.body)
  })

export const sendE = (port: number, options?: Parameters<typeof send>[1]) => Effect.promise(() => send(port, options))

/** Writes raw bytes on a fresh connection and resolves with everything read until the peer closes (or `ms`). */
export const raw = (port: number, data: string, ms = 2000): Promise<string> =>
  new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1")
    let out = ""
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(out)
    }, ms)
    socket.on("data", (d) => (out += d.toString("latin1")))
    socket.on("close", () => {
      clearTimeout(timer)
      resolve(out)
    })
    socket.on("error", () => {})
    socket.write(data)
  })

/** A port nothing listens on (bound then released). */
export const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = net.createServer()
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

/** `GET url` (on loopback) with `headers`; fails (not dies) when the connection does. */
export const getUrl = (url: string, headers: http.OutgoingHttpHeaders = {}): Effect.Effect<Reply, unknown> => {
  const u = new URL(url)
  return Effect.tryPromise(() => send(Number(u.port), { path: u.pathname + u.search, headers, agent: false }))
}
