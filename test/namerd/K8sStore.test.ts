import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import * as NamerdConfig from "../../src/namerd/Config.js"
import * as K8sStore from "../../src/namerd/K8sStore.js"
import * as Namerd from "../../src/namerd/Namerd.js"
import * as Dtab from "../../src/naming/Dtab.js"
import { waitFor } from "../support/poll.js"
import * as Fake from "./k8s-dtab-fake.js"
import { request, waitLines, watch } from "./support.js"

const fake = Effect.acquireRelease(Effect.promise(Fake.start), (f) => Effect.promise(f.close))
const dtabHeaders = { "content-type": "application/dtab" }

const namerdOn = (port: number) => {
  const r = NamerdConfig.decode({
    admin: { port: 0 },
    storage: { kind: "io.l5d.k8s", host: "127.0.0.1", port, namespace: "routing" },
    interfaces: [{ kind: "io.l5d.httpController", port: 0 }]
  })
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return Effect.map(Namerd.make(r.success), (n) => n.interfaces[0]!.port)
}

describe("namerd io.l5d.k8s (DTab custom resources, fake API server)", () => {
  it.live("CRUD with resourceVersions through two namerds, and watches", () =>
    Effect.gen(function*() {
      const api = yield* fake
      const a = yield* namerdOn(api.port)
      const b = yield* namerdOn(api.port)
      expect((yield* request(a, "POST", "/api/1/dtabs/default", { headers: dtabHeaders, body: "/svc=>/a" })).status)
        .toBe(204)
      expect((yield* request(b, "POST", "/api/1/dtabs/default", { headers: dtabHeaders, body: "/svc=>/x" })).status)
        .toBe(409)
      const w = yield* watch(b, "/api/1/dtabs/default?watch=true")
      yield* waitLines(w, 1, "namerd b to see the dtab created through a")
      const etag = String((yield* request(b, "GET", "/api/1/dtabs/default")).headers.etag)
      expect(
        (yield* request(b, "PUT", "/api/1/dtabs/default", {
          headers: { ...dtabHeaders, "if-match": etag },
          body: "/svc=>/b"
        })).status
      ).toBe(204)
      yield* waitLines(w, 2, "the watch to see the update")
      expect(w.lines[1]).toEqual([{ prefix: "/svc", dst: "/b" }])
      expect(
        (yield* request(a, "PUT", "/api/1/dtabs/default", {
          headers: { ...dtabHeaders, "if-match": etag },
          body: "/svc=>/lost"
        })).status
      ).toBe(412)
      expect((yield* request(a, "PUT", "/api/1/dtabs/other", { headers: dtabHeaders, body: "/x=>/y" })).status)
        .toBe(204)
      expect(JSON.parse((yield* request(b, "GET", "/api/1/dtabs")).body)).toEqual(["default", "other"])
      expect((yield* request(a, "DELETE", "/api/1/dtabs/default")).status).toBe(204)
      expect((yield* request(a, "DELETE", "/api/1/dtabs/default")).status).toBe(404)
      expect(api.requests.some((r) => r.startsWith("POST /apis/l5d.io/v1alpha1/namespaces/routing/dtabs"))).toBe(true)
    }))

  it.live("re-watches after the API server ends a watch, and re-lists after 410 Gone", () =>
    Effect.gen(function*() {
      const api = yield* fake
      const store = yield* K8sStore.make({ host: "127.0.0.1", port: api.port, namespace: "routing" })
      const writer = yield* K8sStore.make({ host: "127.0.0.1", port: api.port, namespace: "routing" })
      yield* store.create("ns", Dtab.parseUnsafe("/a=>/b"))
      const seen: Array<string> = []
      yield* Effect.forkScoped(
        Stream.runForEach(
          store.observe("ns"),
          (o) => Effect.sync(() => seen.push(Option.isSome(o) ? Dtab.show(o.value.dtab) : "none"))
        )
      )
      yield* waitFor(() => seen.length === 1, "the first dtab")
      api.closeWatches()
      yield* writer.put("ns", Dtab.parseUnsafe("/a=>/c"))
      yield* waitFor(() => seen.includes("/a=>/c"), "the change after the watch was ended")
      api.compact()
      api.closeWatches()
      yield* writer.put("ns", Dtab.parseUnsafe("/a=>/d"))
      yield* waitFor(() => seen.includes("/a=>/d"), "the change after a 410 and a re-list")
    }))
})
