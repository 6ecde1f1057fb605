/**
 * The proxy's `io.l5d.mesh` interpreter: a router binds names through namerd's gRPC mesh API
 * (`namerd/MeshInterface.ts`, or linkerd's namerd) over one HTTP/2 connection, h2c or TLS.
 *
 * ```yaml
 * routers:
 * - protocol: http
 *   interpreter:
 *     kind: io.l5d.mesh
 *     dst: /$/inet/127.0.0.1/4321
 *     root: /default
 *     retry: { baseSeconds: 1, maxSeconds: 600 }
 * ```
 *
 * Each binding is a `StreamBoundTree` call (`BindReq {root, name, dtab}`, the request's dtab as
 * `dtab`): every message is the new bound tree. Each bound id's addresses are one shared
 * `StreamReplicas` call. When namerd cannot be reached, a call fails or namerd sends something
 * unreadable, the router keeps routing on the last answer it had (logged, and counted as the HTTP
 * interpreter counts it: `connected`/`disconnected` gauges, `reconnects`, `failures`), and the call
 * is made again after `retry.baseSeconds`, doubling up to `retry.maxSeconds`; the first answer
 * after a reconnection catches up with every change made meanwhile.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as RcMap from "effect/RcMap"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Http2 from "node:http2"
import type * as NodeTls from "node:tls"
import type * as Address from "../../Address.js"
import type * as Activity from "../../naming/Activity.js"
import * as Addr from "../../naming/Addr.js"
import type * as Dtab from "../../naming/Dtab.js"
import type { BoundTree, NameInterpreter } from "../../naming/Interpreter.js"
import * as Name from "../../naming/Name.js"
import * as NameTree from "../../naming/NameTree.js"
import * as Path from "../../naming/Path.js"
import * as Stats from "../../Stats.js"
import * as Codec from "./MeshCodec.js"
import * as Replicas from "./MeshReplicas.js"
import * as Pb from "./Protobuf.js"
import * as Wire from "./Wire.js"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** namerd's current addresses (the first is used; the next one after a connection failure). */
  readonly addresses: () => ReadonlyArray<Address.Address>
  /** The namespace, as a one-element path. Defaults to `/default`. */
  readonly root?: Path.Path | undefined
  /** First delay before a failed call is made again. Defaults to 1 second (linkerd's). */
  readonly retryBase?: Duration.Input | undefined
  /** Longest delay between attempts. Defaults to 600 seconds. */
  readonly retryMax?: Duration.Input | undefined
  /** Where `connected`, `disconnected`, `reconnects` and `failures` are recorded. Defaults to none. */
  readonly stats?: Stats.StatsReceiver | undefined
  /**
   * Opens a TLS connection to namerd, offering ALPN `h2` (see `http/transport/Tls.open`). Defaults
   * to h2c.
   */
  readonly openTls?: ((host: string, port: number) => NodeTls.TLSSocket) | undefined
  /** HTTP/2 initial stream window in bytes. Defaults to node's (64 KiB). */
  readonly initialWindowSize?: number | undefined
  /** How long an unused replicas call stays open. Defaults to 10 seconds. */
  readonly idleTimeToLive?: Duration.Input | undefined
  /**
   * Failure detection (linkerd's `failureThreshold`): the connection is pinged every `minPeriod`
   * and closed when a ping is not answered within `closeTimeout`, failing its calls so they are
   * made again on a new connection. Defaults to none (node notices only a connection that closes).
   */
  readonly failureDetector?: {
    readonly minPeriod: Duration.Input
    readonly closeTimeout: Duration.Input
  } | undefined
}

const Interpreter = "/io.linkerd.mesh.Interpreter/StreamBoundTree"
const Resolver = "/io.linkerd.mesh.Resolver/StreamReplicas"

const decodeMessage = (v: unknown): string => {
  const s = String(v ?? "")
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/**
 * An interpreter that asks namerd's mesh API, living in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<NameInterpreter, never, Scope.Scope> =>
  Effect.gen(function*() {
    const root = options.root ?? Path.make("default")
    const base = Duration.toMillis(Duration.fromInputUnsafe(options.retryBase ?? Duration.seconds(1)))
    const max = Math.max(base, Duration.toMillis(Duration.fromInputUnsafe(options.retryMax ?? Duration.seconds(600))))
    const stats = options.stats ?? Stats.noop
    const { failures, link, reconnects } = yield* Wire.connectionStats(stats)
    const warn = (message: string) => void Effect.runFork(Effect.logWarning(message))

    let session: Http2.ClientHttp2Session | undefined
    let next = 0
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        session?.destroy()
      })
    )

    const sessionFor = (): { readonly session: Http2.ClientHttp2Session; readonly where: string } | string => {
      const addresses = options.addresses()
      if (addresses.length === 0) return "no address for namerd"
      const a = addresses[next % addresses.length]!
      const where = `${a.host}:${a.port}`
      if (session !== undefined && !session.closed && !session.destroyed) return { session, where }
      const host = a.host.includes(":") ? `[${a.host}]` : a.host
      const openTls = options.openTls
      const s = Http2.connect(`${openTls === undefined ? "http" : "https"}://${host}:${a.port}`, {
        ...(openTls !== undefined ? { createConnection: () => openTls(a.host, a.port) } : {}),
        ...(options.initialWindowSize !== undefined
          ? { settings: { initialWindowSize: options.initialWindowSize } }
          : {})
      })
      s.on("error", () => {})
      const detector = options.failureDetector
      const pinger = detector === undefined ? undefined : setInterval(() => {
        if (s.closed || s.destroyed || s.connecting) return
        const closeTimeout = Duration.fromInputUnsafe(detector.closeTimeout)
        const deadline = setTimeout(() => {
          warn(`namerd mesh: no answer to a ping from ${where} within ${Duration.format(closeTimeout)}; closing`)
          s.destroy(new Error(`no answer to a ping within ${Duration.format(closeTimeout)}`))
        }, Duration.toMillis(closeTimeout))
        s.ping(() => clearTimeout(deadline))
      }, Duration.toMillis(Duration.fromInputUnsafe(detector.minPeriod)))
      s.on("close", () => {
        if (pinger !== undefined) clearInterval(pinger)
        if (session === s) session = undefined
      })
      session = s
      return { session: s, where }
    }

    /** Keeps a server-streaming call open, making it again after each failure; returns the stop function. */
    const open = (
      method: string,
      request: Uint8Array,
      what: string,
      onMessage: (message: Uint8Array) => void
    ): () => void => {
      let stopped = false
      let delay = base
      let timer: ReturnType<typeof setTimeout> | undefined
      let call: Http2.ClientHttp2Stream | undefined
      const connection = link()
      const retry = (reason: string) => {
        if (stopped) return
        failures.incr()
        connection.set(false)
        warn(`namerd mesh ${what}: ${reason}; keeping the last answer (if any), retrying in ${delay / 1000} s`)
        timer = setTimeout(() => {
          reconnects.incr()
          connect()
        }, delay)
        delay = Math.min(delay * 2, max)
      }
      const connect = () => {
        if (stopped) return
        const target = sessionFor()
        if (typeof target === "string") return retry(target)
        const { session: s, where } = target
        const stream = s.request({
          ":method": "POST",
          ":path": method,
          "content-type": "application/grpc",
          te: "trailers"
        })
        call = stream
        let failed = false
        const fail = (reason: string) => {
          if (failed) return
          failed = true
          stream.close(Http2.constants.NGHTTP2_CANCEL)
          if (s.destroyed || s.closed) next++
          retry(reason)
        }
        const deframer = new Pb.Deframer()
        const statusOf = (h: Http2.IncomingHttpHeaders) =>
          `answered gRPC status ${String(h["grpc-status"])}${
            h["grpc-message"] === undefined ? "" : `: ${decodeMessage(h["grpc-message"])}`
          }`
        stream.on("response", (h) => {
          if (h[":status"] !== 200) return fail(`answered HTTP ${h[":status"]}`)
          if (h["grpc-status"] !== undefined) return fail(statusOf(h))
          connection.set(true)
        })
        stream.on("data", (chunk: Buffer) => {
          let messages: Array<Uint8Array>
          try {
            messages = deframer.push(chunk)
          } catch (e) {
            return fail(`sent an unreadable stream: ${e instanceof Error ? e.message : String(e)}`)
          }
          for (const m of messages) {
            if (failed || stopped) return
            delay = base
            onMessage(m)
          }
        })
        stream.on("trailers", (h) => fail(statusOf(h)))
        stream.on("error", (e) => fail(`unreachable at ${where}: ${e.message}`))
        stream.on("close", () => fail(`closed the call at ${where}`))
        stream.end(Pb.frame(request))
      }
      connect()
      return () => {
        stopped = true
        if (timer !== undefined) clearTimeout(timer)
        call?.close(Http2.constants.NGHTTP2_CANCEL)
        connection.close()
      }
    }

    const callStream = <A>(
      method: string,
      request: Uint8Array,
      what: string,
      decode: (m: Uint8Array) => A | undefined
    ) =>
      Stream.callback<A>((queue) =>
        Effect.acquireRelease(
          Effect.sync(() =>
            open(method, request, what, (m) => {
              const a = decode(m)
              if (a !== undefined) Queue.offerUnsafe(queue, a)
            })
          ),
          (stop) => Effect.sync(stop)
        )
      )

    const addrs = yield* RcMap.make({
      lookup: (id: string) =>
        Effect.gen(function*() {
          const ref = yield* SubscriptionRef.make<Addr.Addr>(Addr.pending)
          const what = `replicas of ${id}`
          const decode = (m: Uint8Array) => {
            const r = Replicas.decodeReplicas(m)
            if (Result.isSuccess(r)) return r.success
            warn(`namerd mesh ${what}: ignoring an unreadable answer: ${r.failure}`)
            return undefined
          }
          yield* Effect.forkScoped(
            Stream.runForEach(
              callStream(Resolver, Codec.encodePathReq(Path.parseUnsafe(id)), what, decode),
              (a) => SubscriptionRef.set(ref, a)
            )
          )
          return ref
        }),
      idleTimeToLive: options.idleTimeToLive ?? "10 seconds"
    })
    const addrOf = (id: Path.Path): Stream.Stream<Addr.Addr> =>
      Stream.unwrap(Effect.map(RcMap.get(addrs, Path.show(id)), SubscriptionRef.changes)).pipe(
        Stream.changesWith(Addr.equals)
      )

    const toBound = (tree: NameTree.NameTree<Codec.BoundLeaf>): BoundTree =>
      NameTree.map(tree, (l) => Name.bound(l.id, addrOf(l.id), l.residual))

    const bindStates = (dtab: Dtab.Dtab, path: Path.Path): Stream.Stream<Activity.State<BoundTree>> => {
      const what = `bind ${Path.show(path)}`
      const answers = Wire.treeAnswers(`namerd mesh ${what}`, warn)
      return callStream(
        Interpreter,
        Codec.encodeBindReq(root, path, dtab),
        what,
        (m: Uint8Array) => answers.take(Result.map(Codec.decodeBoundTree(m), toBound))
      )
    }

    return Wire.remoteInterpreter(bindStates)
  })
