/**
 * The HTTP client of the HTTP-polling namers (Consul, Marathon): `GET` on one host with a
 * keep-alive agent, optional TLS (linkerd's `tls` block: `disableValidation`, `commonName`,
 * `trustCerts`), a time limit, and a cap on the answer's size. Every non-network outcome is an
 * answer (the caller judges the status); connection failures, time-outs and oversized answers fail.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"

/**
 * linkerd's client `tls` block.
 *
 * @since 0.1.0
 * @category models
 */
export interface Tls {
  /** Accept any server certificate. Defaults to `false`. */
  readonly disableValidation?: boolean | undefined
  /** The name the server certificate must carry (SNI and validation). */
  readonly commonName?: string | undefined
  /** CA certificate files (PEM) to trust instead of the system's. */
  readonly trustCerts?: ReadonlyArray<string> | undefined
}

/**
 * An answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reply {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: string
}

/**
 * A request failed before an answer: connection, time-out or size.
 *
 * @since 0.1.0
 * @category errors
 */
export class HttpGetError
  extends Data.TaggedError("HttpGetError")<{ readonly target: string; readonly detail: string }>
{
  override get message(): string {
    return `GET ${this.target.replace(/\?.*$/, "")}: ${this.detail}`
  }
}

/**
 * A GET function.
 *
 * @since 0.1.0
 * @category models
 */
export type Get = (
  target: string,
  options?: { readonly headers?: Record<string, string> | undefined; readonly timeout?: Duration.Input | undefined }
) => Effect.Effect<Reply, HttpGetError>

/**
 * Builds a client for `host:port`; its agent is closed with the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly host: string
  readonly port: number
  readonly tls?: Tls | undefined
  /** Largest answer accepted. Defaults to 16 MiB. */
  readonly maxBytes?: number | undefined
}): Effect.Effect<Get, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { host, port, tls } = options
    const maxBytes = options.maxBytes ?? 16 * 1024 * 1024
    const agent = tls !== undefined
      ? new https.Agent({
        keepAlive: true,
        rejectUnauthorized: tls.disableValidation !== true,
        ...(tls.commonName !== undefined ? { servername: tls.commonName } : {}),
        ...(tls.trustCerts !== undefined && tls.trustCerts.length > 0
          ? { ca: tls.trustCerts.map((f) => fs.readFileSync(f)) }
          : {})
      })
      : new http.Agent({ keepAlive: true })
    yield* Effect.addFinalizer(() => Effect.sync(() => agent.destroy()))
    const client = tls !== undefined ? https : http
    return (target, o) =>
      Effect.callback<Reply, HttpGetError>((resume) => {
        const fail = (detail: string) => resume(Effect.fail(new HttpGetError({ target, detail })))
        const req = client.request(
          { host, port, path: target, method: "GET", agent, headers: { accept: "application/json", ...o?.headers } },
          (res) => {
            const chunks: Array<Buffer> = []
            let size = 0
            res.on("data", (c: Buffer) => {
              size += c.length
              if (size > maxBytes) {
                req.destroy()
                fail(`answer larger than ${maxBytes} bytes`)
              } else chunks.push(c)
            })
            res.on("end", () =>
              resume(Effect.succeed({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).toString("utf8")
              })))
            res.on("error", (e) => fail(e.message))
          }
        )
        req.on("error", (e) => fail((e as NodeJS.ErrnoException).code ?? e.message))
        req.end()
        return Effect.sync(() => req.destroy())
      }).pipe(
        Effect.timeoutOrElse({
          duration: o?.timeout ?? "30 seconds",
          orElse: () => Effect.fail(new HttpGetError({ target, detail: "timed out" }))
        })
      )
  })
