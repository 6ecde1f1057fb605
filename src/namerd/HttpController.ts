/**
 * `io.l5d.httpController`: namerd's HTTP API (default `127.0.0.1:4180`), as linkerd's namerd:
 *
 * - `GET /api/1/dtabs`: the namespaces, a JSON array;
 * - `GET|HEAD /api/1/dtabs/<ns>`: the dtab with its version in `ETag` (`Accept: application/dtab`
 *   or `text/plain` for dtab text, JSON dentries otherwise); `POST` creates (`409` if it exists),
 *   `PUT` replaces (with `If-Match: <etag>`: `412` if it changed since), `DELETE` removes; bodies are
 *   dtab text (`application/dtab`, `text/plain`) or JSON dentries (`application/json`); `204` on success;
 * - `GET /api/1/bind/<ns>?path=…[&dtab=…]`: the bound tree of `path` under the namespace's dtab
 *   (plus `dtab`, if given);
 * - `GET /api/1/addr/<ns>?path=<bound id>`: the addresses of a bound id;
 * - `GET /api/1/resolve/<ns>?path=…`: bind, pick one bound id (the heaviest union branch, the first
 *   alternative that binds), and its addresses;
 * - `GET /api/1/delegate/<ns>?path=…`: the delegation tree (the admin delegator's JSON).
 *
 * `?watch=true` on the dtab, list, bind, addr and resolve endpoints streams one JSON document per
 * line, the current one first, then one per change, until the client hangs up.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import type * as Http from "node:http"
import * as Wire from "../namers/namerd/Wire.js"
import type * as Activity from "../naming/Activity.js"
import * as Addr from "../naming/Addr.js"
import type * as Delegation from "../naming/Delegation.js"
import * as Dtab from "../naming/Dtab.js"
import type { BoundTree } from "../naming/Interpreter.js"
import type * as Name from "../naming/Name.js"
import * as NameTree from "../naming/NameTree.js"
import * as Path from "../naming/Path.js"
import { type DtabStore, type DtabStoreError, isValidNamespace } from "./DtabStore.js"

/**
 * What the controller serves: the store and binding under a namespace's dtab.
 *
 * @since 0.1.0
 * @category model
 */
export interface Backend {
  readonly store: DtabStore
  /** The live binding of `path` under the namespace's stored dtab followed by `extra`. */
  readonly bindStates: (ns: string, extra: Dtab.Dtab, path: Path.Path) => Stream.Stream<Activity.State<BoundTree>>
  /** The delegation tree of `path`; `None` when the namespace does not exist. */
  readonly delegate: (
    ns: string,
    extra: Dtab.Dtab,
    path: Path.Path
  ) => Effect.Effect<Option.Option<Delegation.DelegateTree>>
}

/** Largest accepted request body. */
const maxBody = 1 << 20

const firstAddrWait = Duration.seconds(2)

const send = (res: Http.ServerResponse, status: number, body?: string, headers?: Http.OutgoingHttpHeaders) => {
  res.writeHead(status, { ...(body !== undefined ? { "content-type": "text/plain; charset=utf-8" } : {}), ...headers })
  res.end(body)
}

const sendJson = (res: Http.ServerResponse, status: number, value: unknown, headers?: Http.OutgoingHttpHeaders) =>
  send(res, status, JSON.stringify(value) + "\n", { ...headers, "content-type": "application/json" })

const mediaType = (h: string | undefined): string => (h ?? "").split(";")[0]!.trim().toLowerCase()

const wantsText = (accept: string | undefined): boolean => {
  for (const t of (accept ?? "").split(",").map(mediaType)) {
    if (t === "application/dtab" || t === "text/plain") return true
    if (t === "application/json") return false
  }
  return false
}

const readBody = (req: Http.IncomingMessage): Promise<string | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (c: Buffer) => {
      size += c.length
      if (size > maxBody) {
        resolve(undefined)
        req.destroy()
      } else chunks.push(c)
    })
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

const parseBody = (contentType: string, text: string): Result.Result<Dtab.Dtab, string> => {
  if (contentType === "application/json") {
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch (e) {
      return Result.fail(`invalid JSON: ${e instanceof Error ? e.message : String(e)}`)
    }
    return Wire.dtabFromJson(doc)
  }
  return Result.mapError(Dtab.parse(text), (e) => e.message)
}

const statusOf = (e: DtabStoreError): number =>
  e.reason === "NotFound" ? 404 : e.reason === "Exists" ? 409 : e.reason === "VersionMismatch" ? 412 : 503

/**
 * Streams `values` one per line (JSON, or dtab text with `contentType` `application/dtab`) until the
 * client goes away or the stream ends.
 */
const stream = (
  req: Http.IncomingMessage,
  res: Http.ServerResponse,
  values: Stream.Stream<unknown>,
  contentType = "application/json"
) => {
  res.writeHead(200, { "content-type": contentType, "cache-control": "no-cache" })
  res.flushHeaders()
  const render = contentType === "application/json" ? (v: unknown) => JSON.stringify(v) : (v: unknown) => String(v)
  const fiber = Effect.runFork(
    Stream.runForEach(values, (v) => Effect.sync(() => void res.write(render(v) + "\n")))
  )
  fiber.addObserver(() => res.end())
  res.on("close", () => void Effect.runFork(Fiber.interrupt(fiber)))
  req.on("close", () => void Effect.runFork(Fiber.interrupt(fiber)))
}

const first = <A>(values: Stream.Stream<A>): Promise<Option.Option<A>> => Effect.runPromise(Stream.runHead(values))

/** The current (first answered) address of a bound name, `Pending` if none within 2 s. */
const currentAddr = (b: Name.Bound): Effect.Effect<Addr.Addr> =>
  Stream.runHead(Stream.filter(b.addr, (a) => a._tag !== "Pending")).pipe(
    Effect.timeoutOption(firstAddrWait),
    Effect.map((o) => Option.getOrElse(Option.flatten(o), (): Addr.Addr => Addr.pending))
  )

/** The tree with each leaf's current address, as JSON. */
const renderTree = (tree: BoundTree): Effect.Effect<unknown> =>
  Effect.gen(function*() {
    const leaves = NameTree.leaves(tree)
    const addrs = yield* Effect.forEach(leaves, currentAddr, { concurrency: "unbounded" })
    const byLeaf = new Map(leaves.map((l, i) => [l, addrs[i]!] as const))
    return Wire.treeToJson(tree, (b) => byLeaf.get(b) ?? Addr.pending)
  })

/**
 * The bound name `resolve` picks (see `Wire.pick`).
 *
 * @since 0.1.0
 * @category resolve
 */
export const pick = Wire.pick

/**
 * The answered trees of a binding, ending at its first failure.
 *
 * @since 0.1.0
 * @category resolve
 */
export const okTrees = (states: Stream.Stream<Activity.State<BoundTree>>): Stream.Stream<BoundTree> =>
  states.pipe(
    Stream.takeWhile((s) => s._tag !== "Failed"),
    Stream.filterMap((s) => s._tag === "Ok" ? Result.succeed(s.value) : Result.failVoid)
  )

/**
 * The address states one binding of the bound id `path` stands for: a leaf's addresses, `Neg`, an
 * empty set, or `Failed` for a failed tree or one that is not a single bound id.
 *
 * @since 0.1.0
 * @category resolve
 */
export const addrsOfTree = (t: BoundTree, path: Path.Path): Stream.Stream<Addr.Addr> => {
  switch (t._tag) {
    case "Leaf":
      return t.value.addr
    case "Neg":
      return Stream.succeed(Addr.neg)
    case "Empty":
      return Stream.succeed(Addr.bound([]))
    case "Fail":
      return Stream.succeed(Addr.failed("name tree failed"))
    default:
      return Stream.succeed(Addr.failed(`${Path.show(path)} is not a concrete bound id`))
  }
}

/**
 * The address states of a bound id (`tree` is its binding): a leaf's addresses, `Neg`, an empty
 * set, or `Failed` for a tree that is not one bound id; `Pending` and repeats are skipped.
 *
 * @since 0.1.0
 * @category resolve
 */
export const addrStates = (tree: Stream.Stream<BoundTree>, path: Path.Path): Stream.Stream<Addr.Addr> =>
  tree.pipe(
    Stream.switchMap((t) => addrsOfTree(t, path)),
    Stream.filter((a) => a._tag !== "Pending"),
    Stream.changesWith(Addr.equals)
  )

/**
 * Answers one request. Exposed for tests; `Namerd.make` serves it.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handle = async (
  backend: Backend,
  req: Http.IncomingMessage,
  res: Http.ServerResponse
): Promise<void> => {
  const url = new URL(req.url ?? "/", "http://namerd")
  const method = req.method ?? "GET"
  const watch = url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1"
  const segments = url.pathname.split("/").filter((s) => s !== "")
  if (segments[0] !== "api" || segments[1] !== "1" || segments.length < 3 || segments.length > 4) {
    return send(res, 404, "Not Found\n")
  }
  const [, , endpoint, rawNs] = segments
  let ns: string | undefined
  try {
    ns = rawNs === undefined ? undefined : decodeURIComponent(rawNs)
  } catch {
    return send(res, 400, `Invalid namespace: ${rawNs}\n`)
  }
  if (ns !== undefined && !isValidNamespace(ns)) {
    return send(res, 400, `Invalid namespace: ${ns} (1 to 256 letters, digits, '.', '_' or '-')\n`)
  }
  const store = backend.store

  if (endpoint === "dtabs") {
    if (ns === undefined) {
      if (method !== "GET") return send(res, 405, "Method Not Allowed\n", { allow: "GET" })
      if (watch) return stream(req, res, store.watchList)
      const r = await Effect.runPromise(Effect.result(store.list))
      return Result.isSuccess(r) ? sendJson(res, 200, r.success) : send(res, statusOf(r.failure), r.failure.message)
    }
    switch (method) {
      case "GET":
      case "HEAD": {
        const text = wantsText(req.headers.accept)
        if (watch && method === "GET") {
          return stream(
            req,
            res,
            store.observe(ns).pipe(
              Stream.filterMap((o) => Option.isSome(o) ? Result.succeed(o.value) : Result.failVoid),
              Stream.map((v) => text ? Dtab.show(v.dtab) : Wire.dtabToJson(v.dtab))
            ),
            text ? "application/dtab" : "application/json"
          )
        }
        const current = Option.flatten(await first(store.observe(ns)))
        if (Option.isNone(current)) return send(res, 404, `dtab namespace ${ns} does not exist\n`)
        const headers = { etag: Wire.etag(current.value.version) }
        if (method === "HEAD") return send(res, 200, undefined, headers)
        return text
          ? send(res, 200, Dtab.show(current.value.dtab) + "\n", { ...headers, "content-type": "application/dtab" })
          : sendJson(res, 200, Wire.dtabToJson(current.value.dtab), headers)
      }
      case "PUT":
      case "POST": {
        const ct = mediaType(req.headers["content-type"])
        if (ct !== "application/json" && ct !== "application/dtab" && ct !== "text/plain") {
          return send(
            res,
            415,
            `Unsupported content type ${JSON.stringify(ct)} (application/dtab or application/json)\n`
          )
        }
        const body = await readBody(req)
        if (body === undefined) return send(res, 413, `Request body larger than ${maxBody} bytes\n`)
        const dtab = parseBody(ct, body)
        if (Result.isFailure(dtab)) return send(res, 400, `Invalid dtab: ${dtab.failure}\n`)
        const ifMatch = req.headers["if-match"]
        const op = method === "POST"
          ? store.create(ns, dtab.success)
          : ifMatch !== undefined
          ? store.update(ns, dtab.success, Wire.versionFromEtag(ifMatch))
          : store.put(ns, dtab.success)
        const r = await Effect.runPromise(Effect.result(op))
        return Result.isSuccess(r) ? send(res, 204) : send(res, statusOf(r.failure), r.failure.message + "\n")
      }
      case "DELETE": {
        const r = await Effect.runPromise(Effect.result(store.delete(ns)))
        return Result.isSuccess(r) ? send(res, 204) : send(res, statusOf(r.failure), r.failure.message + "\n")
      }
      default:
        return send(res, 405, "Method Not Allowed\n", { allow: "GET, HEAD, POST, PUT, DELETE" })
    }
  }

  if (ns === undefined) return send(res, 404, "Not Found\n")
  if (method !== "GET") return send(res, 405, "Method Not Allowed\n", { allow: "GET" })
  const path = Path.parse(url.searchParams.get("path") ?? "")
  if (Result.isFailure(path)) return send(res, 400, `Invalid path: ${path.failure.message}\n`)
  const extra = Dtab.parse(url.searchParams.get("dtab") ?? "")
  if (Result.isFailure(extra)) return send(res, 400, `Invalid dtab: ${extra.failure.message}\n`)
  const states = backend.bindStates(ns, extra.success, path.success)

  const serve = async (values: Stream.Stream<unknown>) => {
    if (watch) return stream(req, res, values)
    const v = await Effect.runPromise(Stream.runHead(values).pipe(Effect.timeoutOption(Duration.seconds(10))))
    const value = Option.flatten(v)
    if (Option.isSome(value)) return sendJson(res, 200, value.value)
    const failed = await first(Stream.filter(states, (s) => s._tag === "Failed"))
    return send(
      res,
      502,
      Option.isSome(failed) && failed.value._tag === "Failed" ? failed.value.cause + "\n" : "no answer\n"
    )
  }

  switch (endpoint) {
    case "bind":
      return serve(okTrees(states).pipe(Stream.mapEffect(renderTree)))
    case "addr":
      return serve(addrStates(okTrees(states), path.success).pipe(Stream.map(Wire.addrToJson)))
    case "resolve":
      return serve(
        okTrees(states).pipe(
          Stream.switchMap((t) => {
            const b = pick(t)
            return b === undefined ? Stream.succeed(Addr.neg) : b.addr
          }),
          Stream.filter((a) => a._tag !== "Pending"),
          Stream.changesWith(Addr.equals),
          Stream.map(Wire.addrToJson)
        )
      )
    case "delegate": {
      const tree = await Effect.runPromise(backend.delegate(ns, extra.success, path.success))
      return Option.isSome(tree)
        ? sendJson(res, 200, tree.value)
        : send(res, 404, `dtab namespace ${ns} does not exist\n`)
    }
    default:
      return send(res, 404, "Not Found\n")
  }
}

/**
 * The `node:http` request listener of the controller.
 *
 * @since 0.1.0
 * @category handlers
 */
export const listener = (backend: Backend) => (req: Http.IncomingMessage, res: Http.ServerResponse): void => {
  handle(backend, req, res).catch((e: unknown) => {
    if (!res.headersSent) send(res, 500, `${e instanceof Error ? e.message : String(e)}\n`)
    else res.destroy()
  })
}
