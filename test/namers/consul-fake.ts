/**
 * A fake Consul agent for the io.l5d.consul tests (no Consul server is packaged for this machine).
 * It follows Consul's documented HTTP API for what the namer uses:
 *
 * - `GET /v1/catalog/service/<service>?dc=&tag=` — the service's instances as catalog entries
 *   (`Node`, `Address`, `ServiceID`, `ServiceAddress`, `ServicePort`, `ServiceTags`), `[]` when the
 *   service is unknown;
 * - `GET /v1/health/service/<service>?dc=&tag=` — entries `{Node, Service, Checks}`;
 * - blocking queries: with `index=N`, the answer is held until the data's index exceeds N or `wait`
 *   (`10s`, `500ms`; default 5 minutes) passes, then given with the current `X-Consul-Index`;
 * - an unknown datacenter answers 500 `No path to datacenter`; the agent's datacenter is `dc1`.
 *
 * Tests drive it: change services (the index moves forward), move the index backwards (as after a
 * Consul server's state is restored), answer 5XX or garbage for the next requests.
 */
import * as http from "node:http"
import type * as net from "node:net"

export interface Instance {
  readonly node: string
  readonly address: string
  readonly serviceAddress?: string
  readonly port: number
  readonly tags?: ReadonlyArray<string>
  readonly checks?: ReadonlyArray<{ readonly CheckID?: string; readonly Status: string }>
}

export interface Request {
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: http.IncomingHttpHeaders
}

export interface FakeConsul {
  readonly port: number
  readonly requests: Array<Request>
  /** Sets a service's instances in a datacenter (default `dc1`); the index moves forward. */
  readonly set: (service: string, instances: ReadonlyArray<Instance>, dc?: string) => void
  /** Moves the index back to `to` (waiting queries are answered). */
  readonly resetIndex: (to: number) => void
  /** The next `n` service queries answer `status` (default 500). */
  readonly failNext: (n: number, status?: number) => void
  /** The next `n` service queries answer 200 with a body that is not JSON. */
  readonly garbageNext: (n: number) => void
  readonly index: () => number
  readonly close: () => Promise<void>
}

const parseWait = (w: string | null): number => {
  if (w === null) return 300_000
  const m = /^(\d+)(ms|s|m)?$/.exec(w)
  if (m === null) return 300_000
  const n = Number(m[1])
  return m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000
}

export const start = (): Promise<FakeConsul> =>
  new Promise((resolve) => {
    let index = 1
    const datacenters = new Map<string, Map<string, ReadonlyArray<Instance>>>([["dc1", new Map()]])
    const requests: Array<Request> = []
    let waiters = new Set<() => void>()
    let failing: { n: number; status: number } = { n: 0, status: 500 }
    let garbage = 0
    const wake = () => {
      const ws = waiters
      waiters = new Set()
      for (const w of ws) w()
    }
    const sockets = new Set<net.Socket>()

    const answer = (res: http.ServerResponse, url: URL, kind: string, service: string) => {
      if (failing.n > 0) {
        failing.n--
        res.writeHead(failing.status, { "content-type": "text/plain" })
        return res.end("rpc error: simulated failure")
      }
      if (garbage > 0) {
        garbage--
        res.writeHead(200, { "content-type": "application/json", "x-consul-index": String(index) })
        return res.end("<html>not json")
      }
      const dc = url.searchParams.get("dc") ?? "dc1"
      const services = datacenters.get(dc)
      if (services === undefined) {
        res.writeHead(500, { "content-type": "text/plain" })
        return res.end("No path to datacenter")
      }
      const tag = url.searchParams.get("tag")
      const instances = (services.get(service) ?? []).filter((i) => tag === null || (i.tags ?? []).includes(tag))
      const body = kind === "catalog"
        ? instances.map((i, n) => ({
          ID: `id-${i.node}`,
          Node: i.node,
          Address: i.address,
          Datacenter: dc,
          ServiceID: `${service}-${n}`,
          ServiceName: service,
          ServiceTags: i.tags ?? [],
          ServiceAddress: i.serviceAddress ?? "",
          ServicePort: i.port
        }))
        : instances.map((i, n) => ({
          Node: { ID: `id-${i.node}`, Node: i.node, Address: i.address, Datacenter: dc },
          Service: {
            ID: `${service}-${n}`,
            Service: service,
            Tags: i.tags ?? [],
            Address: i.serviceAddress ?? "",
            Port: i.port
          },
          Checks: [
            { CheckID: "serfHealth", Status: "passing", ServiceID: "" },
            ...(i.checks ?? []).map((c) => ({ ...c, ServiceID: `${service}-${n}` }))
          ]
        }))
      res.writeHead(200, { "content-type": "application/json", "x-consul-index": String(index) })
      res.end(JSON.stringify(body))
    }

    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://consul")
      requests.push({ path: url.pathname, query: url.searchParams, headers: req.headers })
      const m = /^\/v1\/(catalog|health)\/service\/([^/]+)$/.exec(url.pathname)
      if (req.method !== "GET" || m === null) {
        res.writeHead(404, { "content-type": "text/plain" })
        return res.end("not found")
      }
      const asked = Number(url.searchParams.get("index") ?? "0")
      if (!(asked > 0) || index > asked || failing.n > 0 || garbage > 0) return answer(res, url, m[1]!, m[2]!)
      const timer = setTimeout(() => {
        waiters.delete(check)
        answer(res, url, m[1]!, m[2]!)
      }, parseWait(url.searchParams.get("wait")))
      const check = () => {
        if (index > asked || index < asked) {
          clearTimeout(timer)
          answer(res, url, m[1]!, m[2]!)
        } else waiters.add(check)
      }
      waiters.add(check)
      req.on("close", () => {
        clearTimeout(timer)
        waiters.delete(check)
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
        set: (service, instances, dc = "dc1") => {
          let services = datacenters.get(dc)
          if (services === undefined) datacenters.set(dc, services = new Map())
          services.set(service, instances)
          index++
          wake()
        },
        resetIndex: (to) => {
          index = to
          wake()
        },
        failNext: (n, status = 500) => (failing = { n, status }),
        garbageNext: (n) => (garbage = n),
        index: () => index,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          })
      }))
  })
