/**
 * One quickstart app on its own, as it runs in a container: `tsx examples/quickstart/app.ts books`
 * (in the image: `node /app/dist/examples/quickstart-app.js books`). The app is the first argument
 * (`web`, `books`, `authors` or `books-v2`); the environment gives where it listens and, for `web`,
 * where its proxy is:
 *
 * - `PORT` (default: the app's quickstart port, 7100-7103), `HOST` (default `127.0.0.1`; `0.0.0.0` in
 *   a pod);
 * - `PROXY_URL` (default `http://127.0.0.1:4140`: the sidecar next to it), or `PROXY_HOST` with
 *   `PROXY_PORT` (default `4140`): with the DaemonSet, the node's linker (`PROXY_HOST` from the
 *   downward API's `spec.nodeName` or `status.hostIP`).
 *
 * SIGTERM and SIGINT close the server.
 */
import type * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { appHandler, type AppName, appNames, defaultPorts, listen } from "./apps.js"

/** The proxy URL from the environment. */
export const proxyUrlOf = (env: Readonly<Record<string, string | undefined>>): string =>
  env["PROXY_URL"] ?? (env["PROXY_HOST"] !== undefined
    ? `http://${env["PROXY_HOST"]}:${env["PROXY_PORT"] ?? "4140"}`
    : "http://127.0.0.1:4140")

/** Starts the app named by `args[0]`; fails with a usage message for anything else. */
export const main = async (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>
): Promise<Http.Server> => {
  const name = args[0]
  if (name === undefined || !(appNames as ReadonlyArray<string>).includes(name)) {
    throw new Error(`usage: app <${appNames.join("|")}> (got ${JSON.stringify(name ?? "")})`)
  }
  const port = env["PORT"] === undefined ? defaultPorts[name as AppName] : Number(env["PORT"])
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT: not a port: ${env["PORT"]}`)
  return listen(appHandler(name as AppName, proxyUrlOf(env)), port, env["HOST"] ?? "127.0.0.1")
}

const isEntry = process.argv[1] !== undefined && /quickstart[-/]app\.(ts|js)$/.test(process.argv[1])
if (isEntry) {
  main(process.argv.slice(2), process.env).then(
    (server) => {
      const a = server.address() as AddressInfo
      console.log(`${process.argv[2]} listening on ${a.address}:${a.port}`)
      const stop = () => server.close(() => process.exit(0))
      process.on("SIGTERM", stop)
      process.on("SIGINT", stop)
    },
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e))
      process.exit(2)
    }
  )
}
