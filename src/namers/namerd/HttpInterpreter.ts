/**
 * The proxy's `io.l5d.namerd.http` interpreter: a router binds names through namerd's HTTP API
 * instead of its own dtab and namers, so one dtab change in namerd reroutes every linker at once.
 *
 * ```yaml
 * routers:
 * - protocol: http
 *   interpreter:
 *     kind: io.l5d.namerd.http
 *     dst: /$/inet/127.0.0.1/4180
 *     namespace: default
 *     retry: { baseSeconds: 5, maxSeconds: 600 }
 *     tls: { commonName: namerd.example.com, trustCerts: [ca.pem] }   # optional: HTTPS to namerd
 * ```
 *
 * Each binding is a long-lived `GET /api/1/bind/<ns>?path=…&watch=true` (with the request's dtab as
 * `dtab=`): every line namerd sends is the new bound tree. Each bound id's addresses are a shared
 * `GET /api/1/addr/<ns>?path=<id>&watch=true`. When namerd cannot be reached or a watch breaks,
 * the router keeps routing on the last answer it had (logged, and counted in
 * `rt/<router>/namerd/…`: `connected` and `disconnected` watches, `reconnects`, `failures`), and
 * the watch is re-opened after `retry.baseSeconds`, doubling up to `retry.maxSeconds`; the first
 * answer after a reconnection catches up with every change made meanwhile.
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as RcMap from "effect/RcMap"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Http from "node:http"
import type * as NodeTls from "node:tls"
import type * as Address from "../../Address.js"
import type * as Activity from "../../naming/Activity.js"
import * as Addr from "../../naming/Addr.js"
import * as Dtab from "../../naming/Dtab.js"
import type { BoundTree, NameInterpreter } from "../../naming/Interpreter.js"
import * as Name from "../../naming/Name.js"
import * as Path from "../../naming/Path.js"
import * as Stats from "../../Stats.js"
import * as Wire from "./Wire.js"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** namerd's current addresses (the first is used; the next one after a failure). */
  readonly addresses: () => ReadonlyArray<Address.Address>
  /** The namerd namespace. Defaults to `default`. */
  readonly namespace?: string | undefined
  /** First delay before re-opening a broken watch. Defaults to 5 seconds. */
  readonly retryBase?: Duration.Input | undefined
  /** Longest delay between attempts. Defaults to 600 seconds. */
  readonly retryMax?: Duration.Input | undefined
  /** Where `connected`, `disconnected`, `reconnects` and `failures` are recorded. Defaults to none. */
  readonly stats?: Stats.StatsReceiver | undefined
  /** How long an unused address watch stays open. Defaults to 10 seconds. */
  readonly idleTimeToLive?: Duration.Input | undefined
  /**
   * Opens a TLS connection to namerd (HTTPS, or Thrift over TLS for `ThriftInterpreter`; see
   * `http/transport/Tls.open`). Defaults to plaintext.
   */
  readonly openTls?: ((host: string, port: number) => NodeTls.TLSSocket) | undefined
}

interface Watcher {
  readonly onDoc: (doc: unknown) => void
  readonly onFailure: (reason: string) => void
}

const addrEquals = (a: Addr.Addr, b: Addr.Addr) => Addr.equals(a, b)

/**
 * An interpreter that asks namerd, living in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<NameInterpreter, never, Scope.Scope> =>
  Effect.gen(function*() {
    const ns = encodeURIComponent(options.namespace ?? "default")
    const base = Duration.toMillis(Duration.fromInputUnsafe(options.retryBase ?? Duration.seconds(5)))
    const max = Math.max(base, Duration.toMillis(Duration.fromInputUnsafe(options.retryMax ?? Duration.seconds(600))))
    const stats = options.stats ?? Stats.noop
    const { failures, link, reconnects } = yield* Wire.connectionStats(stats)
    let next = 0
    const warn = (message: string) => void Effect.runFork(Effect.logWarning(message))

    /** Opens a watch that reconnects until stopped; returns the stop function. */
    const open = (target: string, watcher: Watcher): () => void => {
      let stopped = false
      let delay = base
      let timer: ReturnType<typeof setTimeout> | undefined
      let req: Http.ClientRequest | undefined
      const connection = link()
      const retry = (reason: string) => {
        if (stopped) return
        req?.destroy()
        failures.incr()
        connection.set(false)
        watcher.onFailure(reason)
        warn(`namerd ${target}: ${reason}; keeping the last answer (if any), retrying in ${delay / 1000} s`)
        timer = setTimeout(() => {
          reconnects.incr()
          connect()
        }, delay)
        delay = Math.min(delay * 2, max)
      }
      const connect = () => {
        if (stopped) return
        const addresses = options.addresses()
        if (addresses.length === 0) return retry("no address for namerd")
        const a = addresses[next % addresses.length]!
        let failed = false
        const fail = (reason: string) => {
          if (failed) return
          failed = true
          next++
          retry(reason)
        }
        const openTls = options.openTls
        // node uses `createConnection` only without an agent
        const via = openTls === undefined
          ? { agent: false as const }
          : { createConnection: () => openTls(a.host, a.port) }
        req = Http.get({ host: a.host, port: a.port, path: target, ...via }, (res) => {
          if (res.statusCode !== 200) {
            let body = ""
            res.setEncoding("utf8")
            res.on("data", (c: string) => (body = (body + c).slice(0, 1024)))
            res.on("end", () => fail(`answered ${res.statusCode}: ${body.trim()}`))
            res.on("error", (e) => fail(e.message))
            return
          }
          connection.set(true)
          let buffer = ""
          res.setEncoding("utf8")
          res.on("data", (chunk: string) => {
            buffer += chunk
            if (buffer.length > 16 << 20) return fail("a line longer than 16 MiB")
            let nl = buffer.indexOf("\n")
            while (nl >= 0) {
              const line = buffer.slice(0, nl).trim()
              buffer = buffer.slice(nl + 1)
              if (line !== "") {
                let doc: unknown
                try {
                  doc = JSON.parse(line)
                } catch {
                  return fail(`sent a line that is not JSON: ${line.slice(0, 200)}`)
                }
                delay = base
                watcher.onDoc(doc)
              }
              nl = buffer.indexOf("\n")
            }
          })
          res.on("end", () => fail("ended the watch"))
          res.on("close", () => fail("closed the watch"))
          res.on("error", (e) => fail(e.message))
        })
        req.on("error", (e) => fail(`unreachable at ${a.host}:${a.port}: ${e.message}`))
      }
      connect()
      return () => {
        stopped = true
        if (timer !== undefined) clearTimeout(timer)
        req?.destroy()
        connection.close()
      }
    }

    const watchStream = <A>(target: string, decode: (doc: unknown) => A | undefined, onFailure?: () => A | undefined) =>
      Stream.callback<A>((queue) =>
        Effect.acquireRelease(
          Effect.sync(() =>
            open(target, {
              onDoc: (doc) => {
                const a = decode(doc)
                if (a !== undefined) Queue.offerUnsafe(queue, a)
              },
              onFailure: () => {
                const a = onFailure?.()
                if (a !== undefined) Queue.offerUnsafe(queue, a)
              }
            })
          ),
          (stop) => Effect.sync(stop)
        )
      )

    const addrs = yield* RcMap.make({
      lookup: (id: string) =>
        Effect.gen(function*() {
          const ref = yield* SubscriptionRef.make<Addr.Addr>(Addr.pending)
          const target = `/api/1/addr/${ns}?path=${encodeURIComponent(id)}&watch=true`
          const decode = (doc: unknown) => {
            const r = Wire.addrFromJson(doc)
            if (Result.isSuccess(r)) return r.success
            warn(`namerd ${target}: ignoring an unreadable address: ${r.failure}`)
            return undefined
          }
          yield* Effect.forkScoped(
            Stream.runForEach(watchStream(target, decode), (a) => SubscriptionRef.set(ref, a))
          )
          return ref
        }),
      idleTimeToLive: options.idleTimeToLive ?? "10 seconds"
    })
    const addrOf = (id: Path.Path): Stream.Stream<Addr.Addr> =>
      Stream.unwrap(Effect.map(RcMap.get(addrs, Path.show(id)), SubscriptionRef.changes)).pipe(
        Stream.changesWith(addrEquals)
      )

    const bindStates = (dtab: Dtab.Dtab, path: Path.Path): Stream.Stream<Activity.State<BoundTree>> => {
      const target = `/api/1/bind/${ns}?path=${encodeURIComponent(Path.show(path))}&watch=true` +
        (dtab.dentries.length > 0 ? `&dtab=${encodeURIComponent(Dtab.show(dtab))}` : "")
      const answers = Wire.treeAnswers(`namerd ${target}`, warn)
      return watchStream(target, (doc: unknown) => answers.take(Wire.treeFromJson(doc, (id) => addrOf(id))))
    }

    return Wire.remoteInterpreter(bindStates)
  })

/**
 * Keeps the addresses a `dst` path binds to (e.g. `/$/inet/127.0.0.1/4180`) current, through
 * `interpreter`; returns their reader once they are known (or after 5 seconds). Lives in the
 * current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const dstAddresses = (
  interpreter: NameInterpreter,
  dst: Path.Path
): Effect.Effect<() => ReadonlyArray<Address.Address>, never, Scope.Scope> =>
  Effect.gen(function*() {
    let current: ReadonlyArray<Address.Address> = []
    const first = yield* Deferred.make<void>()
    yield* Effect.forkScoped(
      interpreter.bind(Dtab.empty, dst).pipe(
        Stream.switchMap((tree) => {
          const b = Wire.pick(tree)
          return b === undefined ? Stream.succeed([]) : Name.addresses(b)
        }),
        Stream.runForEach((a) => Effect.andThen(Effect.sync(() => (current = a)), Deferred.succeed(first, undefined))),
        Effect.catch((e) => Effect.logWarning(`namerd dst ${Path.show(dst)} does not bind: ${e.message}`))
      )
    )
    yield* Deferred.await(first).pipe(Effect.timeoutOption(Duration.seconds(5)))
    return () => current
  })
