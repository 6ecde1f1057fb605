/**
 * The Kubernetes API client the `io.l5d.k8s` namers, the Kubernetes transformers' namer and the
 * `io.l5d.ingress` identifier share: plain HTTP (`kubectl proxy`) or HTTPS to `host:port`, an
 * optional bearer token read from a file on every request, `get` for lists (a time limit, error
 * statuses decoded as `v1.Status`) and `lines` for watches (newline-delimited JSON, one string per
 * event), and the decoding of an answer into a `K8sApiError` naming the resource when it is not the
 * expected JSON, and `follow`, one watch session: events applied in order, the resource version
 * kept, an error event a `K8sApiError`, 410 the sign to list again. The list+watch loops themselves
 * live with what they watch.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import { K8sApiError, Status } from "./Api.js"

/**
 * Where the API is and how to talk to it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The API host. Defaults to `localhost` (`kubectl proxy`). */
  readonly host?: string | undefined
  /** The API port. Defaults to `8001`. */
  readonly port?: number | undefined
  /** Whether to use HTTPS. Defaults to `false`. */
  readonly tls?: boolean | undefined
  /** With `tls`, accept any server certificate. Defaults to `false`. */
  readonly tlsWithoutValidation?: boolean | undefined
  /** A file holding a bearer token, read on every request. Defaults to none (no `Authorization`). */
  readonly authTokenFile?: string | undefined
  /** Time limit of a list request. Defaults to 10 seconds. */
  readonly requestTimeout?: Duration.Input | undefined
}

/**
 * A connected client. `resource` in every call names what is asked for, in errors and logs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Client {
  readonly host: string
  readonly port: number
  /** The body of a `GET target` answered 200; any other status is a `K8sApiError` (410 is `gone`). */
  readonly get: (resource: string, target: string) => Effect.Effect<string, K8sApiError>
  /**
   * The lines of a streaming `GET target` (a watch): first an empty line when the answer's headers
   * arrive (the watch is open), then each non-empty line; the stream ends when the server ends the
   * answer and fails when the connection is lost.
   */
  readonly lines: (resource: string, target: string) => Stream.Stream<string, K8sApiError>
}

/**
 * A decoder of API answers: `decodeJson`'s failure becomes a `K8sApiError` of reason `decode`,
 * `cannot decode the <what>: …` (the schema's message on one line).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decoder = <A>(
  decodeJson: (text: string) => Result.Result<A, Schema.SchemaError>,
  what: string
) =>
(resource: string, text: string): Effect.Effect<A, K8sApiError> => {
  const r = decodeJson(text)
  return Result.isSuccess(r) ? Effect.succeed(r.success) : Effect.fail(
    new K8sApiError({
      reason: "decode",
      resource,
      detail: `cannot decode the ${what}: ${r.failure.message.replace(/\s*\n\s*/g, " ")}`
    })
  )
}

/**
 * A client for the API at `options.host:options.port`; its keep-alive agent is closed with the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<Client, never, Scope.Scope> =>
  Effect.gen(function*() {
    const host = options?.host ?? "localhost"
    const port = options?.port ?? 8001
    const requestTimeout = options?.requestTimeout ?? "10 seconds"
    const client = options?.tls === true ? https : http
    const agent = options?.tls === true
      ? new https.Agent({ keepAlive: true, rejectUnauthorized: options.tlsWithoutValidation !== true })
      : new http.Agent({ keepAlive: true })
    yield* Effect.addFinalizer(() => Effect.sync(() => agent.destroy()))

    const headers = (resource: string): Effect.Effect<Record<string, string>, K8sApiError> => {
      const file = options?.authTokenFile
      if (file === undefined) return Effect.succeed({ accept: "application/json" })
      return Effect.tryPromise({
        try: () => fs.promises.readFile(file, "utf8"),
        catch: (e) =>
          new K8sApiError({
            reason: "auth",
            resource,
            detail: `cannot read authTokenFile ${file}: ${(e as NodeJS.ErrnoException).code ?? "error"}`
          })
      }).pipe(Effect.map((token) => ({ accept: "application/json", authorization: `Bearer ${token.trim()}` })))
    }

    const statusError = (resource: string, code: number | undefined, body: string): K8sApiError => {
      const decoded = Schema.decodeUnknownResult(Schema.fromJsonString(Status))(body)
      const message = Result.isSuccess(decoded) && decoded.success.message !== undefined
        ? `: ${decoded.success.message}`
        : ""
      return new K8sApiError({
        reason: code === 410 ? "gone" : "status",
        resource,
        detail: `API answered ${code ?? "?"}${message}`
      })
    }

    const open = (
      h: Record<string, string>,
      resource: string,
      target: string,
      onResponse: (res: http.IncomingMessage) => void,
      onError: (e: K8sApiError) => void
    ): http.ClientRequest => {
      const req = client.request({ host, port, path: target, method: "GET", headers: h, agent }, onResponse)
      req.on("error", (e) => onError(new K8sApiError({ reason: "connection", resource, detail: e.message })))
      req.end()
      return req
    }

    const readBody = (res: http.IncomingMessage, done: (body: string) => void, fail: (e: Error) => void) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (c: string) => (body += c))
      res.on("end", () => done(body))
      res.on("error", fail)
    }

    const timeoutText = Duration.format(Duration.fromInputUnsafe(requestTimeout))
    const get = (resource: string, target: string): Effect.Effect<string, K8sApiError> =>
      Effect.flatMap(headers(resource), (h) =>
        Effect.callback<string, K8sApiError>((resume) => {
          const fail = (e: K8sApiError) => resume(Effect.fail(e))
          const req = open(h, resource, target, (res) =>
            readBody(
              res,
              (body) =>
                res.statusCode === 200
                  ? resume(Effect.succeed(body))
                  : fail(statusError(resource, res.statusCode, body)),
              (e) => fail(new K8sApiError({ reason: "connection", resource, detail: e.message }))
            ), fail)
          return Effect.sync(() => req.destroy())
        })).pipe(
          Effect.timeoutOrElse({
            duration: requestTimeout,
            orElse: () =>
              Effect.fail(new K8sApiError({ reason: "timeout", resource, detail: `no answer within ${timeoutText}` }))
          })
        )

    const lines = (resource: string, target: string): Stream.Stream<string, K8sApiError> =>
      Stream.callback<string, K8sApiError>((queue) =>
        Effect.flatMap(headers(resource), (h) =>
          Effect.acquireRelease(
            Effect.sync(() =>
              open(h, resource, target, (res) => {
                const fail = (e: K8sApiError) => void Queue.failCauseUnsafe(queue, Cause.fail(e))
                if (res.statusCode !== 200) {
                  return readBody(
                    res,
                    (body) => fail(statusError(resource, res.statusCode, body)),
                    () => fail(statusError(resource, res.statusCode, ""))
                  )
                }
                Queue.offerUnsafe(queue, "")
                let buffer = ""
                res.setEncoding("utf8")
                res.on("data", (chunk: string) => {
                  buffer += chunk
                  let nl = buffer.indexOf("\n")
                  while (nl >= 0) {
                    const line = buffer.slice(0, nl).trim()
                    buffer = buffer.slice(nl + 1)
                    if (line !== "") Queue.offerUnsafe(queue, line)
                    nl = buffer.indexOf("\n")
                  }
                })
                let ended = false
                res.on("end", () => {
                  ended = true
                  if (buffer.trim() !== "") Queue.offerUnsafe(queue, buffer.trim())
                  Queue.endUnsafe(queue)
                })
                res.on("close", () => {
                  if (!ended) fail(new K8sApiError({ reason: "connection", resource, detail: "watch connection lost" }))
                })
                res.on("error", (e) => fail(new K8sApiError({ reason: "connection", resource, detail: e.message })))
              }, (e) => void Queue.failCauseUnsafe(queue, Cause.fail(e)))
            ),
            (req) => Effect.sync(() => req.destroy())
          ))
      )

    return { host, port, get, lines }
  })

/**
 * How a watch session ended: its answer ended (watch again from the last version seen) or its
 * version is gone (a 410 error event: list again).
 *
 * @since 0.1.0
 * @category watching
 */
export type Outcome = "ended" | "gone"

/**
 * A decoded watch event: a change to an object, a bookmark, or an error `Status`.
 *
 * @since 0.1.0
 * @category watching
 */
export type Event<O> =
  | { readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"; readonly object: O }
  | { readonly type: "ERROR"; readonly object: typeof Status.Type }

/**
 * Follows one watch session to its end: each line of `lines` decoded (`decode`; an empty line, the
 * watch opening, runs `opened`), `info.events` counted and `info.resourceVersion` kept current,
 * each change passed to `apply` in order (bookmarks only move the version). An error event fails
 * with a `K8sApiError` naming `resource`, except 410 Gone, which ends the session as `"gone"`.
 *
 * @since 0.1.0
 * @category watching
 */
export const follow = <O extends { readonly metadata: { readonly resourceVersion?: string | undefined } }>(options: {
  readonly resource: string
  readonly lines: Stream.Stream<string, K8sApiError>
  readonly decode: (resource: string, line: string) => Effect.Effect<Event<O>, K8sApiError>
  readonly opened: Effect.Effect<void>
  readonly info: { events: number; resourceVersion: string | undefined }
  readonly apply: (type: "ADDED" | "MODIFIED" | "DELETED", object: O) => Effect.Effect<void>
}): Effect.Effect<Outcome, K8sApiError> =>
  Effect.suspend(() => {
    const { info, resource } = options
    let outcome: Outcome = "ended"
    return options.lines.pipe(
      Stream.mapEffect((line) => line === "" ? Effect.as(options.opened, undefined) : options.decode(resource, line)),
      Stream.filter((ev) => ev !== undefined),
      Stream.takeWhile((ev) => {
        if (ev.type === "ERROR" && ev.object.code === 410) outcome = "gone"
        return outcome !== "gone"
      }),
      Stream.runForEach((ev): Effect.Effect<void, K8sApiError> => {
        if (ev.type === "ERROR") {
          return Effect.fail(
            new K8sApiError({
              reason: "status",
              resource,
              detail: `watch error ${ev.object.code ?? "?"}${
                ev.object.message === undefined ? "" : `: ${ev.object.message}`
              }`
            })
          )
        }
        info.events++
        if (ev.object.metadata.resourceVersion !== undefined) info.resourceVersion = ev.object.metadata.resourceVersion
        return ev.type === "BOOKMARK" ? Effect.void : options.apply(ev.type, ev.object)
      }),
      Effect.map(() => outcome)
    )
  })
