/**
 * The Ingress resources of a namespace (or of all), kept current with one list+watch through the
 * Kubernetes API client (`Client.ts`), for the `io.l5d.ingress` identifier: `route` answers where a
 * request's host and path go (`Ingress.route`), synchronously, from the last good answer.
 *
 * The watch: `GET /apis/networking.k8s.io/v1[/namespaces/<ns>]/ingresses` lists the Ingresses and
 * gives the list's `resourceVersion`; `…?watch=true&resourceVersion=<rv>&allowWatchBookmarks=true`
 * then streams `ADDED`/`MODIFIED`/`DELETED`/`BOOKMARK` events. A watch the server ends is re-opened
 * from the last version; an `ERROR` event with status 410 (Gone) makes it list again. A lost
 * connection, an error status or an answer that does not decode (named in the error, e.g.
 * `ingresses in namespace default: cannot decode the list: …`) is logged and retried with a jittered
 * exponential backoff (10 ms up to 10 s); the last good answer is kept meanwhile. Until the first list
 * succeeds, every request is unidentified with the reason (`pending`, or the failure).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type { K8sApiError } from "./Api.js"
import * as Client from "./Client.js"
import * as Ingress from "./Ingress.js"

/**
 * Options of `make`: where the API is (`Client.Options`), what to watch and how to read it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Client.Options {
  /** The namespace whose Ingresses count. Defaults to all namespaces. */
  readonly namespace?: string | undefined
  /** The controller class this identifier is: Ingresses annotated with another are ignored. Defaults to `linkerd`. */
  readonly ingressClass?: string | undefined
  /** Whether Ingresses' default backends are ignored. Defaults to `false`. */
  readonly ignoreDefaultBackends?: boolean | undefined
  /** First retry delay after an API failure; doubles (jittered) up to `maxBackoff`. Defaults to 10 milliseconds. */
  readonly minBackoff?: Duration.Input | undefined
  /** Largest retry delay. Defaults to 10 seconds. */
  readonly maxBackoff?: Duration.Input | undefined
}

/**
 * The state of the watch, for tests and the admin pages.
 *
 * @since 0.1.0
 * @category models
 */
export interface Status {
  /** `pending` before the first list, `ok`, `stale` (a failure after a good answer), `failed` (never answered). */
  readonly state: "pending" | "ok" | "stale" | "failed"
  /** The last failure, while it lasts. */
  readonly error: string | undefined
  readonly resourceVersion: string | undefined
  /** The Ingresses taken (`<namespace>/<name>`), in matching order. */
  readonly ingresses: ReadonlyArray<string>
  /** Lists and watch events received so far. */
  readonly events: number
  /** When the Ingresses last changed, in milliseconds since the epoch. */
  readonly lastUpdatedAt: number | undefined
}

/**
 * A watched set of Ingresses.
 *
 * @since 0.1.0
 * @category models
 */
export interface IngressCache {
  /**
   * Where a request for `host` (a `Host` value, port allowed) and `url` (its target) goes, or why it
   * goes nowhere: no rule matches, or no list has succeeded yet.
   */
  readonly route: (host: string | undefined, url: string) => Ingress.Destination | string
  readonly status: () => Status
}

type Outcome = Client.Outcome

const decodeList = Client.decoder(Schema.decodeUnknownResult(Schema.fromJsonString(Ingress.IngressList)), "list")
const decodeEvent = Client.decoder(
  Schema.decodeUnknownResult(Schema.fromJsonString(Ingress.IngressEvent)),
  "watch event"
)

/**
 * Starts watching the Ingresses in the current scope (the watch ends with it).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<IngressCache, never, Scope.Scope> =>
  Effect.gen(function*() {
    const api = yield* Client.make(options)
    const ingressClass = options?.ingressClass ?? "linkerd"
    const ignoreDefaults = options?.ignoreDefaultBackends === true
    const minBackoff = Duration.toMillis(options?.minBackoff ?? "10 millis")
    const maxBackoff = Duration.toMillis(options?.maxBackoff ?? "10 seconds")
    const namespace = options?.namespace
    const resource = namespace === undefined ? "ingresses in all namespaces" : `ingresses in namespace ${namespace}`
    const base = `/apis/networking.k8s.io/v1${
      namespace === undefined ? "" : `/namespaces/${encodeURIComponent(namespace)}`
    }/ingresses`

    // by `<namespace>/<name>`, in matching order: the list's order, a changed Ingress moving to the end
    let specs = new Map<string, Ingress.Spec>()
    let state: Status["state"] = "pending"
    let error: string | undefined
    const info = {
      resourceVersion: undefined as string | undefined,
      events: 0,
      lastUpdatedAt: undefined as number | undefined
    }

    // the API answers again (a list, or a watch opened): no longer stale
    const healthy = Effect.sync(() => {
      state = "ok"
      error = undefined
    })
    const touched = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      info.lastUpdatedAt = now
      return healthy
    })
    const apply = (type: "ADDED" | "MODIFIED" | "DELETED", object: Ingress.Ingress) => {
      const key = Ingress.keyOf(object)
      specs.delete(key)
      if (type === "DELETED") return
      const spec = Ingress.specOf(object, ingressClass, ignoreDefaults)
      if (spec !== undefined) specs.set(key, spec)
    }

    const session = (rv: string | undefined): Effect.Effect<Outcome, K8sApiError> =>
      Effect.gen(function*() {
        if (rv === undefined) {
          const list = yield* decodeList(resource, yield* api.get(resource, base))
          const next = new Map<string, Ingress.Spec>()
          for (const item of list.items ?? []) {
            const spec = Ingress.specOf(item, ingressClass, ignoreDefaults)
            if (spec !== undefined) next.set(spec.key, spec)
          }
          specs = next
          info.events++
          info.resourceVersion = list.metadata.resourceVersion
          yield* touched
        }
        return yield* Client.follow({
          resource,
          lines: api.lines(
            resource,
            `${base}?watch=true&resourceVersion=${
              encodeURIComponent(info.resourceVersion ?? "0")
            }&allowWatchBookmarks=true`
          ),
          decode: decodeEvent,
          opened: healthy,
          info,
          apply: (type, object) => {
            apply(type, object)
            return touched
          }
        })
      })

    const run: Effect.Effect<never> = Effect.gen(function*() {
      let rv: string | undefined = undefined
      let delay = minBackoff
      for (;;) {
        const eventsBefore = info.events
        const exit: Result.Result<Outcome, K8sApiError> = yield* Effect.result(session(rv))
        if (Result.isSuccess(exit)) {
          rv = exit.success === "gone" ? undefined : info.resourceVersion
          if (info.events > eventsBefore) {
            delay = minBackoff
            continue
          }
        } else {
          const e = exit.failure
          rv = e.reason === "gone" || e.reason === "decode" || e.reason === "status" ? undefined : info.resourceVersion
          state = state === "ok" || state === "stale" ? "stale" : "failed"
          error = e.message
          yield* Effect.logWarning(
            `io.l5d.ingress: ${e.message}${state === "stale" ? "; keeping the last answer" : ""}`
          )
        }
        const jitter = yield* Random.nextBetween(0.5, 1)
        yield* Effect.sleep(Duration.millis(Math.round(delay * jitter)))
        delay = Math.min(delay * 2, maxBackoff)
      }
    })
    yield* Effect.forkScoped(run)

    const route = (host: string | undefined, url: string): Ingress.Destination | string => {
      if (state === "pending") return `${resource}: not listed yet`
      if (state === "failed") return error ?? `${resource}: not listed`
      return Ingress.route(specs.values(), Ingress.hostOf(host), Ingress.pathOf(url)) ?? "no ingress rule matches"
    }
    const status = (): Status => ({
      state,
      error,
      resourceVersion: info.resourceVersion,
      ingresses: Array.from(specs.keys()),
      events: info.events,
      lastUpdatedAt: info.lastUpdatedAt
    })
    return { route, status }
  })
