/**
 * node `http-proxy` for the proxy benchmark. Usage: tsx bench/proxy/http-proxy.ts <listenPort> <backendPort>
 */
import httpProxy from "http-proxy"
import * as http from "node:http"

const port = Number(process.argv[2] ?? 18083)
const backend = Number(process.argv[3] ?? 18080)
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })
const proxy = httpProxy.createProxyServer({ target: `http://127.0.0.1:${backend}`, agent })
proxy.on("error", (_err, _req, res) => {
  if ("writeHead" in res) {
    res.writeHead(502)
    res.end()
  }
})
http.createServer((req, res) => proxy.web(req, res)).listen(port, "127.0.0.1", () => {
  console.log(`http-proxy listening on 127.0.0.1:${port}`)
})
