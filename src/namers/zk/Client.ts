/**
 * A ZooKeeper session for the ZooKeeper namers and the serversets announcer, over
 * `node-zookeeper-client`: the client reconnects by itself while its session lives (the server
 * re-registers its watches); when the session expires, this module opens a new one, and every
 * watch loop re-reads and re-arms its watches on it.
 *
 * `watchLoop` is the shared pattern of the namers: read with one-shot watches, publish the answer,
 * wait for a watch to fire (or the connection to change), read again. While the connection is
 * lost the last answer is kept, marked stale; a failed read is retried with a jittered backoff.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Zk from "node-zookeeper-client"
import "./Guard.js"
import * as Watches from "../Watches.js"

/**
 * A ZooKeeper operation failed. `code` is ZooKeeper's error name (`CONNECTION_LOSS`, …).
 *
 * @since 0.1.0
 * @category errors
 */
export class ZkError extends Data.TaggedError("ZkError")<{
  readonly op: string
  readonly path: string
  readonly code: string
}> {
  override get message(): string {
    return `ZooKeeper ${this.op} ${this.path} failed: ${this.code}`
  }
}

/**
 * A one-shot watch callback.
 *
 * @since 0.1.0
 * @category models
 */
export type Watcher = () => void

/**
 * The session as `/namer_state` shows it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionInfo {
  readonly connectString: string
  readonly connected: boolean
  /** The current session id (hex), once connected. */
  readonly sessionId: string | undefined
  /** Sessions opened so far (a new one after each expiry). */
  readonly sessions: number
  readonly disconnections: number
}

/**
 * A ZooKeeper session.
 *
 * @since 0.1.0
 * @category models
 */
export interface ZkClient {
  readonly connectString: string
  readonly connected: () => boolean
  /** Bumped on every connection change (connected, lost, expired). */
  readonly version: () => number
  /** Bumped on every new session. */
  readonly generation: () => number
  /** Completes once `version()` differs from `v`. */
  readonly changedSince: (v: number) => Effect.Effect<void>
  readonly info: () => SessionInfo
  /** The current session's id and password (never shown: for tools that take over a session). */
  readonly credentials: () => { readonly id: Buffer; readonly password: Buffer }
  /** The children of `path`, or `undefined` when it does not exist. */
  readonly getChildren: (path: string, watcher?: Watcher) => Effect.Effect<Array<string> | undefined, ZkError>
  /** The data of `path`, or `undefined` when it does not exist. */
  readonly getData: (path: string, watcher?: Watcher) => Effect.Effect<Buffer | undefined, ZkError>
  /** Whether `path` exists (the watch fires on its creation or deletion). */
  readonly exists: (path: string, watcher?: Watcher) => Effect.Effect<boolean, ZkError>
  /** Creates `<prefix><sequence>` as an ephemeral sequential node (parents created); its path. */
  readonly createEphemeralSequential: (prefix: string, data: Buffer) => Effect.Effect<string, ZkError>
  /** Removes `path` (absent is fine). */
  readonly remove: (path: string) => Effect.Effect<void, ZkError>
  /** Runs a watch loop (see the module doc) reporting to `handle`, until interrupted. */
  readonly watchLoop: <A>(
    read: (watcher: Watcher) => Effect.Effect<A, ZkError>,
    handle: Watches.Handle<A>
  ) => Effect.Effect<void>
}

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `host:port[,host:port…]`. */
  readonly connectString: string
  /** The session timeout asked for. Defaults to 10 seconds. */
  readonly sessionTimeout?: Duration.Input | undefined
  /** Connect only when first used (a namer before its first lookup). Defaults to `false`. */
  readonly lazy?: boolean | undefined
  /** First retry delay after a failed read; doubles (jittered) up to 10 seconds. Defaults to 100 milliseconds. */
  readonly minBackoff?: Duration.Input | undefined
}

const signal = () => {
  let version = 0
  let waiters = new Set<() => void>()
  return {
    version: () => version,
    fire: () => {
      version++
      const ws = waiters
      waiters = new Set()
      for (const w of ws) w()
    },
    since: (v: number): Effect.Effect<void> =>
      Effect.callback<void>((resume) => {
        if (version !== v) return resume(Effect.void)
        const w = () => resume(Effect.void)
        waiters.add(w)
        return Effect.sync(() => void waiters.delete(w))
      })
  }
}

const codeOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "name" in e && typeof (e as { name: unknown }).name === "string"
    ? (e as { name: string }).name
    : String(e)

/**
 * Opens a session in the current scope (closed, with its ephemeral nodes, when the scope closes):
 * at once, or with `lazy` on first use. Does not wait for the connection.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<ZkClient, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { connectString } = options
    const sessionTimeout = Duration.toMillis(Duration.fromInputUnsafe(options.sessionTimeout ?? "10 seconds"))
    const minBackoff = options.minBackoff ?? "100 millis"
    const conn = signal()
    let connected = false
    let generation = 0
    let sessions = 0
    let disconnections = 0
    let closed = false
    let client: Zk.Client | undefined

    const open = () => {
      const c = Zk.createClient(connectString, { sessionTimeout, spinDelay: 200, retries: 0 })
      c.on("state", (state: Zk.State) => {
        if (closed || c !== client) return
        if (state === Zk.State.SYNC_CONNECTED) {
          connected = true
        } else if (state === Zk.State.DISCONNECTED) {
          if (connected) disconnections++
          connected = false
        } else if (state === Zk.State.EXPIRED || state === Zk.State.AUTH_FAILED) {
          connected = false
          c.close()
          open()
        }
        conn.fire()
      })
      client = c
      generation++
      sessions++
      c.connect()
    }
    let started = false
    const start = () => {
      if (started || closed) return
      started = true
      open()
    }
    if (options.lazy !== true) start()
    // The client clears its connect timeout once TCP connects, so a server that accepts but never
    // answers the session handshake (one starting or stopping) would hold it forever: a socket
    // still not connected after `handshakeTimeout` is dropped, which makes the client try again.
    const handshakeTimeout = Math.max(1000, Math.floor(sessionTimeout / 3))
    let watched: { readonly socket: unknown; readonly since: number } | undefined
    const watchdog = setInterval(() => {
      if (client === undefined) return
      const socket = (client as unknown as { connectionManager?: { socket?: { destroy?: () => void } } })
        .connectionManager?.socket
      if (connected || socket === undefined) {
        watched = undefined
        return
      }
      if (watched?.socket !== socket) watched = { socket, since: Date.now() }
      else if (Date.now() - watched.since > handshakeTimeout) {
        watched = undefined
        socket.destroy?.()
      }
    }, 250)
    watchdog.unref()
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        clearInterval(watchdog)
        connected = false
        client?.close()
        conn.fire()
      })
    )

    const call = <A>(op: string, path: string, f: (c: Zk.Client, cb: (e: unknown, a: A) => void) => void) =>
      Effect.callback<A, ZkError>((resume) => {
        start()
        if (!connected || client === undefined) {
          return resume(Effect.fail(new ZkError({ op, path, code: "CONNECTION_LOSS" })))
        }
        try {
          f(client, (e, a) => resume(e ? Effect.fail(new ZkError({ op, path, code: codeOf(e) })) : Effect.succeed(a)))
        } catch (e) {
          resume(Effect.fail(new ZkError({ op, path, code: e instanceof Error ? e.message : String(e) })))
        }
      }).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(sessionTimeout),
          orElse: () => Effect.fail(new ZkError({ op, path, code: "TIMEOUT" }))
        })
      )

    const absentAsUndefined = <A>(e: Effect.Effect<A, ZkError>): Effect.Effect<A | undefined, ZkError> =>
      Effect.catchIf(e, (err) => err.code === "NO_NODE", () => Effect.succeed(undefined))

    const getChildren = (path: string, watcher?: Watcher) =>
      absentAsUndefined(
        call<Array<string>>(
          "getChildren",
          path,
          (c, cb) => watcher === undefined ? c.getChildren(path, cb) : c.getChildren(path, watcher, cb)
        )
      )
    const getData = (path: string, watcher?: Watcher) =>
      absentAsUndefined(
        call<Buffer>("getData", path, (c, cb) =>
          watcher === undefined ? c.getData(path, cb) : c.getData(path, watcher, cb))
      )
    const exists = (path: string, watcher?: Watcher) =>
      Effect.map(
        call<Zk.Stat | null>(
          "exists",
          path,
          (c, cb) =>
            watcher === undefined ? c.exists(path, cb) : c.exists(path, watcher, cb)
        ),
        (stat) =>
          stat !== null && stat !== undefined
      )
    const createEphemeralSequential = (prefix: string, data: Buffer) => {
      const parent = prefix.slice(0, prefix.lastIndexOf("/"))
      return Effect.andThen(
        parent === "" ? Effect.void : call<string>("mkdirp", parent, (c, cb) => c.mkdirp(parent, cb)),
        call<string>("create", prefix, (c, cb) => c.create(prefix, data, Zk.CreateMode.EPHEMERAL_SEQUENTIAL, cb))
      )
    }
    const remove = (path: string) =>
      Effect.asVoid(absentAsUndefined(call<void>("remove", path, (c, cb) => c.remove(path, (e) => cb(e, undefined)))))

    const watchLoop = <A>(read: (watcher: Watcher) => Effect.Effect<A, ZkError>, handle: Watches.Handle<A>) =>
      Effect.gen(function*() {
        start()
        const changed = signal()
        const watcher = () => changed.fire()
        let attempt = 0
        for (;;) {
          const v = conn.version()
          if (!connected) {
            if (handle.current()._tag === "Ok") {
              yield* handle.fail(`ZooKeeper at ${connectString} is not reachable (connection lost)`)
              yield* conn.since(v)
            } else {
              const waited = yield* Effect.timeoutOption(conn.since(v), Duration.millis(sessionTimeout))
              if (waited._tag === "None") yield* handle.fail(`cannot connect to ZooKeeper at ${connectString}`)
            }
            continue
          }
          const seen = changed.version()
          const r = yield* Effect.result(read(watcher))
          if (Result.isFailure(r)) {
            if (r.failure.code === "CONNECTION_LOSS" && !connected) continue
            yield* handle.fail(r.failure.message)
            yield* Effect.raceFirst(
              Effect.flatMap(Watches.backoff(minBackoff, "10 seconds", attempt++), Effect.sleep),
              conn.since(v)
            )
            continue
          }
          attempt = 0
          yield* handle.ok(r.success)
          yield* Effect.raceFirst(changed.since(seen), conn.since(v))
        }
      })

    return {
      connectString,
      connected: () => connected,
      version: conn.version,
      generation: () => generation,
      changedSince: conn.since,
      info: () => ({
        connectString,
        connected,
        sessionId: connected && client !== undefined ? client.getSessionId().toString("hex") : undefined,
        sessions,
        disconnections
      }),
      credentials: () => ({
        id: client?.getSessionId() ?? Buffer.alloc(8),
        password: client?.getSessionPassword() ?? Buffer.alloc(16)
      }),
      getChildren,
      getData,
      exists,
      createEphemeralSequential,
      remove,
      watchLoop
    }
  })

/**
 * A connect string from `zkAddrs`-style host/port pairs.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connectString = (addrs: ReadonlyArray<{ readonly host: string; readonly port: number }>): string =>
  addrs.map((a) => (a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)).join(",")

/**
 * Joins a ZooKeeper path and child name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const child = (parent: string, name: string): string => parent === "/" ? `/${name}` : `${parent}/${name}`
