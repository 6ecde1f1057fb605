/**
 * `io.l5d.mesh`: namerd's gRPC mesh API (default `127.0.0.1:4321`) over HTTP/2 (`node:http2`, h2c,
 * or h2 over TLS with `tls`), the services of linkerd's `io.linkerd.mesh` package:
 *
 * - `Interpreter`: `GetBoundTree` / `StreamBoundTree` (`BindReq {root, name, dtab}`): `name` bound
 *   under the stored dtab of the namespace `root` names (`/default`), followed by `dtab`;
 * - `Resolver`: `GetReplicas` / `StreamReplicas` (`ReplicasReq {id}`): the endpoints of a bound id;
 * - `Delegator`: `GetDtab` / `StreamDtab` (`DtabReq {root}`): the namespace's dtab and version;
 *   `GetDelegateTree` / `StreamDelegateTree` (`DelegateTreeReq`): the delegation of one path.
 *
 * The `Stream…` calls push one message now and one per change, until the client cancels
 * (`StreamDelegateTree` answers once, as linkerd's); they are
 * fed by the same store watches and namers as `io.l5d.httpController`. Errors are gRPC statuses:
 * `INVALID_ARGUMENT` for a missing or malformed request (a root must be one valid namespace),
 * `NOT_FOUND` for a namespace that does not exist (dtab and delegate calls), `UNIMPLEMENTED` for an
 * unknown method, `UNAVAILABLE` when a unary call has no answer within 10 s.
 *
 * ```yaml
 * interfaces:
 * - kind: io.l5d.mesh
 *   ip: 0.0.0.0
 *   port: 4321
 *   tls: { certPath: namerd.pem, keyPath: namerd.key }
 * ```
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Dns from "node:dns"
import * as Http2 from "node:http2"
import type { AddressInfo } from "node:net"
import * as Net from "node:net"
import * as Address from "../Address.js"
import { encodeMessage, Status } from "../http/h2/Grpc.js"
import type * as Tls from "../http/transport/Tls.js"
import * as Codec from "../namers/namerd/MeshCodec.js"
import * as Replicas from "../namers/namerd/MeshReplicas.js"
import * as Pb from "../namers/namerd/Protobuf.js"
import type * as Activity from "../naming/Activity.js"
import * as Addr from "../naming/Addr.js"
import * as Dtab from "../naming/Dtab.js"
import type { BoundTree, NameInterpreter } from "../naming/Interpreter.js"
import type * as Name from "../naming/Name.js"
import * as NameTree from "../naming/NameTree.js"
import type * as Path from "../naming/Path.js"
import { isValidNamespace } from "./DtabStore.js"
import * as HttpController from "./HttpController.js"
import type { Backend } from "./HttpController.js"

/**
 * Options of `serve`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly ip: string
  readonly port: number
  readonly backend: Backend
  /** Binds the ids `Resolver` is asked about (namerd's namers and the `/$` system namers). */
  readonly interpreter: NameInterpreter
  /** Serve h2 over TLS instead of h2c. */
  readonly tls?: Tls.ServerTls | undefined
}

class CallError {
  constructor(readonly status: number, readonly message: string) {}
}

const unaryWait = Duration.seconds(10)

const namespaceOf = (root: Path.Path | undefined): string => {
  if (root === undefined) throw new CallError(Status.INVALID_ARGUMENT, "No namespace specified")
  const [ns, ...rest] = root.labels
  if (ns === undefined || rest.length > 0 || !isValidNamespace(ns)) {
    throw new CallError(Status.INVALID_ARGUMENT, `Invalid root: the root must be one namespace, like /default`)
  }
  return ns
}

const decoded = <A>(r: Result.Result<A, string>): A => {
  if (Result.isFailure(r)) throw new CallError(Status.INVALID_ARGUMENT, `Invalid request: ${r.failure}`)
  return r.success
}

const leafOf = (b: Name.Bound): Codec.BoundLeaf | undefined =>
  typeof b.id === "string" ? undefined : { id: b.id, residual: b.residual }

/** A weir bound tree as the mesh carries it (a leaf whose id is not a path is `Neg`, as in linkerd). */
const meshTree = (tree: BoundTree): NameTree.NameTree<Codec.BoundLeaf> => {
  switch (tree._tag) {
    case "Leaf": {
      const l = leafOf(tree.value)
      return l === undefined ? NameTree.neg : NameTree.leaf(l)
    }
    case "Alt":
      return NameTree.alt(...tree.trees.map(meshTree))
    case "Union":
      return NameTree.union(...tree.trees.map((w) => NameTree.weighted(meshTree(w.tree), w.weight)))
    default:
      return tree
  }
}

/** Host names resolved to IP addresses (the mesh API carries address bytes); unresolvable ones dropped. */
const resolveHosts = (addr: Addr.Addr): Effect.Effect<Addr.Addr> =>
  addr._tag !== "Bound" || addr.addresses.every((a) => Net.isIP(a.host) !== 0)
    ? Effect.succeed(addr)
    : Effect.map(
      Effect.forEach(addr.addresses, (a) =>
        Net.isIP(a.host) !== 0
          ? Effect.succeed([a])
          : Effect.promise(() =>
            Dns.promises.lookup(a.host).then(
              (r) => [Address.make(r.address, a.port, { weight: a.weight, meta: a.meta })],
              () => []
            )
          )),
      (xs) => Addr.bound(xs.flat(), addr.meta)
    )

/** The address states of a concrete id, bound by namerd's namers. */
const replicas = (interpreter: NameInterpreter, id: Path.Path): Stream.Stream<Addr.Addr> =>
  interpreter.bindStates(Dtab.empty, id).pipe(
    Stream.switchMap((s: Activity.State<BoundTree>): Stream.Stream<Addr.Addr> => {
      if (s._tag === "Pending") return Stream.succeed(Addr.pending)
      if (s._tag === "Failed") return Stream.succeed(Addr.failed(s.cause))
      return HttpController.addrsOfTree(s.value, id)
    }),
    Stream.changesWith(Addr.equals),
    Stream.mapEffect(resolveHosts)
  )

/** The messages a method answers with, or an error status before the first one. */
const dispatch = (
  options: Options,
  method: string,
  body: Uint8Array
): { readonly unary: boolean; readonly messages: Stream.Stream<Uint8Array, CallError> } => {
  const [service, name] = method.split("/").filter((s) => s !== "")
  const unary = name?.startsWith("Get") === true
  const call = (f: () => Stream.Stream<Uint8Array, CallError>) => ({
    unary,
    messages: Stream.suspend(() => {
      try {
        return f()
      } catch (e) {
        return Stream.fail(e instanceof CallError ? e : new CallError(Status.INTERNAL, String(e)))
      }
    })
  })
  const rpc = `${service}/${name?.replace(/^(Get|Stream)/, "")}`
  switch (rpc) {
    case "io.linkerd.mesh.Interpreter/BoundTree":
      return call(() => {
        const req = decoded(Codec.decodeBindReq(body))
        const ns = namespaceOf(req.root)
        if (req.name === undefined || req.name.labels.length === 0) {
          throw new CallError(Status.INVALID_ARGUMENT, "No name given")
        }
        return options.backend.bindStates(ns, req.dtab, req.name).pipe(
          Stream.filter((s) => s._tag !== "Pending"),
          Stream.mapEffect((s) =>
            s._tag === "Ok"
              ? Effect.succeed(Codec.encodeBoundTree(meshTree(s.value)))
              : Effect.fail(new CallError(Status.UNKNOWN, s._tag === "Failed" ? s.cause : "pending"))
          )
        )
      })
    case "io.linkerd.mesh.Resolver/Replicas":
      return call(() => {
        const id = decoded(Codec.decodePathReq(body))
        if (id === undefined || id.labels.length === 0) {
          return Stream.succeed(Replicas.encodeReplicas(Addr.failed("No ID provided")))
        }
        const states = replicas(options.interpreter, id)
        return (unary ? Stream.filter(states, (a) => a._tag !== "Pending") : states).pipe(
          Stream.map(Replicas.encodeReplicas)
        )
      })
    case "io.linkerd.mesh.Delegator/Dtab":
      return call(() => {
        const ns = namespaceOf(decoded(Codec.decodePathReq(body)))
        return options.backend.store.observe(ns).pipe(
          Stream.mapEffect((o) =>
            Option.isSome(o)
              ? Effect.succeed(Codec.encodeDtabRsp(o.value.dtab, o.value.version))
              : Effect.fail(new CallError(Status.NOT_FOUND, `dtab namespace ${ns} does not exist`))
          )
        )
      })
    case "io.linkerd.mesh.Delegator/DelegateTree":
      return call(() => {
        const req = decoded(Codec.decodeBindReq(body, { tree: true }))
        const ns = namespaceOf(req.root)
        if (req.name === undefined) throw new CallError(Status.INVALID_ARGUMENT, "No name given")
        const path = req.name
        return Stream.fromEffect(options.backend.delegate(ns, req.dtab, path)).pipe(
          Stream.mapEffect((o) =>
            Option.isSome(o)
              ? Effect.succeed(Codec.encodeDelegateTree(o.value))
              : Effect.fail(new CallError(Status.NOT_FOUND, `dtab namespace ${ns} does not exist`))
          )
        )
      })
    default:
      return call(() => Stream.fail(new CallError(Status.UNIMPLEMENTED, `unknown method ${method}`)))
  }
}

const trailersOnly = (stream: Http2.ServerHttp2Stream, status: number, message: string) => {
  if (stream.destroyed || stream.headersSent) return
  stream.on("data", () => {})
  stream.respond({
    ":status": 200,
    "content-type": "application/grpc",
    "grpc-status": String(status),
    "grpc-message": encodeMessage(message)
  }, { endStream: true })
}

/** Answers one call: reads the request message, then writes the answers and the status. */
const answer = (options: Options, stream: Http2.ServerHttp2Stream, headers: Http2.IncomingHttpHeaders) => {
  const method = String(headers[":path"] ?? "")
  if (headers[":method"] !== "POST" || !/^application\/grpc(?:[+;]|$)/.test(String(headers["content-type"] ?? ""))) {
    stream.respond({ ":status": 415 }, { endStream: true })
    return
  }
  const deframer = new Pb.Deframer()
  const received: Array<Uint8Array> = []
  stream.on("data", (chunk: Buffer) => {
    try {
      received.push(...deframer.push(chunk))
      if (received.length > 1) trailersOnly(stream, Status.INVALID_ARGUMENT, "expected exactly one request message")
    } catch (e) {
      trailersOnly(stream, Status.RESOURCE_EXHAUSTED, e instanceof Error ? e.message : String(e))
    }
  })
  stream.on("error", () => {})
  stream.on("end", () => {
    if (stream.destroyed || stream.headersSent) return
    if (received.length !== 1 || deframer.pending > 0) {
      return trailersOnly(stream, Status.INVALID_ARGUMENT, "expected exactly one request message")
    }
    const { messages, unary } = dispatch(options, method, received[0]!)
    const source = unary
      ? Stream.take(messages, 1).pipe(
        Stream.timeoutOrElse({
          duration: unaryWait,
          orElse: () => Stream.fail(new CallError(Status.UNAVAILABLE, "no answer within 10 seconds"))
        })
      )
      : messages
    let started = false
    const fiber = Effect.runFork(
      Stream.runForEach(source, (m) =>
        Effect.sync(() => {
          if (stream.destroyed) return
          if (!started) {
            started = true
            stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true })
          }
          stream.write(Pb.frame(m))
        }))
    )
    fiber.addObserver((exit) => {
      if (stream.destroyed) return
      let status: number = Status.OK
      let message = ""
      if (exit._tag === "Failure") {
        const err = Cause.findErrorOption(exit.cause)
        if (Option.isSome(err)) {
          status = err.value.status
          message = err.value.message
        } else {
          status = Status.CANCELLED
          message = "the call was cancelled"
        }
      }
      if (!started) return trailersOnly(stream, status, message)
      stream.once("wantTrailers", () => {
        stream.sendTrailers({
          "grpc-status": String(status),
          ...(message === "" ? {} : { "grpc-message": encodeMessage(message) })
        })
      })
      stream.end()
    })
    stream.once("close", () => void Effect.runFork(Fiber.interrupt(fiber)))
  })
}

/**
 * Serves the mesh API on `ip:port` in the current scope; returns the bound address.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (options: Options): Effect.Effect<AddressInfo, string, Scope.Scope> =>
  Effect.gen(function*() {
    const sessions = new Set<Http2.ServerHttp2Session>()
    const server = yield* Effect.acquireRelease(
      Effect.callback<Http2.Http2Server, string>((resume) => {
        const server: Http2.Http2Server = options.tls === undefined
          ? Http2.createServer()
          : Http2.createSecureServer({ ...options.tls.options })
        server.on("stream", (stream, headers) => answer(options, stream, headers))
        server.on("session", (s: Http2.ServerHttp2Session) => {
          sessions.add(s)
          s.on("close", () => sessions.delete(s))
          s.on("error", () => {})
        })
        const onError = (e: Error) =>
          resume(Effect.fail(`cannot listen on ${options.ip}:${options.port}: ${e.message}`))
        server.once("error", onError)
        server.listen({ host: options.ip, port: options.port }, () => {
          server.off("error", onError)
          resume(Effect.succeed(server))
        })
      }),
      (server) =>
        Effect.callback<void>((resume) => {
          server.close(() => resume(Effect.void))
          for (const s of sessions) s.destroy()
        })
    )
    return server.address() as AddressInfo
  })
