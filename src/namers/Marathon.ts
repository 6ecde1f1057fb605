/**
 * The `io.l5d.marathon` namer: service discovery from Marathon (Mesos / DC/OS) app tasks.
 * `/#/io.l5d.marathon/<app id…>[/residual]` answers the tasks of the Marathon app whose id is the
 * shortest prefix of the path that names an existing app (`/group/web/extra` is the app
 * `/group/web` with residual `/extra` when `/group` is not an app); labels are lowercased, as app
 * ids are. No app is `Neg`. Each task is an address `host:<first port>`; with `useHealthCheck`, only
 * tasks whose health check results are all alive count (a task not yet checked does not, when the
 * app has health checks).
 *
 * How it watches: one poll of `GET <uriPrefix>/v2/apps` (the app ids and their health checks) and
 * `GET <uriPrefix>/v2/tasks` (every task with its app id) shared by every name, every `ttl` plus a
 * random jitter up to `jitter`, opened on the first lookup. A failed poll (connection, non-200, an
 * answer that does not decode) keeps the last answer, stale (metrics, `/namer_state`), and is
 * retried with a jittered backoff.
 *
 * Authentication (DC/OS): with a service account credential (the JSON of
 * `DCOS_SERVICE_ACCOUNT_CREDENTIAL`: `uid`, `private_key`, `login_endpoint`), the namer logs in
 * with an RS256-signed token and sends `Authorization: token=<token>`, logging in again on a 401;
 * with HTTP basic credentials (`MARATHON_HTTP_AUTH_CREDENTIAL`: base64 `user:password`) it sends
 * `Authorization: Basic …`. Credentials never appear in logs or state.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Address from "../Address.js"
import * as Addr from "../naming/Addr.js"
import * as Name from "../naming/Name.js"
import * as Namer from "../naming/Namer.js"
import * as NameTree from "../naming/NameTree.js"
import * as Path from "../naming/Path.js"
import * as DcosAuth from "./DcosAuth.js"
import * as HostResolver from "./HostResolver.js"
import * as HttpGet from "./HttpGet.js"
import * as Watches from "./Watches.js"

/**
 * The namer kind, also its default mount prefix.
 *
 * @since 0.1.0
 * @category constants
 */
export const kind = "io.l5d.marathon"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Marathon's host. Defaults to `marathon.mesos`. */
  readonly host?: string | undefined
  /** Marathon's port. Defaults to `80`. */
  readonly port?: number | undefined
  /** A path prefix before `/v2/…` (Marathon behind the DC/OS admin router: `/marathon`). Defaults to none. */
  readonly uriPrefix?: string | undefined
  /** How often Marathon is polled. Defaults to 5 seconds. */
  readonly ttl?: Duration.Input | undefined
  /** A random extra delay, up to this, added to each poll interval. Defaults to 50 milliseconds. */
  readonly jitter?: Duration.Input | undefined
  /** Only tasks passing their health checks. Defaults to `false`. */
  readonly useHealthCheck?: boolean | undefined
  /** HTTPS to Marathon. */
  readonly tls?: HttpGet.Tls | undefined
  /** How to authenticate. Defaults to none. */
  readonly auth?: DcosAuth.Auth | undefined
  /** Why the credential could not be read (every poll then fails with it, so lookups say why). */
  readonly authProblem?: string | undefined
  /** First retry delay after a failed poll (doubling, jittered, up to `ttl`). Defaults to 100 milliseconds. */
  readonly minBackoff?: Duration.Input | undefined
  /** Label for logs and metrics. Defaults to `#/io.l5d.marathon`. */
  readonly label?: string | undefined
}

const Apps = Schema.Struct({
  apps: Schema.Array(Schema.Struct({
    id: Schema.String,
    healthChecks: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.Unknown)))
  }))
})

const Tasks = Schema.Struct({
  tasks: Schema.Array(Schema.Struct({
    id: Schema.optionalKey(Schema.String),
    appId: Schema.String,
    host: Schema.String,
    ports: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.Int))),
    state: Schema.optionalKey(Schema.String),
    healthCheckResults: Schema.optionalKey(Schema.NullOr(Schema.Array(Schema.Struct({ alive: Schema.Boolean }))))
  }))
})

const decodeApps = Schema.decodeUnknownResult(Schema.fromJsonString(Apps))
const decodeTasks = Schema.decodeUnknownResult(Schema.fromJsonString(Tasks))

/** One app: its tasks' addresses, all and healthy. */
interface App {
  readonly all: ReadonlyArray<readonly [string, number]>
  readonly healthy: ReadonlyArray<readonly [string, number]>
}

type Snapshot = Readonly<Record<string, App>>

/**
 * What `/namer_state/<prefix>.json` shows: settings (no credentials), the poll's state, and each
 * app's task count.
 *
 * @since 0.1.0
 * @category models
 */
export interface MarathonState {
  readonly kind: string
  readonly host: string
  readonly port: number
  readonly uriPrefix: string
  readonly ttlMs: number
  readonly poll: Watches.WatchInfo | undefined
  readonly apps: Readonly<Record<string, { readonly tasks: number; readonly healthy: number }>>
}

const normalizeId = (id: string): string => "/" + id.split("/").filter((l) => l !== "").join("/").toLowerCase()

/**
 * Builds the namer; its poll lives in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Namer.Namer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const host = options?.host ?? "marathon.mesos"
    const port = options?.port ?? 80
    const uriPrefix = (options?.uriPrefix ?? "").replace(/\/+$/, "")
    const label = options?.label ?? `#/${kind}`
    const ttl = Duration.fromInputUnsafe(options?.ttl ?? "5 seconds")
    const jitterMs = Duration.toMillis(Duration.fromInputUnsafe(options?.jitter ?? "50 millis"))
    const useHealthCheck = options?.useHealthCheck === true
    const get = yield* HttpGet.make({ host, port, tls: options?.tls })
    const auth = yield* DcosAuth.make(options?.auth)
    const resolver = HostResolver.make({ label })

    const fetchJson = <A>(what: string, decode: (s: string) => Result.Result<A, Schema.SchemaError>) =>
      Effect.gen(function*() {
        let reply = yield* get(`${uriPrefix}${what}`, { headers: yield* auth.headers, timeout: "10 seconds" })
        if (reply.status === 401 && auth.enabled) {
          yield* auth.invalidate
          reply = yield* get(`${uriPrefix}${what}`, { headers: yield* auth.headers, timeout: "10 seconds" })
        }
        if (reply.status !== 200) return yield* Effect.fail(`Marathon answered ${reply.status} for ${what}`)
        const decoded = decode(reply.body)
        if (Result.isFailure(decoded)) {
          return yield* Effect.fail(`cannot decode Marathon's ${what}: ${decoded.failure.message.split("\n")[0]}`)
        }
        return decoded.success
      }).pipe(Effect.mapError((e) => (typeof e === "string" ? e : e.message)))

    const poll = Effect.gen(function*() {
      if (options?.authProblem !== undefined) return yield* Effect.fail(options.authProblem)
      const apps = yield* fetchJson("/v2/apps", decodeApps)
      const tasks = yield* fetchJson("/v2/tasks", decodeTasks)
      const out: Record<string, { all: Array<readonly [string, number]>; healthy: Array<readonly [string, number]> }> =
        {}
      const checked = new Set<string>()
      for (const app of apps.apps) {
        const id = normalizeId(app.id)
        out[id] = { all: [], healthy: [] }
        if ((app.healthChecks ?? []).length > 0) checked.add(id)
      }
      for (const t of tasks.tasks) {
        const app = out[normalizeId(t.appId)]
        const p = (t.ports ?? [])[0]
        if (app === undefined || p === undefined || t.host === "") continue
        if (t.state !== undefined && t.state !== "TASK_RUNNING") continue
        app.all.push([t.host, p])
        const results = t.healthCheckResults ?? []
        const healthy = results.every((r) => r.alive) && (results.length > 0 || !checked.has(normalizeId(t.appId)))
        if (healthy) app.healthy.push([t.host, p])
      }
      for (const app of Object.values(out)) {
        app.all.sort()
        app.healthy.sort()
      }
      return out as Snapshot
    })

    const run = (_key: string, handle: Watches.Handle<Snapshot>) =>
      Effect.gen(function*() {
        let attempt = 0
        for (;;) {
          const r = yield* Effect.result(poll)
          if (Result.isSuccess(r)) {
            attempt = 0
            yield* handle.ok(r.success)
            const extra = yield* Random.nextBetween(0, jitterMs)
            yield* Effect.sleep(Duration.sum(ttl, Duration.millis(Math.round(extra))))
          } else {
            yield* handle.fail(r.failure)
            yield* Effect.flatMap(Watches.backoff(options?.minBackoff ?? "100 millis", ttl, attempt++), Effect.sleep)
          }
        }
      })

    const watches = yield* Watches.make<Snapshot>({
      label,
      equals: (a, b) => JSON.stringify(a) === JSON.stringify(b),
      run,
      idleTimeToLive: "10 seconds"
    })
    const snapshots = watches.states("apps").pipe(Stream.filter((s) => s._tag !== "Pending"))

    const addrOf = (id: string) =>
      snapshots.pipe(
        Stream.mapEffect((s): Effect.Effect<Addr.Addr> => {
          if (s._tag !== "Ok") return Effect.succeed(Addr.failed(s._tag === "Failed" ? s.reason : "pending"))
          const app = s.value[id]
          if (app === undefined) return Effect.succeed(Addr.neg)
          const xs = (useHealthCheck ? app.healthy : app.all).map(([h, p]) => Address.make(h, p))
          return Effect.map(resolver.addresses(xs), (ys) => Addr.bound(ys))
        }),
        Stream.changesWith(Addr.equals)
      )

    const lookup = (path: Path.Path): Stream.Stream<NameTree.NameTree<Name.Name>, Namer.NamerError> =>
      Stream.suspend(() => {
        watches.looked()
        const labels = path.labels.map((l) => l.toLowerCase())
        return snapshots.pipe(
          Stream.mapEffect((s) =>
            s._tag === "Failed"
              ? Effect.fail(new Namer.NamerError({ path: Path.show(path), reason: s.reason }))
              : Effect.succeed(s._tag === "Ok" ? shortestApp(s.value, labels) : 0)
          ),
          Stream.changes,
          Stream.map((n): NameTree.NameTree<Name.Name> =>
            n === 0 ? NameTree.neg : NameTree.leaf(
              Name.bound(
                Path.fromLabels(labels.slice(0, n)),
                addrOf("/" + labels.slice(0, n).join("/")),
                Path.fromLabels(path.labels.slice(n))
              )
            )
          )
        )
      })

    const current = Effect.map(watches.entries, (es) => es.find(([k]) => k === "apps"))

    const enumerate = Effect.map(current, (e) =>
      e === undefined || e[1]._tag !== "Ok"
        ? []
        : Object.keys(e[1].value).sort().map((id) => Path.fromLabels(id.split("/").filter((l) => l !== ""))))

    const state = Effect.map(current, (e): MarathonState => {
      const apps: Record<string, { tasks: number; healthy: number }> = {}
      if (e !== undefined && e[1]._tag === "Ok") {
        for (const [id, app] of Object.entries(e[1].value)) {
          apps[id] = { tasks: app.all.length, healthy: app.healthy.length }
        }
      }
      return { kind, host, port, uriPrefix, ttlMs: Duration.toMillis(ttl), poll: e?.[2], apps }
    })

    return { lookup, enumerate, state }
  })

/** The number of labels of the shortest prefix of `labels` that is an app id, or 0. */
const shortestApp = (snapshot: Snapshot, labels: ReadonlyArray<string>): number => {
  for (let n = 1; n <= labels.length; n++) if (snapshot["/" + labels.slice(0, n).join("/")] !== undefined) return n
  return 0
}
