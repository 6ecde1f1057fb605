// The floor for a Node.js h2 proxy: node:http2 server → one node:http2 client session to the
// backend, headers copied, bodies piped, nothing else (no routing, stats or resilience).
// Usage: node bench/h2/node-raw.mjs <listenPort> <backendPort>
import * as http2 from "node:http2"

const port = Number(process.argv[2] ?? 18184)
const backend = Number(process.argv[3] ?? 18180)
let session
const upstream = () => {
  if (session === undefined || session.closed || session.destroyed) {
    session = http2.connect(`http://127.0.0.1:${backend}`)
    session.on("error", () => {})
  }
  return session
}
const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } })
server.on("stream", (stream, headers) => {
  stream.on("error", () => {})
  const out = {}
  for (const k in headers) if (k !== ":scheme" && k !== "connection") out[k] = headers[k]
  const req = upstream().request(out, { endStream: stream.endAfterHeaders })
  req.on("error", () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR))
  if (!stream.endAfterHeaders) stream.pipe(req)
  // the client went away (h2load stops at the end of its duration): drop the upstream stream
  stream.on("close", () => {
    if (!req.closed) req.close(http2.constants.NGHTTP2_CANCEL)
  })
  req.on("response", (h) => {
    if (stream.destroyed || stream.closed) return
    const back = {}
    for (const k in h) if (k !== "connection") back[k] = h[k]
    stream.respond(back)
    req.pipe(stream)
  })
})
server.listen(port, "127.0.0.1", () => console.log(`node-raw h2 proxy on 127.0.0.1:${port}`))
