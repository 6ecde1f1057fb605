/**
 * `npm start`: the quickstart. Starts the four demo apps (web, books, authors, books-v2) on ports
 * 7100-7103, then the proxy with examples/quickstart/weir.yaml (router on :4140, admin on :9990).
 * Ctrl-C stops everything.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import { runProxy } from "../../src/cli/Proxy.js"
import { startApps } from "./apps.js"

const config = new URL("./weir.yaml", import.meta.url).pathname
const apps = await startApps("http://127.0.0.1:4140")
console.log(
  `quickstart apps: web :${apps.ports.web}, books :${apps.ports.books}, authors :${apps.ports.authors}, ` +
    `books-v2 :${apps.ports["books-v2"]}`
)
console.log("try: curl -H 'Host: books' localhost:4140/")
console.log("     curl -H 'Host: books' -H 'l5d-dtab: /svc/books => /svc/books-v2' localhost:4140/")
console.log("     curl -H 'Host: web' localhost:4140/      (dashboard: http://localhost:9990/)")
runProxy(config).pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
