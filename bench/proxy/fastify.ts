/**
 * `@fastify/http-proxy` for the proxy benchmark. Usage: tsx bench/proxy/fastify.ts <listenPort> <backendPort>
 */
import proxy from "@fastify/http-proxy"
import Fastify from "fastify"

const port = Number(process.argv[2] ?? 18084)
const backend = Number(process.argv[3] ?? 18080)
const app = Fastify({ logger: false })
await app.register(proxy, { upstream: `http://127.0.0.1:${backend}` })
await app.listen({ port, host: "127.0.0.1" })
console.log(`fastify http-proxy listening on 127.0.0.1:${port}`)
