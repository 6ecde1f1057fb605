/**
 * A fake Consul KV HTTP API on 127.0.0.1, following the documented semantics:
 *
 * - `GET /v1/kv/<key>` (`?recurse` for a prefix): `[{Key, Value (base64), CreateIndex, ModifyIndex,
 *   …}]`, `404` when nothing matches, `X-Consul-Index` header; `?index=<n>&wait=<d>` blocks until
 *   the index passes `n` or the wait ends;
 * - `PUT /v1/kv/<key>[?cas=<n>]`: `true`/`false`; `cas=0` only creates; `cas=n` only if the key's
 *   ModifyIndex is `n`;
 * - `DELETE /v1/kv/<key>[?cas=<n>]`: `true`/`false`;
 * - one index for the whole store, bumped by each write; `X-Consul-Token` recorded.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"

interface Entry {
  readonly value: string
  readonly createIndex: number
  readonly modifyIndex: number
}

export interface FakeConsul {
  readonly port: number
  readonly tokens: Array<string | undefined>
  readonly close: () => Promise<void>
}

const parseWait = (w: string | null): number => {
  const m = /^([0-9]+)(ms|s|m)$/.exec(w ?? "")
  if (m === null) return 300_000
  return Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "s" ? 1000 : 60_000)
}

export const start = async (): Promise<FakeConsul> => {
  let index = 1
  const kv = new Map<string, Entry>()
  const tokens: Array<string | undefined> = []
  const blocked = new Set<() => void>()
  const bump = () => {
    index++
    for (const wake of [...blocked]) wake()
  }
  const server = http.createServer((req, res) => {
    tokens.push(req.headers["x-consul-token"] as string | undefined)
    const url = new URL(req.url ?? "/", "http://consul")
    if (!url.pathname.startsWith("/v1/kv/")) {
      res.writeHead(404)
      return res.end()
    }
    const key = decodeURIComponent(url.pathname.slice("/v1/kv/".length))
    const cas = url.searchParams.get("cas")
    const reply = (status: number, body: string) => {
      res.writeHead(status, { "content-type": "application/json", "x-consul-index": String(index) })
      res.end(body)
    }
    if (req.method === "GET") {
      const answer = () => {
        const recurse = url.searchParams.has("recurse")
        const matches = [...kv.entries()].filter(([k]) => recurse ? k.startsWith(key) : k === key).sort()
        if (matches.length === 0) return reply(404, "")
        reply(
          200,
          JSON.stringify(matches.map(([k, e]) => ({
            Key: k,
            Value: Buffer.from(e.value).toString("base64"),
            Flags: 0,
            CreateIndex: e.createIndex,
            ModifyIndex: e.modifyIndex,
            LockIndex: 0
          })))
        )
      }
      const from = Number(url.searchParams.get("index") ?? "0")
      if (from > 0 && from >= index) {
        const wake = () => {
          blocked.delete(wake)
          clearTimeout(timer)
          answer()
        }
        const timer = setTimeout(wake, parseWait(url.searchParams.get("wait")))
        blocked.add(wake)
        res.on("close", () => {
          blocked.delete(wake)
          clearTimeout(timer)
        })
        return
      }
      return answer()
    }
    if (req.method === "PUT") {
      let body = ""
      req.on("data", (c: Buffer) => (body += c.toString()))
      req.on("end", () => {
        const current = kv.get(key)
        if (cas !== null && Number(cas) !== (current?.modifyIndex ?? 0)) return reply(200, "false")
        kv.set(key, { value: body, createIndex: current?.createIndex ?? index + 1, modifyIndex: index + 1 })
        bump()
        reply(200, "true")
      })
      return
    }
    if (req.method === "DELETE") {
      const current = kv.get(key)
      if (cas !== null && Number(cas) !== (current?.modifyIndex ?? 0)) return reply(200, "false")
      if (current !== undefined) {
        kv.delete(key)
        bump()
      }
      return reply(200, "true")
    }
    res.writeHead(405)
    res.end()
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  return {
    port: (server.address() as AddressInfo).port,
    tokens,
    close: () =>
      new Promise((resolve) => {
        for (const wake of [...blocked]) wake()
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}
