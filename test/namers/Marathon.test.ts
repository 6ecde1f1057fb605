import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import * as crypto from "node:crypto"
import { Address, Name, Path } from "../../src/index.js"
import * as DcosAuth from "../../src/namers/DcosAuth.js"
import * as Marathon from "../../src/namers/Marathon.js"
import type * as Namer from "../../src/naming/Namer.js"
import * as Stats from "../../src/Stats.js"
import { waitFor } from "../support/poll.js"
import * as MarathonFake from "./marathon-fake.js"

const fake = (options?: MarathonFake.Options) =>
  Effect.acquireRelease(Effect.promise(() => MarathonFake.start(options)), (m) => Effect.promise(() => m.close()))

const follow = (namer: Namer.Namer, path: string) =>
  Effect.gen(function*() {
    const state = { tree: "", addrs: "" }
    yield* namer.lookup(Path.parseUnsafe(path)).pipe(
      Stream.tap((t) =>
        Effect.sync(() => {
          state.tree = t._tag === "Leaf" && t.value._tag === "Bound"
            ? `${Name.idString(t.value)} ${Path.show(t.value.residual)}`
            : t._tag.toLowerCase()
          if (t._tag !== "Leaf") state.addrs = ""
        })
      ),
      Stream.switchMap((t) =>
        t._tag === "Leaf" && t.value._tag === "Bound"
          ? Name.addresses(t.value)
          : Name.constant<ReadonlyArray<Address.Address>>([])
      ),
      Stream.runForEach((xs) => Effect.sync(() => (state.addrs = xs.map(Address.key).sort().join(",")))),
      Effect.catch(() => Effect.void),
      Effect.forkChild
    )
    return state
  })

describe("io.l5d.marathon against a fake Marathon (Marathon's documented /v2/apps and /v2/tasks)", () => {
  it.live(
    "app tasks added and removed; shortest existing app id; health checks; unknown app is Neg",
    () =>
      Effect.gen(function*() {
        const marathon = yield* fake({ uriPrefix: "/marathon" })
        marathon.setApps([
          { id: "/group/web", tasks: [{ host: "127.0.0.1", port: 31000 }] },
          { id: "/group/web/v2", tasks: [{ host: "127.0.0.9", port: 1 }] },
          {
            id: "/api",
            healthChecks: true,
            tasks: [
              { host: "127.0.0.2", port: 2, alive: [true] },
              { host: "127.0.0.3", port: 3, alive: [false] },
              { host: "127.0.0.4", port: 4 }
            ]
          }
        ])
        const namer = yield* Marathon.make({
          host: "127.0.0.1",
          port: marathon.port,
          uriPrefix: "/marathon",
          ttl: "50 millis",
          useHealthCheck: true
        })
        const web = yield* follow(namer, "/Group/Web/v2/extra")
        const api = yield* follow(namer, "/api")
        const none = yield* follow(namer, "/nope")
        yield* waitFor(() => web.addrs !== "" && api.addrs !== "" && none.tree !== "", "answers")
        expect(web.tree).toBe("/group/web /v2/extra")
        expect(web.addrs).toBe("127.0.0.1:31000")
        expect(api.addrs).toBe("127.0.0.2:2")
        expect(none.tree).toBe("neg")

        marathon.setApps([
          { id: "/group/web", tasks: [{ host: "127.0.0.1", port: 31000 }, { host: "127.0.0.1", port: 31001 }] },
          { id: "/api", healthChecks: true, tasks: [{ host: "127.0.0.3", port: 3, alive: [true, true] }] },
          {
            id: "/nope",
            tasks: [{ host: "127.0.0.5", port: 5, state: "TASK_STAGING" }, { host: "127.0.0.6", port: 6 }]
          }
        ])
        yield* waitFor(
          () =>
            web.addrs === "127.0.0.1:31000,127.0.0.1:31001" && api.addrs === "127.0.0.3:3" &&
            none.addrs === "127.0.0.6:6",
          "the changed tasks"
        )
        marathon.setApps([{ id: "/api", tasks: [] }])
        yield* waitFor(() => web.tree === "neg", "the app removed")
        const state = (yield* namer.state!) as Marathon.MarathonState
        expect(state.apps).toEqual({ "/api": { tasks: 0, healthy: 0 } })
        expect(marathon.requests.every((r) => r.path.startsWith("/marathon/v2/"))).toBe(true)
      }),
    { timeout: 30_000 }
  )

  it.live("5XX and garbage answers keep the last good answer (stale), then it recovers", () => {
    const stats = Stats.makeInMemory()
    return Effect.gen(function*() {
      const marathon = yield* fake()
      marathon.setApps([{ id: "/web", tasks: [{ host: "127.0.0.1", port: 1 }] }])
      const namer = yield* Marathon.make({
        host: "127.0.0.1",
        port: marathon.port,
        ttl: "30 millis",
        minBackoff: "10 millis"
      })
      const s = yield* follow(namer, "/web")
      yield* waitFor(() => s.addrs === "127.0.0.1:1", "the first answer")
      const poll = () => (Effect.runSync(namer.state!) as Marathon.MarathonState).poll!
      marathon.failNext(1_000_000, 503)
      marathon.setApps([{ id: "/web", tasks: [{ host: "127.0.0.1", port: 2 }] }])
      yield* waitFor(() => poll().state === "stale", "stale")
      expect(poll().error).toContain("503")
      expect(s.addrs).toBe("127.0.0.1:1")
      expect(stats.gaugeValues().get("namer/#/io.l5d.marathon/stale_watches")).toBe(1)
      marathon.failNext(0)
      yield* waitFor(() => s.addrs === "127.0.0.1:2" && poll().state === "ok", "recovered")
      marathon.garbageNext(1_000_000)
      marathon.setApps([{ id: "/web", tasks: [{ host: "127.0.0.1", port: 3 }] }])
      yield* waitFor(() => poll().state === "stale", "stale after garbage")
      expect(poll().error).toContain("cannot decode")
      expect(s.addrs).toBe("127.0.0.1:2")
      marathon.garbageNext(0)
      yield* waitFor(() => s.addrs === "127.0.0.1:3", "recovered again")
      expect(stats.counterValue("namer/#/io.l5d.marathon/stale")).toBe(2)
    }).pipe(Effect.provideService(Stats.Receiver, stats))
  }, { timeout: 30_000 })

  it.live(
    "DC/OS service account: logs in with an RS256 token, sends it, logs in again after a 401",
    () =>
      Effect.gen(function*() {
        const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
        const pem = (k: crypto.KeyObject) => k.export({ type: "pkcs8", format: "pem" }) as string
        const marathon = yield* fake({
          serviceAccount: { uid: "weir", publicKey: publicKey.export({ type: "spki", format: "pem" }) as string }
        })
        marathon.setApps([{ id: "/web", tasks: [{ host: "127.0.0.1", port: 1 }] }])
        const auth = DcosAuth.fromEnv({
          DCOS_SERVICE_ACCOUNT_CREDENTIAL: JSON.stringify({
            scheme: "RS256",
            uid: "weir",
            private_key: pem(privateKey),
            login_endpoint: `http://127.0.0.1:${marathon.port}/acs/api/v1/auth/login`
          })
        })
        if (Result.isFailure(auth)) throw new Error(auth.failure)
        const namer = yield* Marathon.make({
          host: "127.0.0.1",
          port: marathon.port,
          ttl: "30 millis",
          auth: auth.success
        })
        const s = yield* follow(namer, "/web")
        yield* waitFor(() => s.addrs === "127.0.0.1:1", "an answer with a token")
        expect(marathon.logins()).toBe(1)
        marathon.revokeTokens()
        marathon.setApps([{ id: "/web", tasks: [{ host: "127.0.0.1", port: 2 }] }])
        yield* waitFor(() => s.addrs === "127.0.0.1:2", "an answer after logging in again")
        expect(marathon.logins()).toBe(2)
        expect(JSON.stringify(yield* namer.state!)).not.toContain("token=")
      }),
    { timeout: 30_000 }
  )

  it.live("HTTP basic credentials from MARATHON_HTTP_AUTH_CREDENTIAL", () =>
    Effect.gen(function*() {
      const credential = Buffer.from("user:pass").toString("base64")
      const marathon = yield* fake({ basic: credential })
      marathon.setApps([{ id: "/web", tasks: [{ host: "127.0.0.1", port: 1 }] }])
      const auth = DcosAuth.fromEnv({ MARATHON_HTTP_AUTH_CREDENTIAL: credential })
      if (Result.isFailure(auth)) throw new Error(auth.failure)
      const namer = yield* Marathon.make({
        host: "127.0.0.1",
        port: marathon.port,
        ttl: "30 millis",
        auth: auth.success
      })
      const s = yield* follow(namer, "/web")
      yield* waitFor(() => s.addrs === "127.0.0.1:1", "an answer")
      expect(DcosAuth.fromEnv({ DCOS_SERVICE_ACCOUNT_CREDENTIAL: "{" })).toEqual(
        Result.fail("DCOS_SERVICE_ACCOUNT_CREDENTIAL is not JSON")
      )
    }), { timeout: 30_000 })
})
