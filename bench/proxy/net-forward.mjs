// The floor under any HTTP proxy written on Node.js: a bare node:net forwarder. Each client
// connection gets a backend connection of its own and the bytes are piped both ways; nothing is
// parsed, routed or counted. Usage: node bench/proxy/net-forward.mjs PORT BACKEND_PORT
import * as net from "node:net"

const [port, backend] = process.argv.slice(2).map(Number)
net.createServer({ noDelay: true }, (client) => {
  const upstream = net.connect({ host: "127.0.0.1", port: backend, noDelay: true })
  client.pipe(upstream)
  upstream.pipe(client)
  const close = () => {
    client.destroy()
    upstream.destroy()
  }
  for (const socket of [client, upstream]) {
    socket.on("error", close)
    socket.on("close", close)
  }
}).listen(port, "127.0.0.1")
