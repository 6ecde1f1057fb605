/**
 * `io.l5d.thriftNameInterpreter`: namerd's Thrift `Namer` service (default `127.0.0.1:4100`), the
 * interface linkerd's `io.l5d.namerd` interpreter (and weir's) binds names through.
 *
 * ```yaml
 * interfaces:
 * - kind: io.l5d.thriftNameInterpreter
 *   ip: 127.0.0.1
 *   port: 4100
 *   retryBaseSecs: 600     # sent as a failure's retryInSeconds (deprecated in the IDL)
 *   retryJitterSecs: 60
 *   cache: { bindingCacheActive: 1000, bindingCacheInactive: 100, bindingCacheInactiveTTLSecs: 600,
 *            addrCacheActive: 1000, addrCacheInactive: 100, addrCacheInactiveTTLSecs: 600 }
 *   tls: { certPath: namerd.pem, keyPath: namerd.key, caCertPath: ca.pem, requireClientAuth: true }
 * ```
 *
 * - `bind(BindReq)`: the bound tree of `name` under the namespace's stored dtab followed by the
 *   request's `dtab`; `addr(AddrReq)`: the addresses of a bound id; `dtab(DtabReq)`: the
 *   namespace's dtab text. Each is a long poll (see `ObserverCache.ts`): a request carrying the
 *   stamp of the current value is held until the value changes.
 * - `delegate(DelegateReq)`: the delegation tree of a path leaf, answered once (a request with a
 *   non-empty stamp is held, as linkerd's namerd does for old long-polling clients).
 *
 * Binding and addresses come from the same `Backend` as the HTTP controller. Transport: Thrift's
 * binary protocol in framed transport, several calls in flight per connection (answered by
 * sequence id). ThriftMux is not spoken. With `tls` the same frames travel inside TLS: a client
 * that cannot take part (plaintext, no or an untrusted client certificate under
 * `requireClientAuth`) is logged and its first call answered with an application exception saying
 * why (a plaintext client: the interface needs TLS; no or an untrusted client certificate), then
 * disconnected; no call of such a client is served.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Net from "node:net"
import type * as Tls from "../http/transport/Tls.js"
import * as ThriftTrees from "../namers/namerd/ThriftTrees.js"
import * as W from "../namers/namerd/ThriftWire.js"
import * as Addr from "../naming/Addr.js"
import * as Dtab from "../naming/Dtab.js"
import type { BoundTree } from "../naming/Interpreter.js"
import * as Name from "../naming/Name.js"
import * as NameTree from "../naming/NameTree.js"
import * as Path from "../naming/Path.js"
import * as Stats from "../Stats.js"
import { isValidNamespace } from "./DtabStore.js"
import { addrStates, type Backend, okTrees } from "./HttpController.js"
import * as ObserverCache from "./ObserverCache.js"
import * as ThriftTls from "./ThriftTls.js"

/**
 * Options of `make`: the config's keys, decoded.
 *
 * @since 0.1.0
 * @category model
 */
export interface Options {
  readonly ip: string
  readonly port: number
  /** Sent as `retryInSeconds` of a failure. Defaults to `600`. */
  readonly retryBaseSecs?: number | undefined
  /** Spread around `retryBaseSecs`. Defaults to `60`. */
  readonly retryJitterSecs?: number | undefined
  readonly binding?: ObserverCache.Capacity | undefined
  readonly addr?: ObserverCache.Capacity | undefined
  readonly stats?: Stats.StatsReceiver | undefined
  /** Serve framed Thrift over TLS with these files. Defaults to plaintext. */
  readonly tls?: Tls.ServerTls | undefined
}

/**
 * linkerd's cache capacities: 1000 active, 100 inactive, 10 minutes.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCapacity: ObserverCache.Capacity = {
  activeCapacity: 1000,
  inactiveCapacity: 100,
  inactiveTtlMillis: 600_000
}

interface BindKey {
  readonly ns: string
  readonly dtab: Dtab.Dtab
  readonly path: Path.Path
}

const showTree = (t: BoundTree) =>
  NameTree.showWith(t, (b: Name.Bound) => `${Name.idString(b)}#${Path.show(b.residual)}`)

const showResult = <A>(show: (a: A) => string) => (r: Result.Result<A, string>) =>
  Result.isSuccess(r) ? `ok ${show(r.success)}` : `failed ${r.failure}`

const nsOrDefault = (ns: string) => isValidNamespace(ns) ? ns : "default"

/**
 * The service: each call's answer (exposed for tests; `make` serves it on a socket).
 *
 * @since 0.1.0
 * @category handlers
 */
export const service = (backend: Backend, options?: Omit<Options, "ip" | "port">) => {
  const base = options?.retryBaseSecs ?? 600
  const jitter = options?.retryJitterSecs ?? 60
  const retryIn = () => Math.max(0, Math.round(base + (Math.random() * 2 - 1) * jitter))
  const stats = options?.stats ?? Stats.noop
  const bindings = ObserverCache.make<BindKey, BoundTree>({
    keyOf: (k) => `${k.ns}\n${Dtab.show(k.dtab)}\n${Path.show(k.path)}`,
    values: (k) =>
      backend.bindStates(k.ns, k.dtab, k.path).pipe(
        Stream.filterMap((s): Result.Result<Result.Result<BoundTree, string>, void> =>
          s._tag === "Ok"
            ? Result.succeed(Result.succeed(s.value))
            : s._tag === "Failed"
            ? Result.succeed(Result.fail(s.cause))
            : Result.failVoid
        )
      ),
    show: showResult(showTree),
    capacity: options?.binding ?? defaultCapacity,
    stats: stats.scope("bindingcache")
  })
  const addrs = ObserverCache.make<{ readonly ns: string; readonly id: Path.Path }, Addr.Bound | Addr.Neg>({
    keyOf: (k) => `${k.ns}\n${Path.show(k.id)}`,
    values: (k) =>
      addrStates(okTrees(backend.bindStates(k.ns, Dtab.empty, k.id)), k.id).pipe(
        Stream.filterMap((a): Result.Result<Result.Result<Addr.Bound | Addr.Neg, string>, void> =>
          a._tag === "Failed"
            ? Result.succeed(Result.fail(a.cause))
            : a._tag === "Pending"
            ? Result.failVoid
            : Result.succeed(Result.succeed(a))
        )
      ),
    show: showResult((a: Addr.Addr) => JSON.stringify(Addr.toJson(a))),
    capacity: options?.addr ?? defaultCapacity,
    stats: stats.scope("addrcache")
  })
  const dtabs = ObserverCache.make<string, string>({
    keyOf: (ns) => ns,
    values: (ns) =>
      backend.store.observe(ns).pipe(
        Stream.map((o) =>
          Option.isSome(o)
            ? Result.succeed(Dtab.show(o.value.dtab))
            : Result.fail(`dtab namespace ${ns} does not exist`)
        )
      ),
    show: showResult((s: string) => s),
    capacity: { activeCapacity: 10, inactiveCapacity: 1, inactiveTtlMillis: 600_000 },
    stats: stats.scope("dtabcache")
  })

  type Cancel = (drop: () => void) => void
  const reason = (e: unknown) => e instanceof Error ? e.message : String(e)

  const bind = async (req: W.BindReq, cancel: Cancel): Promise<W.Reply<"bind">> => {
    const ns = req.name.ns
    const failure = (r: string): W.Reply<"bind"> => ({
      _tag: "Failure",
      value: { reason: r, retryInSeconds: retryIn(), name: req.name, ns }
    })
    const path = ThriftTrees.pathFromThrift(req.name.name)
    if (Result.isFailure(path)) return failure(path.failure)
    if (Path.isEmpty(path.success)) return failure("empty path")
    if (!isValidNamespace(ns)) return failure(`invalid namespace ${JSON.stringify(ns)}`)
    const dtab = Dtab.parse(req.dtab)
    if (Result.isFailure(dtab)) return failure(`invalid dtab: ${dtab.failure.message}`)
    try {
      const o = await bindings.poll({ ns, dtab: dtab.success, path: path.success }, req.name.stamp, cancel)
      return Result.isSuccess(o.value)
        ? {
          _tag: "Success",
          value: { stamp: o.stamp, tree: ThriftTrees.boundTreeToThrift(o.value.success), ns }
        }
        : failure(o.value.failure)
    } catch (e) {
      return failure(reason(e))
    }
  }

  const addr = async (req: W.AddrReq, cancel: Cancel): Promise<W.Reply<"addr">> => {
    const failure = (r: string): W.Reply<"addr"> => ({
      _tag: "Failure",
      value: { reason: r, retryInSeconds: retryIn(), name: req.name }
    })
    const id = ThriftTrees.pathFromThrift(req.name.name)
    if (Result.isFailure(id)) return failure(id.failure)
    if (Path.isEmpty(id.success)) return failure("empty path")
    try {
      const o = await addrs.poll({ ns: nsOrDefault(req.name.ns), id: id.success }, req.name.stamp, cancel)
      return Result.isSuccess(o.value)
        ? { _tag: "Success", value: { stamp: o.stamp, value: ThriftTrees.addrToThrift(o.value.success) } }
        : failure(o.value.failure)
    } catch (e) {
      return failure(reason(e))
    }
  }

  const dtab = async (req: W.DtabReq, cancel: Cancel): Promise<W.Reply<"dtab">> => {
    if (!isValidNamespace(req.ns)) {
      return { _tag: "Failure", value: { reason: `invalid namespace ${JSON.stringify(req.ns)}` } }
    }
    try {
      const o = await dtabs.poll(req.ns, req.stamp, cancel)
      return Result.isSuccess(o.value)
        ? { _tag: "Success", value: { stamp: o.stamp, dtab: o.value.success } }
        : { _tag: "Failure", value: { reason: o.value.failure } }
    } catch (e) {
      return { _tag: "Failure", value: { reason: reason(e) } }
    }
  }

  const delegate = async (req: W.DelegateReq, cancel: Cancel): Promise<W.Reply<"delegate">> => {
    const failure = (r: string): W.Reply<"delegate"> => ({ _tag: "Failure", value: { reason: r } })
    if (req.delegation.stamp.length > 0) return new Promise((resolve) => cancel(() => resolve(failure("cancelled"))))
    const ns = req.delegation.ns
    if (!isValidNamespace(ns)) return failure(`invalid namespace ${JSON.stringify(ns)}`)
    const root = req.delegation.tree.root.contents
    if (root._tag !== "pathLeaf") return failure("delegation needs a tree that is one path leaf")
    const path = ThriftTrees.pathFromThrift(root.value)
    if (Result.isFailure(path)) return failure(path.failure)
    const extra = Dtab.parse(req.dtab)
    if (Result.isFailure(extra)) return failure(`invalid dtab: ${extra.failure.message}`)
    const tree = await Effect.runPromise(backend.delegate(ns, extra.success, path.success))
    if (Option.isNone(tree)) return failure(`dtab namespace ${ns} does not exist`)
    return {
      _tag: "Success",
      value: { stamp: new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1]), tree: ThriftTrees.delegateToThrift(tree.value), ns }
    }
  }

  return {
    answer: (call: Exclude<W.Call, { readonly error: string }>, cancel: Cancel): Promise<W.AnyReply> => {
      switch (call.method) {
        case "bind":
          return bind(call.request, cancel)
        case "addr":
          return addr(call.request, cancel)
        case "dtab":
          return dtab(call.request, cancel)
        case "delegate":
          return delegate(call.request, cancel)
      }
    },
    sweep: () => {
      bindings.sweep()
      addrs.sweep()
      dtabs.sweep()
    },
    close: () => {
      bindings.close()
      addrs.close()
      dtabs.close()
    }
  }
}

/**
 * Most calls one connection may have in flight (held polls included).
 *
 * @since 0.1.0
 * @category constants
 */
export const maxInFlight = 1000

const serveConnection = (svc: ReturnType<typeof service>, socket: Net.Socket) => {
  const reader = new W.FrameReader()
  const cancels = new Set<() => void>()
  let inFlight = 0
  socket.setKeepAlive(true, 10_000)
  const warn = (m: string) => void Effect.runFork(Effect.logWarning(`namerd thrift ${socket.remoteAddress}: ${m}`))
  socket.on("close", () => {
    for (const c of [...cancels]) c()
    cancels.clear()
  })
  socket.on("error", () => socket.destroy())
  socket.on("data", (chunk: Buffer) => {
    const frames = reader.push(chunk)
    if (Result.isFailure(frames)) {
      warn(frames.failure)
      return socket.destroy()
    }
    for (const frame of frames.success) {
      const call = W.decodeCall(frame)
      if (Result.isFailure(call)) {
        warn(call.failure)
        return socket.destroy()
      }
      const c = call.success
      if ("error" in c) {
        socket.write(W.encodeApplicationException(c.method, c.seqid, c.code, c.error))
        continue
      }
      if (inFlight >= maxInFlight) {
        socket.write(
          W.encodeApplicationException(
            c.method,
            c.seqid,
            W.ApplicationError.INTERNAL_ERROR,
            `more than ${maxInFlight} calls in flight on one connection`
          )
        )
        continue
      }
      inFlight++
      let drop: (() => void) | undefined
      const cancel = (f: () => void) => {
        drop = f
        cancels.add(f)
      }
      svc.answer(c, cancel).then(
        (reply) => {
          inFlight--
          if (drop !== undefined) cancels.delete(drop)
          if (!socket.destroyed) socket.write(W.encodeReply(c.method, c.seqid, reply as never))
        },
        (e: unknown) => {
          inFlight--
          if (drop !== undefined) cancels.delete(drop)
          const message = e instanceof Error ? e.message : String(e)
          if (!socket.destroyed) {
            socket.write(W.encodeApplicationException(c.method, c.seqid, W.ApplicationError.INTERNAL_ERROR, message))
          }
        }
      )
    }
  })
}

/**
 * Serves the interface on `ip:port` in the current scope; returns the bound port.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  backend: Backend,
  options: Options
): Effect.Effect<{ readonly port: number }, string, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<
      {
        server: Net.Server
        sockets: Set<Net.Socket>
        svc: ReturnType<typeof service>
        timer: ReturnType<typeof setInterval>
      },
      string
    >(
      (resume) => {
        const svc = service(backend, options)
        const sockets = new Set<Net.Socket>()
        const track = (socket: Net.Socket) => {
          sockets.add(socket)
          socket.on("close", () => sockets.delete(socket))
        }
        const accept = (socket: Net.Socket) => {
          track(socket)
          serveConnection(svc, socket)
        }
        const tls = options.tls
        const server = tls === undefined
          ? Net.createServer(accept)
          : Net.createServer(ThriftTls.gate(tls, accept, track))
        const onError = (e: Error) => {
          svc.close()
          resume(Effect.fail(`cannot listen on ${options.ip}:${options.port}: ${e.message}`))
        }
        server.once("error", onError)
        server.listen({ host: options.ip, port: options.port }, () => {
          server.off("error", onError)
          const timer = setInterval(svc.sweep, 10_000)
          timer.unref()
          resume(Effect.succeed({ server, sockets, svc, timer }))
        })
      }
    ),
    ({ server, sockets, svc, timer }) =>
      Effect.callback<void>((resume) => {
        clearInterval(timer)
        svc.close()
        server.close(() => resume(Effect.void))
        sockets.forEach((s) => s.destroy())
      })
  ).pipe(Effect.map(({ server }) => ({ port: (server.address() as Net.AddressInfo).port })))
