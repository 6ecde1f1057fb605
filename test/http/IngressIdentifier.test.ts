/**
 * The `io.l5d.ingress` identifier: the matching of Ingress rules (pure), and the identifier in a
 * proxy on real sockets, watching Ingresses through a fake Kubernetes API (test/namers/k8s-fake.ts:
 * no Kubernetes API server runs here; the fake follows the API's list+watch semantics).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as IngressIdentifier from "../../src/http/IngressIdentifier.js"
import * as Message from "../../src/http/transport/Message.js"
import * as Ingress from "../../src/namers/k8s/Ingress.js"
import * as Path from "../../src/naming/Path.js"
import * as Config from "../../src/proxy/Config.js"
import * as Linker from "../../src/proxy/Linker.js"
import * as Fake from "../namers/k8s-fake.js"
import { type Reply, sendE, textBackend } from "./support.js"

const decode = Schema.decodeUnknownSync(Ingress.Ingress)

const v1 = (name: string, spec: unknown, annotations?: Record<string, string>, namespace = "default") =>
  decode({ metadata: { name, namespace, ...(annotations ? { annotations } : {}) }, spec })

const backend = (service: string, port: number | string) => ({
  service: { name: service, port: typeof port === "number" ? { number: port } : { name: port } }
})

const specs = (...ingresses: Array<Ingress.Ingress>) =>
  ingresses.flatMap((i) => {
    const s = Ingress.specOf(i, "linkerd")
    return s === undefined ? [] : [s]
  })

const where = (d: Ingress.Destination | undefined) => d === undefined ? "none" : `${d.namespace}/${d.port}/${d.service}`

describe("Ingress rules (linkerd's matching)", () => {
  const shop = v1("shop", {
    defaultBackend: backend("web", "http"),
    rules: [
      {
        host: "books.example.com",
        http: { paths: [{ path: "/api", pathType: "Prefix", backend: backend("books-api", 8080) }] }
      },
      { host: "books.example.com", http: { paths: [{ backend: backend("books", "http") }] } },
      { http: { paths: [{ path: "/authors", pathType: "Exact", backend: backend("authors", "http") }] } },
      { http: { paths: [{ path: "/v[0-9]+/.*", pathType: "ImplementationSpecific", backend: backend("api", 80) }] } },
      { host: "*.example.org", http: { paths: [{ path: "/", pathType: "Prefix", backend: backend("org", 80) }] } }
    ]
  })

  it("host rules match the host without its port, case-insensitively; a rule without a path takes every path", () => {
    expect(where(Ingress.route(specs(shop), Ingress.hostOf("Books.Example.com:4140"), "/x"))).toBe(
      "default/http/books"
    )
    expect(where(Ingress.route(specs(shop), "books.example.com", "/api/v2"))).toBe("default/8080/books-api")
  })

  it("Prefix matches whole path elements, Exact the whole path, ImplementationSpecific as a full regular expression", () => {
    const route = (host: string | undefined, path: string) => where(Ingress.route(specs(shop), host, path))
    expect(route("books.example.com", "/api")).toBe("default/8080/books-api")
    expect(route("books.example.com", "/apis")).toBe("default/http/books")
    expect(route(undefined, "/authors")).toBe("default/http/authors")
    expect(route(undefined, "/authors/1")).toBe("default/http/web")
    expect(route("other", "/v2/books")).toBe("default/80/api")
    expect(route("other", "/x/v2/books")).toBe("default/http/web")
    expect(route("shop.example.org", "/anything")).toBe("default/80/org")
    expect(route("a.b.example.org", "/anything")).toBe("default/http/web")
  })

  it("the first Ingress with a matching rule wins; default backends only when no rule of any Ingress matches", () => {
    const a = v1("a", { defaultBackend: backend("a-default", 80), rules: [] })
    const b = v1("b", { rules: [{ http: { paths: [{ path: "/b", pathType: "Prefix", backend: backend("b", 80) }] } }] })
    expect(where(Ingress.route(specs(a, b), "h", "/b/1"))).toBe("default/80/b")
    expect(where(Ingress.route(specs(a, b), "h", "/c"))).toBe("default/80/a-default")
    const ignoring = [Ingress.specOf(a, "linkerd", true)!, Ingress.specOf(b, "linkerd", true)!]
    expect(where(Ingress.route(ignoring, "h", "/c"))).toBe("none")
  })

  it("Ingresses for another class are ignored (annotation or ingressClassName); unannotated ones are taken", () => {
    const rules = { rules: [{ http: { paths: [{ backend: backend("x", 80) }] } }] }
    expect(specs(v1("n", rules, { "kubernetes.io/ingress.class": "nginx" }))).toEqual([])
    expect(specs(v1("n", { ...rules, ingressClassName: "nginx" }))).toEqual([])
    expect(specs(v1("l", rules, { "kubernetes.io/ingress.class": "linkerd" }))).toHaveLength(1)
    expect(specs(v1("u", rules))).toHaveLength(1)
    expect(Ingress.specOf(v1("w", rules, { "kubernetes.io/ingress.class": "weir" }), "weir")).toBeDefined()
  })

  it("reads the older extensions/v1beta1 shape (serviceName, servicePort, spec.backend), in the Ingress's namespace", () => {
    const old = v1(
      "old",
      {
        backend: { serviceName: "fallback", servicePort: 80 },
        rules: [{ http: { paths: [{ path: "/testpath", backend: { serviceName: "test", servicePort: "http" } }] } }]
      },
      undefined,
      "shop"
    )
    expect(where(Ingress.route(specs(old), "h", "/testpath"))).toBe("shop/http/test")
    expect(where(Ingress.route(specs(old), "h", "/other"))).toBe("shop/80/fallback")
  })

  it("a path that is not a valid expression never matches; a resource backend is left out", () => {
    const odd = v1("odd", {
      rules: [{
        http: {
          paths: [
            { path: "/(", backend: backend("broken", 80) },
            { path: "/r", pathType: "Prefix", backend: { resource: { kind: "Bucket", name: "b" } } }
          ]
        }
      }]
    })
    expect(Ingress.specOf(odd, "linkerd")!.rules).toHaveLength(1)
    expect(where(Ingress.route(specs(odd), "h", "/("))).toBe("none")
  })

  it("the identifier names /<dstPrefix>/<namespace>/<port>/<service>, from Host or an h2 request's :authority", () => {
    const identify = IngressIdentifier.make(
      Path.parseUnsafe("/svc"),
      (host, url) =>
        host === "books.example.com" && url === "/x"
          ? { namespace: "ns", port: "http", service: "books" }
          : "no ingress rule matches"
    )
    const request = (headers: Record<string, string>) =>
      Message.request({ url: "/x", headers, version: "1.1", method: "GET" })
    const shown = (r: ReturnType<typeof identify>) => r._tag === "Identified" ? Path.show(r.name) : r.reason
    expect(shown(identify(request({ host: "books.example.com" })))).toBe("/svc/ns/http/books")
    expect(shown(identify(request({ ":authority": "books.example.com" })))).toBe("/svc/ns/http/books")
    expect(shown(identify(request({ host: "other" })))).toBe("no ingress rule matches")
  })

  it("reads the path of an absolute-form target and drops the query", () => {
    expect(Ingress.pathOf("http://books:4140/api/1?x=/y")).toBe("/api/1")
    expect(Ingress.pathOf("/a?b")).toBe("/a")
    expect(Ingress.pathOf("http://books")).toBe("/")
    expect(Ingress.hostOf("[::1]:80")).toBe("::1")
    expect(Ingress.hostOf(undefined)).toBeUndefined()
  })
})

const linkerOf = (fakePort: number, extra = "") => {
  const r = Config.parse(`
admin: {ip: 127.0.0.1, port: 0}
namers:
- kind: io.l5d.k8s
  host: 127.0.0.1
  port: ${fakePort}
routers:
- protocol: http
  label: ingress
  identifier:
    kind: io.l5d.ingress
    host: 127.0.0.1
    port: ${fakePort}${extra}
  dtab: /svc => /#/io.l5d.k8s
  servers: [{ip: 127.0.0.1, port: 0}]
`)
  if (Result.isFailure(r)) throw new Error(JSON.stringify(r.failure))
  return Linker.make(r.success)
}

/** Sends the request every 20 ms until `done` holds for the reply (at most 5 s); the watch applies changes asynchronously. */
const until = (port: number, path: string, host: string, done: (r: Reply) => boolean, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 250; i++) {
      const r = yield* sendE(port, { path, headers: { host } })
      if (done(r)) return r
      yield* Effect.sleep("20 millis")
    }
    throw new Error(`timed out waiting for ${what}`)
  })

const fakeApi = Effect.acquireRelease(Effect.promise(() => Fake.start()), (f) => Effect.promise(() => f.close()))

describe("io.l5d.ingress in the proxy (real sockets, fake Kubernetes API)", () => {
  it.live("routes by the Ingress's rules to the k8s namer's endpoints; an update of the Ingress changes routing", () =>
    Effect.gen(function*() {
      const fake = yield* fakeApi
      const books = yield* textBackend("books")
      const authors = yield* textBackend("authors")
      const web = yield* textBackend("web")
      for (const [name, app] of [["books", books], ["authors", authors], ["web", web]] as const) {
        fake.set("default", name, { ready: ["127.0.0.1"], ports: [{ name: "http", port: app.port }] })
      }
      fake.setIngress("default", "shop", {
        defaultBackend: backend("web", "http"),
        rules: [
          { host: "books.example.com", http: { paths: [{ backend: backend("books", "http") }] } },
          { http: { paths: [{ path: "/authors", pathType: "Prefix", backend: backend("authors", "http") }] } }
        ]
      }, { "kubernetes.io/ingress.class": "linkerd" })
      // another controller's Ingress, which would take every request if it counted
      fake.setIngress("default", "theirs", { defaultBackend: backend("authors", "http") }, {
        "kubernetes.io/ingress.class": "nginx"
      })
      const linker = yield* linkerOf(fake.port)
      const port = linker.routers[0]!.servers[0]!.port
      yield* until(port, "/", "books.example.com", (r) => r.body === "books", "the first list of Ingresses")
      expect((yield* sendE(port, { path: "/authors/12", headers: { host: "anything" } })).body).toBe("authors")
      expect((yield* sendE(port, { path: "/", headers: { host: "anything" } })).body).toBe("web")
      expect(web.seen.at(-1)!.headers["l5d-dst-service"]).toBe("/svc/default/http/web")

      // the Ingress changes: /authors now goes to books, and there is no default backend any more
      fake.setIngress("default", "shop", {
        rules: [{ http: { paths: [{ path: "/authors", pathType: "Prefix", backend: backend("books", "http") }] } }]
      })
      yield* until(port, "/authors", "anything", (r) => r.body === "books", "the changed Ingress")
      const none = yield* sendE(port, { path: "/", headers: { host: "anything" } })
      expect(none.status).toBe(400)
      expect(none.body).toContain("no ingress rule matches")

      // deleted: nothing matches
      fake.remove("default", "shop", "ingresses")
      const gone = yield* until(port, "/authors", "anything", (r) => r.status === 400, "the deleted Ingress")
      expect(gone.body).toContain("no ingress rule matches")
    }))

  it.live("an API answering garbage: requests fail with 400 naming the resource and the decode error, then recover", () =>
    Effect.gen(function*() {
      const fake = yield* fakeApi
      const app = yield* textBackend("app")
      fake.set("shop", "app", { ready: ["127.0.0.1"], ports: [{ name: "http", port: app.port }] })
      fake.setIngress("shop", "all", { defaultBackend: backend("app", "http") })
      fake.mode = "garbage"
      const linker = yield* linkerOf(fake.port, "\n    namespace: shop")
      const port = linker.routers[0]!.servers[0]!.port
      const reply = yield* until(port, "/", "shop", (r) => r.body.includes("cannot decode"), "the decode failure")
      expect(reply.status).toBe(400)
      expect(reply.body).toContain("ingresses in namespace shop: cannot decode the list")
      expect(app.seen).toHaveLength(0)

      fake.mode = "ok"
      yield* until(port, "/", "shop", (r) => r.body === "app", "the recovery")
      expect(app.seen[0]!.headers["l5d-dst-service"]).toBe("/svc/shop/http/app")
      // only the namespace's Ingresses were asked for
      expect(fake.requests.some((r) => r.url.startsWith("/apis/networking.k8s.io/v1/namespaces/shop/ingresses")))
        .toBe(true)
      expect(fake.requests.some((r) => r.url.startsWith("/apis/networking.k8s.io/v1/ingresses"))).toBe(false)
    }))

  it("decodes linkerd's keys with their defaults and rejects a bad one, located", () => {
    const r = Config.parse(`routers: [{protocol: http, identifier: {kind: io.l5d.ingress}}]`)
    expect(Result.isSuccess(r) && r.success.routers[0]!.identifiers).toEqual([{
      kind: "io.l5d.ingress",
      ingressClassAnnotation: "linkerd",
      ignoreDefaultBackends: false,
      host: "localhost",
      port: 8001
    }])
    const paths = (text: string) => {
      const bad = Config.parse(text)
      return Result.isFailure(bad) ? bad.failure.map((p) => p.path) : []
    }
    expect(paths(`routers: [{protocol: http, identifier: {kind: io.l5d.ingress, port: 70000}}]`))
      .toEqual(["routers[0].identifier.port"])
    expect(paths(`routers: [{protocol: http, identifier: {kind: io.l5d.ingress, bogus: 1}}]`))
      .toEqual(["routers[0].identifier.bogus"])
  })
})
