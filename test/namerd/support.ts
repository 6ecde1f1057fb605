/**
 * HTTP helpers for the namerd tests: one-shot requests and newline-delimited JSON watches against
 * servers on loopback.
 */
import * as Effect from "effect/Effect"
import * as Http from "node:http"
import { waitFor } from "../support/poll.js"

export interface Reply {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

export const requestP = (
  port: number,
  method: string,
  path: string,
  options?: { readonly headers?: Record<string, string>; readonly body?: string }
): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = Http.request(
      { host: "127.0.0.1", port, method, path, headers: options?.headers, agent: false },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }))
        res.on("error", reject)
      }
    )
    req.on("error", reject)
    req.end(options?.body)
  })

export const request = (
  port: number,
  method: string,
  path: string,
  options?: { readonly headers?: Record<string, string>; readonly body?: string }
) => Effect.promise(() => requestP(port, method, path, options))

export interface Watch {
  readonly lines: Array<unknown>
  readonly close: () => void
  readonly ended: () => boolean
}

/** Opens a `?watch=true` stream; each JSON line is pushed to `lines`. Closed with the scope. */
export const watch = (port: number, path: string) =>
  Effect.acquireRelease(
    Effect.sync((): Watch => {
      const lines: Array<unknown> = []
      let ended = false
      let buffer = ""
      const req = Http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          buffer += chunk
          let nl = buffer.indexOf("\n")
          while (nl >= 0) {
            const line = buffer.slice(0, nl).trim()
            buffer = buffer.slice(nl + 1)
            if (line !== "") lines.push(JSON.parse(line))
            nl = buffer.indexOf("\n")
          }
        })
        res.on("end", () => (ended = true))
        res.on("close", () => (ended = true))
      })
      req.on("error", () => (ended = true))
      return { lines, close: () => req.destroy(), ended: () => ended }
    }),
    (w) => Effect.sync(w.close)
  )

export const waitLines = (w: Watch, n: number, what: string) => waitFor(() => w.lines.length >= n, what)
