/**
 * `io.l5d.k8s` storage: each namespace's dtab is a `DTab` custom resource (group `l5d.io`, version
 * `v1alpha1`, plural `dtabs`, linkerd's) in one Kubernetes namespace, reached through `kubectl proxy`
 * (or any API server address without authentication); its version is the object's
 * `metadata.resourceVersion`.
 *
 * ```yaml
 * storage:
 *   kind: io.l5d.k8s
 *   host: localhost
 *   port: 8001
 *   namespace: default
 * ```
 *
 * ```json
 * {"apiVersion":"l5d.io/v1alpha1","kind":"DTab","metadata":{"name":"default","resourceVersion":"42"},
 *  "dentries":[{"prefix":"/svc","dst":"/#/io.l5d.fs"}]}
 * ```
 *
 * The store lists the resources, then watches from the list's `resourceVersion` (re-listing after a
 * `410 Gone`, re-watching from the last version seen after the API server ends a watch). `update`
 * is a `PUT` carrying the version read, which the API server refuses with `409 Conflict` when the
 * object has changed since. The custom resource definition must exist (linkerd's `dtabs.l5d.io`).
 * Tested against a fake API server that follows the documented semantics (no real Kubernetes here).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Http from "node:http"
import * as Wire from "../namers/namerd/Wire.js"
import type * as Dtab from "../naming/Dtab.js"
import type * as Stats from "../Stats.js"
import { type DtabStore, DtabStoreError, makeMirror, type MirrorState, withNamespace } from "./DtabStore.js"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly host: string
  readonly port: number
  /** The Kubernetes namespace holding the `DTab` objects. Defaults to `default`. */
  readonly namespace?: string | undefined
  /** Where `k8s/connected`, `k8s/watch_errors` go. Defaults to none. */
  readonly stats?: Stats.StatsReceiver | undefined
}

interface Reply {
  readonly status: number
  readonly body: string
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** A `DTab` object's name, version and dtab; `undefined` when it is not one. */
const fromObject = (u: unknown): { name: string; version: string; dtab: Dtab.Dtab } | undefined => {
  if (!isObject(u) || !isObject(u.metadata)) return undefined
  const { name, resourceVersion } = u.metadata
  if (typeof name !== "string" || typeof resourceVersion !== "string") return undefined
  const dtab = Wire.dtabFromJson(u.dentries ?? [])
  return Result.isSuccess(dtab) ? { name, version: resourceVersion, dtab: dtab.success } : undefined
}

const revisionOf = (rv: string): number => /^[0-9]+$/.test(rv) ? Number(rv) : 0

/**
 * A Kubernetes-backed store living in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<DtabStore, never, Scope.Scope> =>
  Effect.gen(function*() {
    const base = `/apis/l5d.io/v1alpha1/namespaces/${encodeURIComponent(options.namespace ?? "default")}/dtabs`
    const mirror = yield* makeMirror()
    const warn = (m: string) => void Effect.runFork(Effect.logWarning(m))
    const update = (f: (s: MirrorState) => MirrorState) => void Effect.runFork(SubscriptionRef.update(mirror.ref, f))
    const watchErrors = options.stats?.counter("k8s", "watch_errors")
    let connected = 0
    const unregister = options.stats?.gauge(["k8s", "connected"], () => connected)
    if (unregister !== undefined) yield* Effect.addFinalizer(() => Effect.sync(unregister))

    const send = (method: string, path: string, body?: unknown): Promise<Reply> =>
      new Promise((resolve, reject) => {
        const req = Http.request({
          host: options.host,
          port: options.port,
          method,
          path,
          agent: false,
          headers: body === undefined ? {} : { "content-type": "application/json" }
        }, (res) => {
          let text = ""
          res.setEncoding("utf8")
          res.on("data", (c: string) => (text += c))
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }))
          res.on("error", reject)
        })
        req.on("error", reject)
        req.setTimeout(10_000, () => req.destroy(new Error("no answer within 10 s")))
        req.end(body === undefined ? undefined : JSON.stringify(body))
      })

    let stopped = false
    let current: Http.ClientRequest | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    const later = (f: () => void) => {
      if (!stopped) timer = setTimeout(f, 1000)
    }
    const relist = (): void => {
      send("GET", base).then((r) => {
        if (r.status !== 200) throw new Error(`list answered ${r.status}: ${r.body.slice(0, 200)}`)
        const doc = JSON.parse(r.body) as unknown
        if (!isObject(doc) || !isObject(doc.metadata) || typeof doc.metadata.resourceVersion !== "string") {
          throw new Error("list without metadata.resourceVersion")
        }
        const dtabs = new Map<string, { dtab: Dtab.Dtab; version: string }>()
        for (const item of Array.isArray(doc.items) ? doc.items : []) {
          const o = fromObject(item)
          if (o !== undefined) dtabs.set(o.name, { dtab: o.dtab, version: o.version })
        }
        const rv = doc.metadata.resourceVersion
        update(() => ({ synced: true, dtabs, revision: revisionOf(rv) }))
        connected = 1
        watch(rv)
      }).catch((e: unknown) => {
        connected = 0
        watchErrors?.incr()
        warn(`k8s ${options.host}:${options.port}${base}: ${e instanceof Error ? e.message : String(e)}; retrying`)
        later(relist)
      })
    }
    let generation = 0
    const watch = (rv: string): void => {
      if (stopped) return
      const mine = ++generation
      let last = rv
      let gone = false
      current = Http.get({
        host: options.host,
        port: options.port,
        path: `${base}?watch=true&resourceVersion=${encodeURIComponent(rv)}`,
        agent: false
      }, (res) => {
        if (res.statusCode !== 200) {
          generation++
          res.resume()
          return res.on("end", () => later(relist))
        }
        let buffer = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          buffer += chunk
          let nl = buffer.indexOf("\n")
          while (nl >= 0) {
            const line = buffer.slice(0, nl).trim()
            buffer = buffer.slice(nl + 1)
            nl = buffer.indexOf("\n")
            if (line === "") continue
            let event: unknown
            try {
              event = JSON.parse(line)
            } catch {
              warn(`k8s watch: ignoring a line that is not JSON`)
              continue
            }
            if (!isObject(event)) continue
            if (event.type === "ERROR") {
              gone = true
              continue
            }
            const obj = event.object
            const meta = isObject(obj) && isObject(obj.metadata) ? obj.metadata : undefined
            if (typeof meta?.resourceVersion === "string") last = meta.resourceVersion
            if (event.type === "BOOKMARK") continue
            const name = typeof meta?.name === "string" ? meta.name : undefined
            if (name === undefined) continue
            const revision = revisionOf(last)
            if (event.type === "DELETED") {
              update((s) => withNamespace(s, name, undefined, Math.max(s.revision, revision)))
              continue
            }
            const o = fromObject(obj)
            if (o === undefined) warn(`k8s watch: ${name} is not a valid DTab; ignored`)
            update((s) =>
              withNamespace(
                s,
                name,
                o === undefined ? undefined : { dtab: o.dtab, version: o.version },
                Math.max(s.revision, revision)
              )
            )
          }
        })
        res.on("close", () => {
          if (stopped || mine !== generation) return
          if (gone) relist()
          else watch(last)
        })
      })
      current.on("error", () => {
        if (mine !== generation) return
        generation++
        connected = 0
        watchErrors?.incr()
        later(relist)
      })
    }
    relist()
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        stopped = true
        if (timer !== undefined) clearTimeout(timer)
        current?.destroy()
      })
    )

    const object = (ns: string, dtab: Dtab.Dtab, version?: string) => ({
      apiVersion: "l5d.io/v1alpha1",
      kind: "DTab",
      metadata: { name: ns, ...(version !== undefined ? { resourceVersion: version } : {}) },
      dentries: Wire.dtabToJson(dtab)
    })
    const call = (ns: string, method: string, path: string, body?: unknown) =>
      Effect.tryPromise({
        try: () => send(method, path, body),
        catch: (e) =>
          new DtabStoreError({
            reason: "Unavailable",
            namespace: ns,
            detail: e instanceof Error ? e.message : String(e)
          })
      })
    const fail = (ns: string, r: Reply, conflict: DtabStoreError["reason"]): Effect.Effect<never, DtabStoreError> =>
      Effect.fail(
        new DtabStoreError({
          reason: r.status === 404 ? "NotFound" : r.status === 409 ? conflict : "Unavailable",
          namespace: ns,
          ...(r.status !== 404 && r.status !== 409 ? { detail: `API server answered ${r.status}` } : {})
        })
      )
    const seen = (ns: string, r: Reply) => {
      let rv = ""
      try {
        const o = JSON.parse(r.body) as unknown
        if (isObject(o) && isObject(o.metadata) && typeof o.metadata.resourceVersion === "string") {
          rv = o.metadata.resourceVersion
        }
      } catch {
        rv = ""
      }
      const revision = revisionOf(rv)
      return mirror.awaitState(ns, (s) => s.synced && (revision === 0 || s.revision >= revision))
    }
    const named = (ns: string) => `${base}/${encodeURIComponent(ns)}`
    const create = (ns: string, dtab: Dtab.Dtab) =>
      Effect.flatMap(
        call(ns, "POST", base, object(ns, dtab)),
        (r) => r.status === 201 || r.status === 200 ? seen(ns, r) : fail(ns, r, "Exists")
      )
    const update1 = (ns: string, dtab: Dtab.Dtab, version: string) =>
      Effect.flatMap(
        call(ns, "PUT", named(ns), object(ns, dtab, version)),
        (r) => r.status === 200 ? seen(ns, r) : fail(ns, r, "VersionMismatch")
      )

    return {
      kind: "io.l5d.k8s",
      list: mirror.list,
      watchList: mirror.watchList,
      observe: mirror.observe,
      create,
      update: update1,
      put: (ns, dtab) =>
        Effect.flatMap(call(ns, "GET", named(ns)), (r) => {
          const o = r.status === 200 ? fromObject(JSON.parse(r.body)) : undefined
          return r.status === 404
            ? create(ns, dtab)
            : o === undefined
            ? fail(ns, r, "Unavailable")
            : update1(ns, dtab, o.version)
        }),
      delete: (ns) =>
        Effect.flatMap(
          call(ns, "DELETE", named(ns)),
          (r) =>
            r.status === 200 || r.status === 202
              ? mirror.awaitState(ns, (s) => !s.dtabs.has(ns))
              : fail(ns, r, "Unavailable")
        )
    } satisfies DtabStore
  })
