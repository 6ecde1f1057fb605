// The floor for a node proxy: node:http server + undici Pool.dispatch, no Effect, no routing.
// Usage: node bench/proxy/undici-raw.mjs <listenPort> <backendPort>
import * as http from "node:http"
import { Pool } from "undici"

const port = Number(process.argv[2] ?? 18087)
const backend = Number(process.argv[3] ?? 18080)
const pool = new Pool(`http://127.0.0.1:${backend}`, { connections: null, pipelining: 1 })
http.createServer((req, res) => {
  pool.dispatch({ method: req.method, path: req.url, headers: req.headers, body: req.method === "GET" ? null : req }, {
    onRequestStart() {},
    onResponseStart(_c, status, headers) {
      res.writeHead(status, headers)
    },
    onResponseData(_c, chunk) {
      res.write(chunk)
    },
    onResponseEnd() {
      res.end()
    },
    onResponseError() {
      if (!res.headersSent) res.writeHead(502)
      res.end()
    }
  })
}).listen(port, "127.0.0.1", () => console.log(`undici-raw listening on 127.0.0.1:${port}`))
