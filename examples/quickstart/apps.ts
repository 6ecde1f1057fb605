/**
 * The quickstart's services, as in the seed talk's demo: `web` calls `books` and `authors` through
 * the proxy, and `books-v2` is a new version of `books` to canary with a per-request dtab. Each is
 * a tiny `node:http` app; `startApps` starts all four in this process, `app.ts` one of them alone
 * (as in a container).
 *
 * `web` forwards the `l5d-ctx-*` headers of its request on the calls it makes, as every service
 * behind linkerd should, so a dtab override sent to `web` also routes `web`'s calls.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

/** Where the four apps listen; `0` picks a free port. */
export interface Ports {
  readonly web: number
  readonly books: number
  readonly authors: number
  readonly "books-v2": number
}

/** The ports `npm start` uses. */
export const defaultPorts: Ports = { web: 7100, books: 7101, authors: 7102, "books-v2": 7103 }

const books = [
  { id: 1, title: "The Left Hand of Darkness", authorId: 1 },
  { id: 2, title: "A Wizard of Earthsea", authorId: 1 },
  { id: 3, title: "Kindred", authorId: 2 }
]
const authors = [{ id: 1, name: "Ursula K. Le Guin" }, { id: 2, name: "Octavia E. Butler" }]

const json = (res: Http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body, null, 2) + "\n"
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
  res.end(text)
}

const listOrOne = <A extends { readonly id: number }>(items: ReadonlyArray<A>, url: string, extra: object) => {
  const m = /^\/(?:\w+\/)?(\d+)\/?$/.exec(url.split("?")[0]!)
  if (m === null) return { status: 200, body: { ...extra, items } }
  const item = items.find((i) => i.id === Number(m[1]))
  return item === undefined
    ? { status: 404, body: { ...extra, error: "not found" } }
    : { status: 200, body: { ...extra, ...item } }
}

const booksApp = (version: string) => (req: Http.IncomingMessage, res: Http.ServerResponse) => {
  const r = listOrOne(
    version === "v2" ? books.map((b) => ({ ...b, title: b.title.toUpperCase() })) : books,
    req.url ?? "/",
    { service: "books", version }
  )
  json(res, r.status, r.body)
}

const authorsApp = (req: Http.IncomingMessage, res: Http.ServerResponse) => {
  const r = listOrOne(authors, req.url ?? "/", { service: "authors", version: "v1" })
  json(res, r.status, r.body)
}

const call = (proxy: string, host: string, path: string, ctx: Http.IncomingHttpHeaders): Promise<any> =>
  new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host }
    for (const [k, v] of Object.entries(ctx)) if (k.startsWith("l5d-ctx-") && typeof v === "string") headers[k] = v
    const url = new URL(path, proxy)
    const req = Http.request(url, { headers }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        try {
          resolve(JSON.parse(text))
        } catch {
          reject(new Error(`${host}${path}: ${res.statusCode} ${text.trim()}`))
        }
      })
    })
    req.on("error", reject)
    req.end()
  })

const webApp = (proxyUrl: string | (() => string)) => (req: Http.IncomingMessage, res: Http.ServerResponse) => {
  const proxy = typeof proxyUrl === "string" ? proxyUrl : proxyUrl()
  Promise.all([call(proxy, "books", "/", req.headers), call(proxy, "authors", "/", req.headers)]).then(
    ([b, a]) => {
      const byId = new Map<number, string>(a.items.map((x: { id: number; name: string }) => [x.id, x.name]))
      const lines = b.items.map((x: { title: string; authorId: number }) => `${x.title} by ${byId.get(x.authorId)}`)
      const text = `web (books ${b.version}, authors ${a.version})\n${lines.join("\n")}\n`
      res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) })
      res.end(text)
    },
    (e: unknown) => {
      res.writeHead(502, { "content-type": "text/plain" })
      res.end(`web: ${e instanceof Error ? e.message : String(e)}\n`)
    }
  )
}

/** The names of the four apps. */
export type AppName = keyof Ports

/** The app names, in the order `startApps` starts them. */
export const appNames: ReadonlyArray<AppName> = ["web", "books", "authors", "books-v2"]

/**
 * The request handler of one app; `web` calls the others through the proxy at `proxyUrl` (a function
 * when the proxy's address is known only later).
 */
export const appHandler = (name: AppName, proxyUrl: string | (() => string)): Http.RequestListener => {
  switch (name) {
    case "web":
      return webApp(proxyUrl)
    case "books":
      return booksApp("v1")
    case "authors":
      return authorsApp
    case "books-v2":
      return booksApp("v2")
  }
}

/** Running apps: their ports and a function that stops them. */
export interface Apps {
  readonly ports: Ports
  readonly close: () => Promise<void>
}

/** Starts a handler on `host:port` (host defaults to loopback). */
export const listen = (handler: Http.RequestListener, port: number, host = "127.0.0.1"): Promise<Http.Server> =>
  new Promise((resolve, reject) => {
    const server = Http.createServer(handler)
    server.once("error", reject)
    server.listen({ host, port }, () => resolve(server))
  })

/**
 * Starts the four apps on loopback; `web` calls the others through the proxy at `proxyUrl` (a
 * function when the proxy's address is known only later).
 */
export const startApps = async (proxyUrl: string | (() => string), ports: Ports = defaultPorts): Promise<Apps> => {
  const started: Array<Http.Server> = []
  const close = () =>
    Promise.all(started.map((s) =>
      new Promise<void>((r) => {
        s.close(() => r())
        s.closeAllConnections()
      })
    )).then(() => undefined)
  try {
    const bound: Record<string, number> = {}
    for (const name of appNames) {
      const s = await listen(appHandler(name, proxyUrl), ports[name])
      started.push(s)
      bound[name] = (s.address() as AddressInfo).port
    }
    return { ports: bound as unknown as Ports, close }
  } catch (e) {
    await close()
    throw e
  }
}
