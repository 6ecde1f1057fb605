/**
 * The proxy's `io.l5d.namerd` interpreter: a router binds names through namerd's Thrift `Namer`
 * service (`io.l5d.thriftNameInterpreter`), so one dtab change in namerd reroutes every linker.
 *
 * ```yaml
 * routers:
 * - protocol: http
 *   interpreter:
 *     kind: io.l5d.namerd
 *     dst: /$/inet/127.0.0.1/4100
 *     namespace: default
 *     retry: { baseSeconds: 5, maxSeconds: 600 }
 *     tls: { commonName: namerd.example.com, trustCerts: [ca.pem] }   # optional: Thrift over TLS
 * ```
 *
 * Each binding is a `bind` long poll and each bound id an `addr` long poll (shared by every tree
 * that contains it), each on its own connection (Thrift's binary protocol, framed): the client
 * sends the stamp of the last answer and namerd answers when the value differs. When namerd cannot
 * be reached, closes the connection, answers a `BindFailure`/`AddrFailure`, or sends bytes that are
 * not a readable reply, the router keeps routing on the last answer it had (the problem is logged
 * and counted in `rt/<router>/namerd/…`: `connected` and `disconnected` polls, `reconnects`,
 * `failures`), and polls again after `retry.baseSeconds`, doubling up to `retry.maxSeconds`. A
 * binding that never had an answer fails with the reason when namerd answers a failure or garbage
 * (requests fail fast with it instead of waiting).
 *
 * With `openTls` every poll's connection is TLS (the same framed Thrift inside): a refused
 * handshake (an untrusted or expired certificate, a wrong name, a client certificate namerd does
 * not accept) is a failure like a disconnect, retried on the same schedule and never followed by a
 * plaintext attempt; a binding that never had an answer fails with the handshake's reason. A
 * plaintext interpreter that meets a TLS interface is told so (namerd answers with TLS records).
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
import * as Net from "node:net"
import * as Activity from "../../naming/Activity.js"
import * as Addr from "../../naming/Addr.js"
import * as Dtab from "../../naming/Dtab.js"
import type { BoundTree, NameInterpreter } from "../../naming/Interpreter.js"
import * as Path from "../../naming/Path.js"
import * as Stats from "../../Stats.js"
import type { Options } from "./HttpInterpreter.js"
import * as ThriftTrees from "./ThriftTrees.js"
import * as W from "./ThriftWire.js"
import * as Wire from "./Wire.js"

export type { Options } from "./HttpInterpreter.js"

type Polled = "bind" | "addr"
type Success<M extends Polled> = Extract<W.Reply<M>, { readonly _tag: "Success" }>["value"]

interface Poller<M extends Polled> {
  readonly request: (stamp: Uint8Array) => Parameters<typeof W.encodeCall<M>>[2]
  readonly onAnswer: (value: Success<M>) => void
  /** `fatal`: namerd answered, with a failure or garbage (not merely unreachable). */
  readonly onFailure: (reason: string, fatal: boolean) => void
}

/** A TLS record header (handshake or alert, version 3.x): what a TLS server sends a plaintext client. */
const looksLikeTls = (chunk: Buffer): boolean =>
  chunk.length >= 3 && (chunk[0] === 0x15 || chunk[0] === 0x16) && chunk[1] === 0x03 && chunk[2]! <= 0x04

/** Errors of the network, not of TLS: namerd is down or cannot be reached. */
const unreachable = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EPIPE"])

/**
 * An interpreter that asks namerd over Thrift, living in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<NameInterpreter, never, Scope.Scope> =>
  Effect.gen(function*() {
    const ns = options.namespace ?? "default"
    const base = Duration.toMillis(Duration.fromInputUnsafe(options.retryBase ?? Duration.seconds(5)))
    const max = Math.max(base, Duration.toMillis(Duration.fromInputUnsafe(options.retryMax ?? Duration.seconds(600))))
    const stats = options.stats ?? Stats.noop
    const { failures, link, reconnects } = yield* Wire.connectionStats(stats)
    let next = 0
    const warn = (message: string) => void Effect.runFork(Effect.logWarning(message))

    /** Runs a long poll until stopped; returns the stop function. */
    const poll = <M extends Polled>(method: M, what: string, poller: Poller<M>): () => void => {
      let stopped = false
      let delay = base
      let timer: ReturnType<typeof setTimeout> | undefined
      let socket: Net.Socket | undefined
      let stamp: Uint8Array = new Uint8Array(0)
      let seqid = 0
      const connection = link()
      const later = (f: () => void) => {
        timer = setTimeout(f, delay)
        delay = Math.min(delay * 2, max)
      }
      const connect = () => {
        if (stopped) return
        const addresses = options.addresses()
        if (addresses.length === 0) return broken(undefined, "no address for namerd", false)
        const a = addresses[next % addresses.length]!
        const at = `namerd at ${a.host}:${a.port}`
        const openTls = options.openTls
        const s: Net.Socket = openTls === undefined
          ? Net.connect({ host: a.host, port: a.port, keepAlive: true, keepAliveInitialDelay: 10_000 })
          : openTls(a.host, a.port)
        if (openTls !== undefined) s.setKeepAlive(true, 10_000)
        socket = s
        let handshaken = openTls === undefined
        const reader = new W.FrameReader()
        let done = false
        const fail = (reason: string, fatal: boolean) => {
          if (done) return
          done = true
          next++
          broken(s, `${at} ${reason}`, fatal)
        }
        const send = () => {
          if (stopped || done) return
          seqid = (seqid + 1) & 0x7fffffff
          s.write(W.encodeCall(method, seqid, poller.request(stamp) as never))
        }
        s.on(openTls === undefined ? "connect" : "secureConnect", () => {
          handshaken = true
          connection.set(true)
          send()
        })
        s.on("error", (e: NodeJS.ErrnoException) => {
          const code = e.code ?? ""
          if (openTls === undefined || unreachable.has(code) || (handshaken && !code.startsWith("ERR_SSL"))) {
            return fail(`is unreachable: ${e.message}`, false)
          }
          fail(`refused TLS: ${e.message}${code === "" ? "" : ` (${code})`}`, true)
        })
        s.on("close", () =>
          fail(handshaken ? "closed the connection" : "closed the connection during the TLS handshake", false))
        s.on("data", (chunk: Buffer) => {
          const frames = reader.push(chunk)
          if (Result.isFailure(frames)) {
            return fail(
              looksLikeTls(chunk)
                ? "answered with TLS (set `tls` on the io.l5d.namerd interpreter to match the interface)"
                : `sent bytes that are not a Thrift frame: ${frames.failure}`,
              true
            )
          }
          for (const frame of frames.success) {
            const reply = W.decodeReply(method, seqid, frame)
            if (Result.isFailure(reply)) {
              return fail(`sent an unreadable ${method} reply: ${reply.failure}`, true)
            }
            const r = reply.success
            if (r._tag === "ApplicationException") {
              return fail(`answered ${method} with an application exception: ${r.message}`, true)
            }
            if (r._tag === "Failure") {
              failures.incr()
              const reason = `${at} answered ${method} with a failure: ${(r.value as W.Reason).reason}`
              warn(`${what}: ${reason}; keeping the last answer (if any), polling again in ${delay / 1000} s`)
              poller.onFailure(reason, true)
              later(send)
              continue
            }
            delay = base
            stamp = (r.value as W.Bound | W.Addr).stamp
            poller.onAnswer(r.value as Success<M>)
            send()
          }
        })
      }
      const broken = (s: Net.Socket | undefined, reason: string, fatal: boolean) => {
        s?.destroy()
        if (stopped) {
          return
        }
        failures.incr()
        connection.set(false)
        poller.onFailure(reason, fatal)
        warn(`${what}: ${reason}; keeping the last answer (if any), retrying in ${delay / 1000} s`)
        later(() => {
          reconnects.incr()
          connect()
        })
      }
      connect()
      return () => {
        stopped = true
        if (timer !== undefined) {
          clearTimeout(timer)
        }
        socket?.destroy()
        connection.close()
      }
    }

    const pollStream = <M extends Polled, A>(
      method: M,
      what: string,
      request: (stamp: Uint8Array) => Parameters<typeof W.encodeCall<M>>[2],
      onAnswer: (value: Success<M>) => A | undefined,
      onFailure: (reason: string, fatal: boolean) => A | undefined
    ) =>
      Stream.callback<A>((queue) =>
        Effect.acquireRelease(
          Effect.sync(() =>
            poll(method, what, {
              request,
              onAnswer: (v) => {
                const a = onAnswer(v)
                if (a !== undefined) {
                  Queue.offerUnsafe(queue, a)
                }
              },
              onFailure: (reason, fatal) => {
                const a = onFailure(reason, fatal)
                if (a !== undefined) {
                  Queue.offerUnsafe(queue, a)
                }
              }
            })
          ),
          (stop) =>
            Effect.sync(stop)
        )
      )

    const addrs = yield* RcMap.make({
      lookup: (id: string) =>
        Effect.gen(function*() {
          const ref = yield* SubscriptionRef.make<Addr.Addr>(Addr.pending)
          const path = Path.parseUnsafe(id)
          const what = `namerd addr ${id}`
          const request = (stamp: Uint8Array): W.AddrReq => ({
            name: { stamp, name: ThriftTrees.pathToThrift(path), ns },
            clientId: []
          })
          const onAnswer = (v: W.Addr) => {
            const a = ThriftTrees.addrFromThrift(v.value)
            if (Result.isSuccess(a)) return a.success
            warn(`${what}: ignoring an unreadable address set: ${a.failure}`)
            return undefined
          }
          yield* Effect.forkScoped(
            Stream.runForEach(
              pollStream("addr", what, request, onAnswer, () => undefined),
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

    const bindStates = (dtab: Dtab.Dtab, path: Path.Path): Stream.Stream<Activity.State<BoundTree>> => {
      const what = `namerd bind ${Path.show(path)}`
      const request = (stamp: Uint8Array): W.BindReq => ({
        dtab: Dtab.show(dtab),
        name: { stamp, name: ThriftTrees.pathToThrift(path), ns },
        clientId: []
      })
      const answers = Wire.treeAnswers(what, warn)
      const onAnswer = (v: W.Bound) => answers.take(ThriftTrees.boundTreeFromThrift(v.tree, (id) => addrOf(id)))
      const onFailure = (reason: string, fatal: boolean) =>
        !answers.answered() && fatal ? Activity.failed(reason) : undefined
      return pollStream("bind", what, request, onAnswer, onFailure)
    }

    return Wire.remoteInterpreter(bindStates)
  })
