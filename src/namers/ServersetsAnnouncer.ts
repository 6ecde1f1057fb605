/**
 * The `io.l5d.serversets` announcer: registers a router's server in a ZooKeeper serverset, so
 * other linkers (or any serverset client) find it through `io.l5d.serversets`. Each announcement is
 * an ephemeral sequential member `<zk path>/member_<n>` holding
 * `{"serviceEndpoint": {"host", "port"}, "additionalEndpoints": {}, "status": "ALIVE"}`.
 *
 * The member lives as long as the announcement: it is removed when the announcement's scope closes
 * (a graceful shutdown), and by ZooKeeper itself when the session ends (a crash, or a session
 * expiry). After an expiry the announcer opens a new session and announces again; a member deleted
 * by someone else is re-created.
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Watches from "./Watches.js"
import * as ZkClient from "./zk/Client.js"

/**
 * One announced member, as the admin state shows it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Announcement {
  readonly zkPath: string
  readonly host: string
  readonly port: number
  /** The member's znode while it exists. */
  readonly member: string | undefined
}

/**
 * An announcer on one ZooKeeper ensemble.
 *
 * @since 0.1.0
 * @category models
 */
export interface Announcer {
  /** Announces `host:port` in the serverset at `zkPath` until the current scope closes. */
  readonly announce: (zkPath: string, host: string, port: number) => Effect.Effect<void, never, Scope.Scope>
  /** The current announcements. */
  readonly announcements: () => ReadonlyArray<Announcement>
  readonly client: ZkClient.ZkClient
}

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** ZooKeeper servers, `host:port,…`. */
  readonly connectString: string
  /** The ZooKeeper session timeout. Defaults to 10 seconds. */
  readonly sessionTimeout?: Duration.Input | undefined
  /** A session to use instead of opening one. */
  readonly client?: ZkClient.ZkClient | undefined
  /** Label for logs. Defaults to `io.l5d.serversets announcer`. */
  readonly label?: string | undefined
}

/**
 * The member data of an announcement.
 *
 * @since 0.1.0
 * @category encoding
 */
export const memberData = (host: string, port: number): Buffer =>
  Buffer.from(JSON.stringify({ serviceEndpoint: { host, port }, additionalEndpoints: {}, status: "ALIVE" }))

/**
 * Builds an announcer; its session lives in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Announcer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const label = options.label ?? "io.l5d.serversets announcer"
    const zk = options.client ??
      (yield* ZkClient.make({ connectString: options.connectString, sessionTimeout: options.sessionTimeout }))
    const live = new Set<{ zkPath: string; host: string; port: number; member: string | undefined }>()

    /** Completes when `member` changes or goes away (an exists watch), or at once if it is gone. */
    const gone = (member: string): Effect.Effect<void> =>
      Effect.gen(function*() {
        const fired = Deferred.makeUnsafe<void>()
        const present = yield* Effect.result(zk.exists(member, () => void Deferred.doneUnsafe(fired, Effect.void)))
        if (Result.isFailure(present) || !present.success) return
        yield* Deferred.await(fired)
      })

    const announce = (zkPath: string, host: string, port: number) =>
      Effect.gen(function*() {
        const entry = { zkPath, host, port, member: undefined as string | undefined }
        live.add(entry)
        const prefix = ZkClient.child(zkPath, "member_")
        let generation = -1
        let attempt = 0
        const loop = Effect.gen(function*() {
          for (;;) {
            const v = zk.version()
            if (!zk.connected()) {
              yield* zk.changedSince(v)
              continue
            }
            if (entry.member === undefined || generation !== zk.generation()) {
              const created = yield* Effect.result(zk.createEphemeralSequential(prefix, memberData(host, port)))
              if (Result.isFailure(created)) {
                yield* Effect.logWarning(
                  `${label}: cannot announce ${host}:${port} at ${zkPath}: ${created.failure.message}`
                )
                yield* Effect.raceFirst(
                  Effect.flatMap(Watches.backoff("100 millis", "10 seconds", attempt++), Effect.sleep),
                  zk.changedSince(v)
                )
                continue
              }
              attempt = 0
              entry.member = created.success
              generation = zk.generation()
              yield* Effect.logInfo(`${label}: announced ${host}:${port} at ${created.success}`)
              continue
            }
            const member = entry.member
            yield* Effect.raceFirst(zk.changedSince(v), gone(member))
            const still = yield* Effect.result(zk.exists(member))
            if (Result.isSuccess(still) && !still.success) entry.member = undefined
            else if (Result.isFailure(still)) {
              yield* Effect.raceFirst(
                Effect.flatMap(Watches.backoff("100 millis", "10 seconds", attempt++), Effect.sleep),
                zk.changedSince(v)
              )
            } else attempt = 0
          }
        })
        yield* Effect.addFinalizer(() =>
          Effect.suspend(() => {
            live.delete(entry)
            const member = entry.member
            entry.member = undefined
            return member === undefined || !zk.connected() ? Effect.void : zk.remove(member).pipe(
              Effect.timeoutOption("2 seconds"),
              Effect.catch(() => Effect.void),
              Effect.asVoid
            )
          })
        )
        yield* Effect.forkScoped(loop)
      })

    return {
      announce,
      announcements: () => Array.from(live, (e) => ({ ...e })),
      client: zk
    }
  })
