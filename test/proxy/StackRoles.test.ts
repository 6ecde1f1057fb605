/**
 * The proxy runs the stack `ClientStack` documents: for every example config, the destination
 * clients and path stacks the proxy builds from it (through `Linker.clientParams`/`serviceParams`,
 * `DstClient.make`, `PathStack.make`) have the roles of src/ClientStack.ts's tables, in order, plus
 * only the HTTP modules inserted by role.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Yaml from "effect/encoding/Yaml"
import * as Result from "effect/Result"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import * as Address from "../../src/Address.js"
import * as ClientStack from "../../src/ClientStack.js"
import * as DstClient from "../../src/http/DstClient.js"
import * as PathStack from "../../src/http/PathStack.js"
import { buffered } from "../../src/http/transport/Message.js"
import type * as Upstream from "../../src/http/transport/Upstream.js"
import * as Addr from "../../src/naming/Addr.js"
import * as Name from "../../src/naming/Name.js"
import * as Path from "../../src/naming/Path.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import * as Stack from "../../src/Stack.js"
import * as Stats from "../../src/Stats.js"

const walk = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })

const configs = walk("examples").filter((f) => /\.(ya?ml|json)$/.test(f)).filter((f) => {
  try {
    const doc = Yaml.parse(readFileSync(f, "utf8"))
    return typeof doc === "object" && doc !== null && "routers" in doc
  } catch {
    return false
  }
}).sort()

/** The roles of one of ClientStack.ts's doc tables (`**Path stack**`, …), in order. */
const documented = (title: string): Array<string> => {
  const text = readFileSync("src/ClientStack.ts", "utf8")
  const start = text.indexOf(`**${title}**`)
  const rest = text.slice(start + title.length + 4)
  const end = rest.indexOf("**")
  const section = end < 0 ? rest : rest.slice(0, end)
  return [...section.matchAll(/^ \* \| \d+ \| `(\w+)` \|/gm)].map((m) => m[1]!)
}

/** A path the pattern matches: wildcards and captures become `x`. */
const concrete = (pattern: string): string => pattern.replace(/\{[^}]*\}/g, "x").replace(/\*/g, "x")

const memoryUpstream: DstClient.UpstreamMaker = (address) =>
  Effect.succeed<Upstream.Upstream>({
    address,
    status: "Open",
    connections: () => 0,
    connects: () => 0,
    call: () => Effect.succeed({ status: 200, headers: {}, body: buffered("ok") })
  })

describe("the proxy's stacks are ClientStack's", () => {
  const path = documented("Path stack")
  const client = documented("Client stack")
  const endpoint = documented("Endpoint stack")

  it("the tables are the code's default stacks", () => {
    expect(path).toEqual(Stack.roles(ClientStack.pathStack()))
    expect(client).toEqual(Stack.roles(ClientStack.clientStack()))
    expect(endpoint).toEqual(Stack.roles(ClientStack.endpointStack()))
    expect(path).toEqual(["Stats", "ResponseClassifier", "TotalTimeout", "Retries"])
    expect(endpoint.indexOf("FailureAccrual")).toBeLessThan(endpoint.indexOf("RequestTimeout"))
  })

  it("finds the example configs", () => {
    expect(configs.length).toBeGreaterThanOrEqual(7)
  })

  for (const file of configs) {
    it.effect(`${file}: every router's clients and paths`, () =>
      Effect.scoped(Effect.gen(function*() {
        const decoded = Config.parse(readFileSync(file, "utf8"))
        if (Result.isFailure(decoded)) throw new Error(JSON.stringify(decoded.failure))
        for (const router of decoded.success.routers) {
          const ids = ["/$/inet/127.0.0.1/1", ...router.client.map((c) => concrete(c.prefix.pattern))]
          for (const id of new Set(ids)) {
            const bound = Name.boundConstant(id, Addr.bound([Address.make("127.0.0.1", 1)]))
            const params = Linker.clientParams(router.client, Path.parseUnsafe(id))
            const built = yield* DstClient.make(bound, params, Stats.makeInMemory(), memoryUpstream)
            expect(built.roles.client).toEqual(client)
            expect(built.roles.endpoint).toEqual([...endpoint, "DeadlineHeader"])
          }
          for (const name of new Set(["/svc/web", ...router.service.map((c) => concrete(c.prefix.pattern))])) {
            const stack = yield* PathStack.make({
              params: Linker.serviceParams(router.service, Path.parseUnsafe(name)),
              stats: Stats.makeInMemory(),
              retryBufferBytes: 65536,
              bound: () => Effect.succeed({ status: 200, headers: {}, body: buffered("ok") })
            })
            expect(stack.roles).toEqual(path)
          }
        }
      })))
  }
})
