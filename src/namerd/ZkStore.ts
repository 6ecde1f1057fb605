/**
 * `io.l5d.zk` storage: each namespace's dtab is the znode `<pathPrefix>/<ns>` (default
 * `/dtabs/<ns>`), its data the dtab text, its version the znode's data version.
 *
 * ```yaml
 * storage:
 *   kind: io.l5d.zk
 *   zkAddrs: [{ host: 127.0.0.1, port: 2181 }]
 *   pathPrefix: /dtabs
 *   sessionTimeoutMs: 10000
 *   authInfo: { scheme: digest, auth: "user:password" }
 * ```
 *
 * `update` is a versioned `setData`, so ZooKeeper refuses a write based on a stale read
 * (`BadVersion` → `412`). A children watch on the prefix and a data watch on each namespace feed
 * the mirror; after a reconnection the client restores its watches and the store reads everything
 * again. When the session expires (ZooKeeper dropped it, e.g. after a long partition), or the
 * connection has been lost (or never made) for longer than the session timeout (as Curator treats
 * it), a new session is opened and everything is read again; the mirror keeps the last dtabs
 * meanwhile.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Zk from "node-zookeeper-client"
import "../namers/zk/Guard.js"
import * as Dtab from "../naming/Dtab.js"
import type * as Stats from "../Stats.js"
import { type DtabStore, DtabStoreError, makeMirror, type MirrorState, withNamespace } from "./DtabStore.js"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly zkAddrs: ReadonlyArray<{ readonly host: string; readonly port: number }>
  /** Parent znode, without a trailing slash. Defaults to `/dtabs`. */
  readonly pathPrefix?: string | undefined
  /** Defaults to 10 seconds. */
  readonly sessionTimeout?: Duration.Input | undefined
  readonly authInfo?: { readonly scheme: string; readonly auth: string } | undefined
  /** Where `zk/connected`, `zk/session_expirations` go. Defaults to none. */
  readonly stats?: Stats.StatsReceiver | undefined
  /** Called with each new session's client (diagnostics and tests). Defaults to none. */
  readonly onSession?: ((client: Zk.Client) => void) | undefined
}

const code = (e: unknown): number | undefined =>
  typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "number"
    ? (e as { code: number }).code
    : undefined

const message = (e: unknown) => e instanceof Error ? e.message : String(e)

/**
 * A ZooKeeper-backed store living in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<DtabStore, never, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = options.pathPrefix ?? "/dtabs"
    const connection = options.zkAddrs.map((a) => `${a.host}:${a.port}`).join(",")
    const sessionTimeout = Duration.toMillis(Duration.fromInputUnsafe(options.sessionTimeout ?? Duration.seconds(10)))
    const mirror = yield* makeMirror()
    const expirations = options.stats?.counter("zk", "session_expirations")
    let connected = 0
    const unregister = options.stats?.gauge(["zk", "connected"], () => connected)
    if (unregister !== undefined) yield* Effect.addFinalizer(() => Effect.sync(unregister))
    const warn = (m: string) => void Effect.runFork(Effect.logWarning(m))
    const update = (f: (s: MirrorState) => MirrorState) => void Effect.runFork(SubscriptionRef.update(mirror.ref, f))
    let closed = false
    let client: Zk.Client

    const nodePath = (ns: string) => `${prefix}/${ns}`

    const session = (): Zk.Client => {
      const c = Zk.createClient(connection, { sessionTimeout, spinDelay: 200, retries: 1 })
      if (options.authInfo !== undefined) c.addAuthInfo(options.authInfo.scheme, Buffer.from(options.authInfo.auth))
      const dataWatchers = new Map<string, (event: Zk.Event) => void>()
      const readChild = (ns: string) => {
        let watcher = dataWatchers.get(ns)
        if (watcher === undefined) {
          watcher = () => {
            dataWatchers.delete(ns)
            if (c === client) readChild(ns)
          }
          dataWatchers.set(ns, watcher)
        }
        c.getData(nodePath(ns), watcher, (err, data, stat) => {
          if (err !== null && err !== undefined) {
            if (code(err) === Zk.Exception.NO_NODE) update((s) => withNamespace(s, ns, undefined))
            else warn(`zk: cannot read ${nodePath(ns)}: ${message(err)}`)
            return
          }
          const dtab = Dtab.parse((data ?? Buffer.alloc(0)).toString("utf8"))
          if (Result.isFailure(dtab)) {
            warn(`zk: ${nodePath(ns)} does not hold a valid dtab: ${dtab.failure.message}`)
            return update((s) => withNamespace(s, ns, undefined))
          }
          const version = String(stat.version)
          update((s) =>
            s.dtabs.get(ns)?.version === version ? s : withNamespace(s, ns, { dtab: dtab.success, version })
          )
        })
      }
      const childWatcher = () => {
        if (c === client) readChildren()
      }
      const readChildren = () =>
        c.getChildren(prefix, childWatcher, (err, children) => {
          if (err !== null && err !== undefined) return warn(`zk: cannot list ${prefix}: ${message(err)}`)
          const names = new Set(children)
          update((s) => {
            let next = s
            for (const ns of s.dtabs.keys()) if (!names.has(ns)) next = withNamespace(next, ns, undefined)
            return next
          })
          let pending = children.length
          if (pending === 0) update((s) => ({ ...s, synced: true }))
          for (const ns of children) {
            readChildThen(ns, () => {
              pending--
              if (pending === 0) update((s) => ({ ...s, synced: true }))
            })
          }
        })
      const readChildThen = (ns: string, done: () => void) => {
        readChild(ns)
        c.exists(nodePath(ns), () => done())
      }
      let lostTimer: ReturnType<typeof setTimeout> | undefined
      const renew = (why: string) => {
        if (c !== client || closed) return
        connected = 0
        expirations?.incr()
        warn(`zk ${connection}: ${why}; opening a new session`)
        client = session()
        c.close()
      }
      c.on("state", (state) => {
        if (c !== client) return
        if (state === Zk.State.SYNC_CONNECTED) {
          connected = 1
          if (lostTimer !== undefined) clearTimeout(lostTimer)
          lostTimer = undefined
          c.mkdirp(prefix, (err) => {
            if (err !== null && err !== undefined) return warn(`zk: cannot create ${prefix}: ${message(err)}`)
            readChildren()
          })
        } else if (state === Zk.State.DISCONNECTED) {
          connected = 0
          warn(`zk ${connection}: disconnected; serving the last dtabs until the session reconnects`)
          if (lostTimer === undefined) {
            lostTimer = setTimeout(() => renew("disconnected for longer than the session timeout"), sessionTimeout)
          }
        } else if (state === Zk.State.EXPIRED) {
          renew("session expired")
        }
      })
      lostTimer = setTimeout(() => renew("no connection within the session timeout"), sessionTimeout)
      c.connect()
      options.onSession?.(c)
      return c
    }
    client = session()
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        client.close()
      })
    )

    const call = <A>(ns: string, f: (c: Zk.Client, cb: (err: unknown, a?: A) => void) => void) =>
      Effect.andThen(
        mirror.awaitState(ns, (s) => s.synced),
        Effect.callback<{ readonly err: unknown; readonly value: A | undefined }>((resume) => {
          f(client, (err, a) => resume(Effect.succeed({ err: err ?? undefined, value: a })))
        })
      ).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(Math.max(sessionTimeout, 5000)),
          orElse: () =>
            Effect.fail(
              new DtabStoreError({ reason: "Unavailable", namespace: ns, detail: `no answer from ${connection}` })
            )
        })
      )
    const failWith = (ns: string, err: unknown): Effect.Effect<never, DtabStoreError> => {
      const c = code(err)
      const reason = c === Zk.Exception.NO_NODE
        ? "NotFound"
        : c === Zk.Exception.NODE_EXISTS
        ? "Exists"
        : c === Zk.Exception.BAD_VERSION
        ? "VersionMismatch"
        : "Unavailable"
      return Effect.fail(
        new DtabStoreError({ reason, namespace: ns, ...(reason === "Unavailable" ? { detail: message(err) } : {}) })
      )
    }
    const seenVersion = (ns: string, version: number) =>
      mirror.awaitState(ns, (s) => {
        const v = s.dtabs.get(ns)
        return v === undefined || Number(v.version) >= version
      })
    const data = (dtab: Dtab.Dtab) => Buffer.from(Dtab.show(dtab), "utf8")
    const setData = (ns: string, dtab: Dtab.Dtab, version: number) =>
      call<Zk.Stat>(ns, (c, cb) => c.setData(nodePath(ns), data(dtab), version, cb)).pipe(
        Effect.flatMap(({ err, value }) =>
          err === undefined && value !== undefined ? seenVersion(ns, value.version) : failWith(ns, err)
        )
      )
    const create = (ns: string, dtab: Dtab.Dtab) =>
      call<string>(ns, (c, cb) => c.create(nodePath(ns), data(dtab), Zk.CreateMode.PERSISTENT, cb)).pipe(
        Effect.flatMap(({ err }) =>
          err === undefined ? mirror.awaitState(ns, (s) => s.dtabs.has(ns)) : failWith(ns, err)
        )
      )

    return {
      kind: "io.l5d.zk",
      list: mirror.list,
      watchList: mirror.watchList,
      observe: mirror.observe,
      create,
      update: (ns, dtab, version) =>
        /^[0-9]+$/.test(version)
          ? setData(ns, dtab, Number(version))
          : Effect.flatMap(
            call<Zk.Stat>(ns, (c, cb) => c.exists(nodePath(ns), cb)),
            ({ value }) =>
              Effect.fail(
                new DtabStoreError({ reason: value === undefined ? "NotFound" : "VersionMismatch", namespace: ns })
              )
          ),
      put: (ns, dtab) =>
        setData(ns, dtab, -1).pipe(
          Effect.catchIf(
            (e) => e.reason === "NotFound",
            () =>
              create(ns, dtab).pipe(
                Effect.catchIf((e) => e.reason === "Exists", () => setData(ns, dtab, -1))
              )
          )
        ),
      delete: (ns) =>
        call<void>(ns, (c, cb) => c.remove(nodePath(ns), -1, cb)).pipe(
          Effect.flatMap(({ err }) =>
            err === undefined ? mirror.awaitState(ns, (s) => !s.dtabs.has(ns)) : failWith(ns, err)
          )
        )
    } satisfies DtabStore
  })
