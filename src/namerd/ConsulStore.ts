/**
 * `io.l5d.consul` storage: each namespace's dtab is the Consul KV key `<pathPrefix>/<ns>` (default
 * `namerd/dtabs/<ns>`), its value the dtab text, its version the key's `ModifyIndex`.
 *
 * ```yaml
 * storage:
 *   kind: io.l5d.consul
 *   host: 127.0.0.1
 *   port: 8500
 *   pathPrefix: /namerd/dtabs
 *   token: …          # sent as X-Consul-Token
 *   datacenter: dc1   # ?dc=
 * ```
 *
 * Writes use Consul's check-and-set: `create` is `PUT ?cas=0` (only if absent), `update`
 * `PUT ?cas=<version>` (only if unchanged since), so two writers cannot lose an update. A blocking
 * query on the prefix (`?recurse&index=<X-Consul-Index>&wait=…`) feeds the mirror; it is re-issued
 * after each answer (from index 0 again if the index went backwards, as Consul's documentation
 * asks), and after a failure a second later. Tested against a fake Consul KV API that
 * follows the documented semantics (no Consul agent in the test environment).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Http from "node:http"
import * as Dtab from "../naming/Dtab.js"
import type * as Stats from "../Stats.js"
import { type DtabStore, DtabStoreError, makeMirror, type VersionedDtab } from "./DtabStore.js"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly host: string
  readonly port: number
  /** Key prefix. Defaults to `/namerd/dtabs` (the key is written without its leading slash). */
  readonly pathPrefix?: string | undefined
  readonly token?: string | undefined
  readonly datacenter?: string | undefined
  /** How long a blocking query may wait. Defaults to `"5m"` (Consul's maximum is 10 minutes). */
  readonly wait?: string | undefined
  /** Where `consul/connected`, `consul/watch_errors` go. Defaults to none. */
  readonly stats?: Stats.StatsReceiver | undefined
}

interface Reply {
  readonly status: number
  readonly index: number
  readonly body: string
}

interface KvEntry {
  readonly Key?: unknown
  readonly Value?: unknown
  readonly ModifyIndex?: unknown
}

/**
 * A Consul-backed store living in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<DtabStore, never, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = (options.pathPrefix ?? "/namerd/dtabs").replace(/^\/+/, "") + "/"
    const mirror = yield* makeMirror()
    const warn = (m: string) => void Effect.runFork(Effect.logWarning(m))
    const watchErrors = options.stats?.counter("consul", "watch_errors")
    let connected = 0
    const unregister = options.stats?.gauge(["consul", "connected"], () => connected)
    if (unregister !== undefined) yield* Effect.addFinalizer(() => Effect.sync(unregister))

    const query = (params: Record<string, string>) => {
      const q = new URLSearchParams(params)
      if (options.datacenter !== undefined) q.set("dc", options.datacenter)
      const s = q.toString().replace(/=(&|$)/g, "$1")
      return s === "" ? "" : `?${s}`
    }
    const keyPath = (ns: string) => `/v1/kv/${prefix}${encodeURIComponent(ns)}`
    let inflight: Http.ClientRequest | undefined
    const send = (method: string, path: string, body?: string, watch = false): Promise<Reply> =>
      new Promise((resolve, reject) => {
        const req = Http.request({
          host: options.host,
          port: options.port,
          method,
          path,
          agent: false,
          headers: options.token !== undefined ? { "x-consul-token": options.token } : {}
        }, (res) => {
          let text = ""
          res.setEncoding("utf8")
          res.on("data", (c: string) => (text += c))
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, index: Number(res.headers["x-consul-index"] ?? 0), body: text }))
          res.on("error", reject)
        })
        req.on("error", reject)
        if (watch) {
          inflight = req
        } else {req.setTimeout(10_000, () =>
            req.destroy(new Error("no answer within 10 s")))}
        req.end(body)
      })

    const parse = (body: string): Map<string, VersionedDtab> => {
      const dtabs = new Map<string, VersionedDtab>()
      const entries = JSON.parse(body) as unknown
      for (const e of Array.isArray(entries) ? entries as Array<KvEntry> : []) {
        if (typeof e.Key !== "string" || !e.Key.startsWith(prefix) || typeof e.ModifyIndex !== "number") continue
        const ns = decodeURIComponent(e.Key.slice(prefix.length))
        if (ns === "" || ns.includes("/")) continue
        const text = typeof e.Value === "string" ? Buffer.from(e.Value, "base64").toString("utf8") : ""
        const dtab = Dtab.parse(text)
        if (Result.isFailure(dtab)) {
          warn(`consul key ${e.Key} does not hold a valid dtab: ${dtab.failure.message}`)
          continue
        }
        dtabs.set(ns, { dtab: dtab.success, version: String(e.ModifyIndex) })
      }
      return dtabs
    }

    let stopped = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const poll = (index: number): void => {
      if (stopped) return
      const params: Record<string, string> = { recurse: "" }
      if (index > 0) Object.assign(params, { index: String(index), wait: options.wait ?? "5m" })
      send("GET", `/v1/kv/${prefix}${query(params)}`, undefined, true).then((r) => {
        if (r.status !== 200 && r.status !== 404) throw new Error(`answered ${r.status}: ${r.body.slice(0, 200)}`)
        const dtabs = r.status === 404 ? new Map<string, VersionedDtab>() : parse(r.body)
        Effect.runFork(SubscriptionRef.set(mirror.ref, { synced: true, dtabs, revision: r.index }))
        connected = 1
        poll(r.index < index || r.index <= 0 ? 0 : r.index)
      }).catch((e: unknown) => {
        if (stopped) return
        connected = 0
        watchErrors?.incr()
        warn(`consul ${options.host}:${options.port}: ${e instanceof Error ? e.message : String(e)}; retrying`)
        timer = setTimeout(() => poll(index), 1000)
      })
    }
    poll(0)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        stopped = true
        if (timer !== undefined) clearTimeout(timer)
        inflight?.destroy()
      })
    )

    const call = (ns: string, method: string, path: string, body?: string) =>
      Effect.tryPromise({
        try: () => send(method, path, body),
        catch: (e) =>
          new DtabStoreError({
            reason: "Unavailable",
            namespace: ns,
            detail: e instanceof Error ? e.message : String(e)
          })
      })
    const unavailable = (ns: string, r: Reply) =>
      Effect.fail(new DtabStoreError({ reason: "Unavailable", namespace: ns, detail: `consul answered ${r.status}` }))
    /** The key's current ModifyIndex, `undefined` when absent. */
    const current = (ns: string) =>
      Effect.flatMap(call(ns, "GET", keyPath(ns) + query({ consistent: "" })), (r) => {
        if (r.status === 404) return Effect.succeed(undefined)
        if (r.status !== 200) return unavailable(ns, r)
        const entries = JSON.parse(r.body) as Array<KvEntry>
        const m = entries[0]?.ModifyIndex
        return Effect.succeed(typeof m === "number" ? m : undefined)
      })
    const seen = (ns: string) =>
      Effect.flatMap(current(ns), (m) =>
        mirror.awaitState(ns, (s) =>
          s.synced &&
          (m === undefined ? !s.dtabs.has(ns) : s.revision >= m || s.dtabs.get(ns)?.version === String(m))))
    const write = (ns: string, dtab: Dtab.Dtab, cas: string | undefined) =>
      Effect.flatMap(
        call(ns, "PUT", keyPath(ns) + query(cas === undefined ? {} : { cas }), Dtab.show(dtab)),
        (r) => r.status !== 200 ? unavailable(ns, r) : Effect.succeed(r.body.trim() === "true")
      )
    const conflict = (ns: string) =>
      Effect.flatMap(
        current(ns),
        (m) =>
          Effect.fail(new DtabStoreError({ reason: m === undefined ? "NotFound" : "VersionMismatch", namespace: ns }))
      )

    const remove = (ns: string): Effect.Effect<void, DtabStoreError> =>
      Effect.flatMap(current(ns), (m) =>
        m === undefined
          ? Effect.fail(new DtabStoreError({ reason: "NotFound", namespace: ns }))
          : Effect.flatMap(
            call(ns, "DELETE", keyPath(ns) + query({ cas: String(m) })),
            (r) => r.status !== 200 ? unavailable(ns, r) : r.body.trim() === "true" ? seen(ns) : remove(ns)
          ))

    return {
      kind: "io.l5d.consul",
      list: mirror.list,
      watchList: mirror.watchList,
      observe: mirror.observe,
      create: (ns, dtab) =>
        Effect.flatMap(
          write(ns, dtab, "0"),
          (ok) => ok ? seen(ns) : Effect.fail(new DtabStoreError({ reason: "Exists", namespace: ns }))
        ),
      update: (ns, dtab, version) =>
        /^[1-9][0-9]*$/.test(version)
          ? Effect.flatMap(write(ns, dtab, version), (ok) => ok ? seen(ns) : conflict(ns))
          : conflict(ns),
      put: (ns, dtab) => Effect.flatMap(write(ns, dtab, undefined), () => seen(ns)),
      delete: remove
    } satisfies DtabStore
  })
