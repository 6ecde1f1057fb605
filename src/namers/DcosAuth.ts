/**
 * Authentication to Marathon on DC/OS, as linkerd's marathon namer does it, from the environment:
 *
 * - `DCOS_SERVICE_ACCOUNT_CREDENTIAL`: a service account's JSON credential (`uid`, `private_key`
 *   in PEM, `login_endpoint`). The namer logs in by POSTing `{"uid", "token"}` to the login endpoint,
 *   `token` being a JWT `{"uid", "exp"}` signed RS256 with the private key, and then sends the
 *   token it gets back as `Authorization: token=<token>`; a 401 makes it log in again.
 * - `MARATHON_HTTP_AUTH_CREDENTIAL`: base64 of `user:password`, sent as `Authorization: Basic …`.
 *
 * Credentials and tokens never appear in errors, logs or admin state.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as crypto from "node:crypto"

/**
 * How to authenticate.
 *
 * @since 0.1.0
 * @category models
 */
export type Auth =
  | {
    readonly _tag: "ServiceAccount"
    readonly uid: string
    readonly privateKey: string
    readonly loginEndpoint: string
  }
  | { readonly _tag: "Basic"; readonly credential: string }

/**
 * Reads the credential from environment variables; `undefined` when neither is set.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEnv = (env: Readonly<Record<string, string | undefined>>): Result.Result<Auth | undefined, string> => {
  const account = env["DCOS_SERVICE_ACCOUNT_CREDENTIAL"]
  if (account !== undefined && account !== "") {
    let json: unknown
    try {
      json = JSON.parse(account)
    } catch {
      return Result.fail("DCOS_SERVICE_ACCOUNT_CREDENTIAL is not JSON")
    }
    const o = json as Record<string, unknown>
    if (
      typeof o !== "object" || o === null || typeof o["uid"] !== "string" || typeof o["private_key"] !== "string" ||
      typeof o["login_endpoint"] !== "string"
    ) {
      return Result.fail("DCOS_SERVICE_ACCOUNT_CREDENTIAL needs string uid, private_key and login_endpoint")
    }
    return Result.succeed({
      _tag: "ServiceAccount",
      uid: o["uid"],
      privateKey: o["private_key"],
      loginEndpoint: o["login_endpoint"]
    })
  }
  const basic = env["MARATHON_HTTP_AUTH_CREDENTIAL"]
  if (basic !== undefined && basic !== "") return Result.succeed({ _tag: "Basic", credential: basic })
  return Result.succeed(undefined)
}

const base64url = (b: Buffer | string): string => Buffer.from(b).toString("base64url")

/**
 * The login token of a service account: a JWT `{uid, exp}` signed RS256.
 *
 * @since 0.1.0
 * @category encoding
 */
export const loginToken = (uid: string, privateKey: string, nowSeconds: number): string => {
  const head = base64url(JSON.stringify({ alg: "RS256", typ: "JWT" }))
  const body = base64url(JSON.stringify({ uid, exp: nowSeconds + 300 }))
  const signature = crypto.sign("RSA-SHA256", Buffer.from(`${head}.${body}`), privateKey)
  return `${head}.${body}.${base64url(signature)}`
}

/**
 * An authenticator: the headers to send, and a way to drop a rejected token.
 *
 * @since 0.1.0
 * @category models
 */
export interface Authenticator {
  readonly enabled: boolean
  readonly headers: Effect.Effect<Record<string, string>, string>
  readonly invalidate: Effect.Effect<void>
}

/**
 * Builds an authenticator (none when `auth` is `undefined`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (auth: Auth | undefined): Effect.Effect<Authenticator, never, Scope.Scope> =>
  Effect.sync(() => {
    if (auth === undefined) return { enabled: false, headers: Effect.succeed({}), invalidate: Effect.void }
    if (auth._tag === "Basic") {
      return {
        enabled: true,
        headers: Effect.succeed({ authorization: `Basic ${auth.credential}` }),
        invalidate: Effect.void
      }
    }
    let token: string | undefined
    const login = Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.tryPromise({
        try: async () => {
          const res = await fetch(auth.loginEndpoint, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({
              uid: auth.uid,
              token: loginToken(auth.uid, auth.privateKey, Math.floor(now / 1000))
            })
          })
          if (res.status !== 200) throw new Error(`DC/OS login answered ${res.status}`)
          const json = (await res.json()) as { token?: unknown }
          if (typeof json.token !== "string") throw new Error("DC/OS login answer has no token")
          return json.token
        },
        catch: (e) =>
          `DC/OS login for ${auth.uid} failed: ${
            e instanceof Error && e.message.startsWith("DC/OS") ? e.message : "request failed"
          }`
      }))
    return {
      enabled: true,
      headers: Effect.suspend(() =>
        token !== undefined
          ? Effect.succeed({ authorization: `token=${token}` })
          : Effect.map(login, (t) => {
            token = t
            return { authorization: `token=${t}` }
          })
      ),
      invalidate: Effect.sync(() => void (token = undefined))
    }
  })
