/**
 * A fake Kubernetes API server for linkerd's `DTab` custom resource (`l5d.io/v1alpha1`, plural
 * `dtabs`) on 127.0.0.1, following the API's semantics for custom resources:
 *
 * - `GET …/namespaces/<ns>/dtabs` lists them with the list's `metadata.resourceVersion`;
 *   `?watch=true&resourceVersion=<rv>` streams `ADDED`/`MODIFIED`/`DELETED` events after `rv`
 *   (a compacted `rv` gets one `ERROR` 410 event, then the stream ends);
 * - `POST …/dtabs` creates (`201`, `409 AlreadyExists`); `GET|PUT|DELETE …/dtabs/<name>`: `PUT`
 *   carries `metadata.resourceVersion` and gets `409 Conflict` when it is not the current one;
 *   a missing object is `404`;
 * - every change bumps one global resource version.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"

interface Stored {
  readonly namespace: string
  readonly name: string
  readonly json: Record<string, unknown>
}

export interface FakeDtabApi {
  readonly port: number
  readonly requests: Array<string>
  readonly closeWatches: () => void
  readonly compact: () => void
  readonly close: () => Promise<void>
}

const status = (res: http.ServerResponse, code: number, reason: string) => {
  res.writeHead(code, { "content-type": "application/json" })
  res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason, code }))
}

export const start = async (): Promise<FakeDtabApi> => {
  let rv = 1
  let compactedBefore = 0
  const objects = new Map<string, Stored>()
  const history: Array<{ rv: number; type: string; stored: Stored }> = []
  const watchers = new Set<{ res: http.ServerResponse; namespace: string }>()
  const requests: Array<string> = []
  const key = (ns: string, name: string) => `${ns}/${name}`

  const record = (type: string, stored: Stored) => {
    history.push({ rv, type, stored })
    for (const w of watchers) {
      if (w.namespace === stored.namespace) w.res.write(JSON.stringify({ type, object: stored.json }) + "\n")
    }
  }
  const withVersion = (json: Record<string, unknown>, name: string, ns: string) => ({
    ...json,
    metadata: { ...(json.metadata as object), name, namespace: ns, resourceVersion: String(rv) }
  })
  const body = (req: http.IncomingMessage): Promise<Record<string, unknown> | undefined> =>
    new Promise((resolve) => {
      let text = ""
      req.on("data", (c: Buffer) => (text += c.toString()))
      req.on("end", () => {
        try {
          resolve(JSON.parse(text) as Record<string, unknown>)
        } catch {
          resolve(undefined)
        }
      })
    })

  const server = http.createServer(async (req, res) => {
    requests.push(`${req.method} ${req.url}`)
    const url = new URL(req.url ?? "/", "http://k8s")
    const m = /^\/apis\/l5d\.io\/v1alpha1\/namespaces\/([^/]+)\/dtabs(?:\/([^/]+))?$/.exec(url.pathname)
    if (m === null) return status(res, 404, "NotFound")
    const ns = decodeURIComponent(m[1]!)
    const name = m[2] === undefined ? undefined : decodeURIComponent(m[2])
    if (name === undefined && req.method === "GET") {
      if (url.searchParams.get("watch") === "true") {
        const from = Number(url.searchParams.get("resourceVersion") ?? "0")
        res.writeHead(200, { "content-type": "application/json" })
        if (from < compactedBefore) {
          res.end(JSON.stringify({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } }) + "\n")
          return
        }
        for (const h of history) {
          if (h.rv > from && h.stored.namespace === ns) {
            res.write(JSON.stringify({ type: h.type, object: h.stored.json }) + "\n")
          }
        }
        const w = { res, namespace: ns }
        watchers.add(w)
        res.on("close", () => watchers.delete(w))
        return
      }
      const items = [...objects.values()].filter((o) => o.namespace === ns).map((o) => o.json)
      res.writeHead(200, { "content-type": "application/json" })
      return res.end(JSON.stringify({ kind: "DTabList", metadata: { resourceVersion: String(rv) }, items }))
    }
    if (name === undefined && req.method === "POST") {
      const json = await body(req)
      const n = (json?.metadata as { name?: unknown } | undefined)?.name
      if (json === undefined || typeof n !== "string") return status(res, 400, "BadRequest")
      if (objects.has(key(ns, n))) return status(res, 409, "AlreadyExists")
      rv++
      const stored = { namespace: ns, name: n, json: withVersion(json, n, ns) }
      objects.set(key(ns, n), stored)
      record("ADDED", stored)
      res.writeHead(201, { "content-type": "application/json" })
      return res.end(JSON.stringify(stored.json))
    }
    if (name === undefined) return status(res, 405, "MethodNotAllowed")
    const current = objects.get(key(ns, name))
    switch (req.method) {
      case "GET":
        if (current === undefined) return status(res, 404, "NotFound")
        res.writeHead(200, { "content-type": "application/json" })
        return res.end(JSON.stringify(current.json))
      case "PUT": {
        const json = await body(req)
        if (json === undefined) return status(res, 400, "BadRequest")
        if (current === undefined) return status(res, 404, "NotFound")
        const given = (json.metadata as { resourceVersion?: unknown } | undefined)?.resourceVersion
        if (given !== (current.json.metadata as { resourceVersion: string }).resourceVersion) {
          return status(res, 409, "Conflict")
        }
        rv++
        const stored = { namespace: ns, name, json: withVersion(json, name, ns) }
        objects.set(key(ns, name), stored)
        record("MODIFIED", stored)
        res.writeHead(200, { "content-type": "application/json" })
        return res.end(JSON.stringify(stored.json))
      }
      case "DELETE": {
        if (current === undefined) return status(res, 404, "NotFound")
        rv++
        objects.delete(key(ns, name))
        const stored = { ...current, json: withVersion(current.json, name, ns) }
        record("DELETED", stored)
        res.writeHead(200, { "content-type": "application/json" })
        return res.end(JSON.stringify(stored.json))
      }
      default:
        return status(res, 405, "MethodNotAllowed")
    }
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    closeWatches: () => {
      for (const w of watchers) w.res.end()
      watchers.clear()
    },
    compact: () => {
      compactedBefore = rv + 1
      history.length = 0
    },
    close: () =>
      new Promise((resolve) => {
        for (const w of watchers) w.res.destroy()
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}
