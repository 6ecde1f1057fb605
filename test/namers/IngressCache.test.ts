/**
 * The Ingress watch (namers/k8s/IngressCache.ts) against the fake Kubernetes API
 * (test/namers/k8s-fake.ts, which follows the API's list+watch semantics): a watch the server ends is
 * re-opened from the last version, a version too old (410 Gone) lists again, a bad watch line keeps
 * the last good answer (stale) until the next list.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as IngressCache from "../../src/namers/k8s/IngressCache.js"
import { waitFor } from "../support/poll.js"
import * as Fake from "./k8s-fake.js"

const rule = (path: string, service: string) => ({
  rules: [{
    http: { paths: [{ path, pathType: "Prefix", backend: { service: { name: service, port: { number: 80 } } } }] }
  }]
})

const where = (d: ReturnType<IngressCache.IngressCache["route"]>) =>
  typeof d === "string" ? d : `${d.namespace}/${d.port}/${d.service}`

describe("IngressCache (fake Kubernetes API)", () => {
  it.live("follows the watch across a closed watch, a compacted history (410) and a garbage event", () =>
    Effect.gen(function*() {
      const fake = yield* Effect.acquireRelease(
        Effect.promise(() => Fake.start()),
        (f) => Effect.promise(() => f.close())
      )
      fake.setIngress("a", "one", rule("/one", "one"))
      fake.setIngress("b", "two", rule("/two", "two"))
      // backoff long enough for the stale window after a bad event to be seen by the 20 ms polling
      const cache = yield* IngressCache.make({
        host: "127.0.0.1",
        port: fake.port,
        minBackoff: "400 millis",
        maxBackoff: "800 millis"
      })
      expect(cache.route("h", "/one")).toBe("ingresses in all namespaces: not listed yet")
      yield* waitFor(() => cache.status().state === "ok" && fake.openWatches() === 1, "the first list and watch")
      expect(where(cache.route("h", "/one"))).toBe("a/80/one")
      expect(where(cache.route("h", "/two/x"))).toBe("b/80/two")
      expect(cache.status().ingresses).toEqual(["a/one", "b/two"])

      // the server ends the watch: re-opened from the last version, changes after it arrive
      fake.closeWatches()
      yield* waitFor(() => fake.openWatches() === 1, "the re-opened watch")
      fake.setIngress("a", "one", rule("/one", "uno"))
      yield* waitFor(() => where(cache.route("h", "/one")) === "a/80/uno", "the change after the re-opened watch")
      // a modified Ingress moves to the end, as linkerd's
      expect(cache.status().ingresses).toEqual(["b/two", "a/one"])

      // the API is down while an Ingress is deleted and the history compacted: back up, the watch
      // from the old version gets 410 Gone, and the cache lists again
      const lists = () =>
        fake.requests.filter((r) => r.url.includes("/ingresses") && !r.url.includes("watch=true")).length
      const listsBefore = lists()
      yield* Effect.promise(() => fake.stop())
      fake.remove("b", "two", "ingresses")
      fake.compact()
      expect(where(cache.route("h", "/two"))).toBe("b/80/two")
      yield* Effect.promise(() => fake.resume())
      yield* waitFor(
        () => lists() > listsBefore && cache.route("h", "/two") === "no ingress rule matches",
        "the relist"
      )

      // a watch event that is not JSON: the last answer is kept (stale), with the error
      yield* waitFor(() => fake.openWatches() === 1, "the watch after the relist")
      fake.sendRaw("{not json")
      yield* waitFor(() => cache.status().state !== "ok" || cache.status().error !== undefined, "the decode failure")
      const failed = cache.status()
      expect(failed.error ?? "").toContain("ingresses in all namespaces: cannot decode the watch event")
      expect(where(cache.route("h", "/one"))).toBe("a/80/uno")
      yield* waitFor(() => cache.status().state === "ok", "the recovery")
    }))

  it.live("watches one namespace only when given; another class's Ingresses are left out", () =>
    Effect.gen(function*() {
      const fake = yield* Effect.acquireRelease(
        Effect.promise(() => Fake.start()),
        (f) => Effect.promise(() => f.close())
      )
      fake.setIngress("a", "mine", rule("/", "mine"))
      fake.setIngress("a", "theirs", rule("/", "theirs"), { "kubernetes.io/ingress.class": "nginx" })
      fake.setIngress("b", "other", rule("/", "other"))
      const cache = yield* IngressCache.make({ host: "127.0.0.1", port: fake.port, namespace: "a" })
      yield* waitFor(() => cache.status().state === "ok", "the first list")
      expect(cache.status().ingresses).toEqual(["a/mine"])
      expect(where(cache.route("h", "/x"))).toBe("a/80/mine")
    }))
})
