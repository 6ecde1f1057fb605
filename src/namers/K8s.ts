/**
 * The Kubernetes namers `io.l5d.k8s` and `io.l5d.experimental.k8s`: service discovery from the
 * Endpoints objects of the Kubernetes API. `/#/io.l5d.k8s/<namespace>/<port>/<service>[/residual]`
 * answers the ready addresses of the service's Endpoints, each with the port named `<port>` (a
 * numeric `<port>` selects the endpoint port with that number). With `labelSelector: <key>` one
 * more label follows the service — `/<namespace>/<port>/<service>/<value>` — and only an Endpoints
 * object labelled `<key>=<value>` counts. The namespace, port and service labels are lowercased.
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.k8s            # talks plain HTTP to `kubectl proxy`
 *   host: localhost             # default
 *   port: 8001                  # default
 * - kind: io.l5d.experimental.k8s   # linkerd 0.x's: the API server itself, with a bearer token
 *   host: kubernetes.default.svc.cluster.local
 *   port: 443
 *   authTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
 * ```
 *
 * Answers: a service without an Endpoints object, or whose Endpoints have no subset with that port
 * (Kubernetes drops subsets without ready or not-ready addresses), is `Neg`, so dtab fallback (`|`)
 * works; otherwise the name is bound, and its addresses follow the Endpoints object live
 * (not-ready addresses are excluded; each address carries `nodeName` metadata when known). A
 * service created later turns a `Neg` into a bound name without a restart.
 *
 * How it watches: one list+watch per service (shared by all ports and subscribers of that service,
 * released an idle time-to-live after the last one leaves): `GET
 * /api/v1/namespaces/<ns>/endpoints?fieldSelector=metadata.name=<service>` gives the object (0 or 1
 * items) and the list's `resourceVersion`; then `…&watch=true&resourceVersion=<rv>&allowWatchBookmarks=true`
 * streams `ADDED`/`MODIFIED`/`DELETED`/`BOOKMARK` events, each advancing the resource version. When
 * the server ends the watch, it is re-opened from the last resource version; an `ERROR` event with
 * status 410 (Gone: the version is too old) makes it list again. A lost connection, an error
 * status or an answer that does not decode (bad JSON, wrong shape — reported with the resource's
 * name) is logged, counted (`namer/<label>/failures`) and retried with a jittered exponential
 * backoff from 10 ms up to 10 s; subscribers keep the last good answer meanwhile (stale while
 * error). A service whose list never succeeded fails its lookup (the interpreter shows `Failed`).
 *
 * With `authTokenFile`, the file is read on every request (tokens rotate) and sent as
 * `Authorization: Bearer …`; the token never appears in logs or errors.
 *
 * For the admin server, `enumerate` lists `/<namespace>/<port>/<service>` for each named port of
 * each watched object (`/bound-names.json`) and `state` shows the watches (`/namer_state/<prefix>.json`).
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as RcMap from "effect/RcMap"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type * as Address from "../Address.js"
import * as Addr from "../naming/Addr.js"
import * as Name from "../naming/Name.js"
import * as Namer from "../naming/Namer.js"
import * as NameTree from "../naming/NameTree.js"
import * as Path from "../naming/Path.js"
import * as Stats from "../Stats.js"
import type { K8sApiError } from "./k8s/Api.js"
import { addressesFor, type Endpoints, EndpointsList, type Status, WatchEvent } from "./k8s/Api.js"
import * as Client from "./k8s/Client.js"

/**
 * The namer kind, also its default mount prefix (`/#/io.l5d.k8s`).
 *
 * @since 0.1.0
 * @category constants
 */
export const kind = "io.l5d.k8s"

// ---------------------------------------------------------------------------------------------
// namer
// ---------------------------------------------------------------------------------------------

/**
 * Options of `make`: where the API is (`Client.Options`: host, port, TLS, token, list time limit)
 * and how the namer watches.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Client.Options {
  /** A label key: names then carry a 4th label, its value, and only objects with that label count. Defaults to none. */
  readonly labelSelector?: string | undefined
  /** How long a service's watch stays open after its last subscriber. Defaults to 10 seconds. */
  readonly idleTimeToLive?: Duration.Input | undefined
  /** First retry delay after an API failure; doubles (jittered) up to `maxBackoff`. Defaults to 10 milliseconds. */
  readonly minBackoff?: Duration.Input | undefined
  /** Largest retry delay. Defaults to 10 seconds. */
  readonly maxBackoff?: Duration.Input | undefined
  /** Label for logs and metrics. Defaults to `#/io.l5d.k8s`. */
  readonly label?: string | undefined
}

/**
 * The state of one watched Endpoints object, as shown by `status`.
 *
 * @since 0.1.0
 * @category models
 */
export interface WatchStatus {
  /** `endpoints <namespace>/<service>` (plus the label selector, if any). */
  readonly resource: string
  /** `pending` before the first list, `ok`, `stale` (a failure after a good answer), `failed` (never answered). */
  readonly state: "pending" | "ok" | "stale" | "failed"
  /** The last resource version seen. */
  readonly resourceVersion: string | undefined
  /** The last failure, while it lasts. */
  readonly error: string | undefined
  /** Lists and watch requests made so far. */
  readonly lists: number
  readonly watches: number
  /** Lists and watch events received so far (bookmarks included). */
  readonly events: number
  /** When the object last changed (a list or a non-bookmark event), as an ISO 8601 instant. */
  readonly lastUpdatedAt: string | undefined
  /** The named TCP ports the object currently has. */
  readonly ports: ReadonlyArray<string>
  /** How many ready addresses the object currently has (all ports). */
  readonly addresses: number
}

/**
 * A Kubernetes namer: a namer plus the state of its watches.
 *
 * @since 0.1.0
 * @category models
 */
export interface K8sNamer extends Namer.Namer {
  /** The open watches and their state. */
  readonly status: Effect.Effect<ReadonlyArray<WatchStatus>>
  /** `/#/<prefix>/<namespace>/<port>/<service>[/<label value>]` (relative) for each named port of each watched object. */
  readonly enumerate: Effect.Effect<ReadonlyArray<Path.Path>>
  /** The namer's settings (no credentials) and its watches, for `/namer_state/<prefix>.json`. */
  readonly state: Effect.Effect<K8sState>
}

/**
 * What `/namer_state/<prefix>.json` shows for a Kubernetes namer. The bearer token never appears.
 *
 * @since 0.1.0
 * @category models
 */
export interface K8sState {
  readonly kind: string
  readonly host: string
  readonly port: number
  readonly tls: boolean
  readonly labelSelector: string | undefined
  /** By `<namespace>/<service>[/<label value>]`. */
  readonly watches: Readonly<Record<string, WatchStatus>>
}

type State<O> =
  | { readonly _tag: "Pending" }
  | { readonly _tag: "Ok"; readonly object: O | undefined; readonly stale: string | undefined }
  | { readonly _tag: "Failed"; readonly reason: string }

interface Watch<O> {
  readonly resource: string
  readonly ref: SubscriptionRef.SubscriptionRef<State<O>>
  readonly info: {
    resourceVersion: string | undefined
    lists: number
    watches: number
    events: number
    lastUpdatedAt: number | undefined
  }
}

interface Target {
  readonly namespace: string
  readonly service: string
  readonly labelValue: string | undefined
}

const targetKey = (t: Target): string => JSON.stringify([t.namespace, t.service, t.labelValue ?? null])

const targetOf = (key: string): Target => {
  const [namespace, service, labelValue] = JSON.parse(key) as [string, string, string | null]
  return { namespace, service, labelValue: labelValue ?? undefined }
}

type Outcome = Client.Outcome

/**
 * A kind of Kubernetes object a namer watches, one per service: its API resource (`endpoints`,
 * `services`), how its lists and watch events decode, and what a port name means on it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resource<O extends { readonly metadata: { readonly resourceVersion?: string | undefined } }> {
  /** The namer kind (for its state). */
  readonly kind: string
  /** The resource in API paths (`/api/v1/namespaces/<ns>/<plural>`). */
  readonly plural: string
  readonly decodeList: (
    text: string
  ) => Result.Result<
    { readonly metadata: { readonly resourceVersion: string }; readonly items: ReadonlyArray<O> | null },
    Schema.SchemaError
  >
  readonly decodeEvent: (
    text: string
  ) => Result.Result<
    | { readonly type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK"; readonly object: O }
    | { readonly type: "ERROR"; readonly object: typeof Status.Type },
    Schema.SchemaError
  >
  /** The addresses for a port (name or number); `undefined` when the object or port is absent (`Neg`). */
  readonly addresses: (object: O | undefined, port: string) => ReadonlyArray<Address.Address> | undefined
  /** The named ports of the object (lowercased, sorted). */
  readonly ports: (object: O | undefined) => Array<string>
  /** How many addresses the object has (all ports). */
  readonly count: (object: O | undefined) => number
}

/**
 * The `Endpoints` objects of a service: ready addresses by endpoint port.
 *
 * @since 0.1.0
 * @category resources
 */
export const endpointsResource: Resource<Endpoints> = {
  kind,
  plural: "endpoints",
  decodeList: Schema.decodeUnknownResult(Schema.fromJsonString(EndpointsList)),
  decodeEvent: Schema.decodeUnknownResult(Schema.fromJsonString(WatchEvent)),
  addresses: addressesFor,
  ports: (endpoints) => namedPorts(endpoints),
  count: (endpoints) => (endpoints?.subsets ?? []).reduce((n, sub) => n + (sub.addresses ?? []).length, 0)
}

/**
 * Builds the namer. Nothing is contacted until a name is looked up; watches live in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<K8sNamer, never, Scope.Scope> =>
  makeWith(endpointsResource, options)

/**
 * A namer watching `resource` objects, one per `<namespace>/<service>` (see `make`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeWith = <O extends { readonly metadata: { readonly resourceVersion?: string | undefined } }>(
  resource0: Resource<O>,
  options?: Options
): Effect.Effect<K8sNamer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const label = options?.label ?? `#/${resource0.kind}`
    const stats = (yield* Effect.service(Stats.Receiver)).scope("namer", label)
    const failures = stats.counter("failures")
    const minBackoff = Duration.toMillis(options?.minBackoff ?? "10 millis")
    const maxBackoff = Duration.toMillis(options?.maxBackoff ?? "10 seconds")
    const api = yield* Client.make(options)
    const { get, lines } = api
    const decodeList = Client.decoder(resource0.decodeList, "list")
    const decodeEvent = Client.decoder(resource0.decodeEvent, "watch event")

    const run = (target: Target, watch: Watch<O>) =>
      Effect.gen(function*() {
        const { info, ref, resource } = watch
        const base = `/api/v1/namespaces/${encodeURIComponent(target.namespace)}/${resource0.plural}?fieldSelector=${
          encodeURIComponent(`metadata.name=${target.service}`)
        }${
          options?.labelSelector === undefined || target.labelValue === undefined
            ? ""
            : `&labelSelector=${encodeURIComponent(`${options.labelSelector}=${target.labelValue}`)}`
        }`
        const good = (object: O | undefined) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            info.lastUpdatedAt = now
            return SubscriptionRef.set(ref, { _tag: "Ok", object, stale: undefined })
          })
        const connected = Effect.suspend(() => {
          const s = SubscriptionRef.getUnsafe(ref)
          return s._tag === "Ok" && s.stale !== undefined
            ? SubscriptionRef.set(ref, { _tag: "Ok", object: s.object, stale: undefined })
            : Effect.void
        })
        const session = (rv: string | undefined): Effect.Effect<Outcome, K8sApiError> =>
          Effect.gen(function*() {
            if (rv === undefined) {
              info.lists++
              const list = yield* decodeList(resource, yield* get(resource, base))
              info.events++
              info.resourceVersion = list.metadata.resourceVersion
              yield* good((list.items ?? [])[0])
            }
            info.watches++
            return yield* Client.follow({
              resource,
              lines: lines(
                resource,
                `${base}&watch=true&resourceVersion=${
                  encodeURIComponent(info.resourceVersion ?? "0")
                }&allowWatchBookmarks=true`
              ),
              decode: decodeEvent,
              opened: connected,
              info,
              apply: (type, object) => good(type === "DELETED" ? undefined : object)
            })
          })

        let rv: string | undefined = undefined
        let delay = minBackoff
        for (;;) {
          const eventsBefore = info.events
          const exit = yield* Effect.result(session(rv))
          if (Result.isSuccess(exit)) {
            if (exit.success === "gone") {
              rv = undefined
              yield* Effect.logDebug(`${label}: ${resource}: resource version too old, listing again`)
            } else {
              rv = info.resourceVersion
            }
            if (info.events > eventsBefore) {
              delay = minBackoff
              continue
            }
            yield* Effect.sleep(Duration.millis(delay))
            delay = Math.min(delay * 2, maxBackoff)
            continue
          }
          const e = exit.failure
          failures.incr()
          if (e.reason === "gone" || e.reason === "decode" || e.reason === "status") rv = undefined
          else rv = info.resourceVersion
          const s = SubscriptionRef.getUnsafe(ref)
          if (s._tag === "Ok") {
            yield* Effect.logWarning(`${label}: ${e.message}; keeping the last answer`)
            if (s.stale !== e.message) {
              yield* SubscriptionRef.set(ref, { _tag: "Ok", object: s.object, stale: e.message })
            }
          } else {
            yield* Effect.logWarning(`${label}: ${e.message}`)
            yield* SubscriptionRef.set(ref, { _tag: "Failed", reason: e.message })
          }
          const jitter = yield* Random.nextBetween(0.5, 1)
          yield* Effect.sleep(Duration.millis(Math.round(delay * jitter)))
          delay = Math.min(delay * 2, maxBackoff)
        }
      })

    const openWatches = new Map<string, Watch<O>>()
    const watches = yield* RcMap.make({
      lookup: (key: string) =>
        Effect.gen(function*() {
          const target = targetOf(key)
          const watch: Watch<O> = {
            resource: `${resource0.plural} ${target.namespace}/${target.service}${
              options?.labelSelector === undefined || target.labelValue === undefined
                ? ""
                : ` with ${options.labelSelector}=${target.labelValue}`
            }`,
            ref: yield* SubscriptionRef.make<State<O>>({ _tag: "Pending" }),
            info: { resourceVersion: undefined, lists: 0, watches: 0, events: 0, lastUpdatedAt: undefined }
          }
          openWatches.set(key, watch)
          yield* Effect.addFinalizer(() => Effect.sync(() => openWatches.delete(key)))
          yield* Effect.forkScoped(run(target, watch))
          return watch
        }),
      idleTimeToLive: options?.idleTimeToLive ?? "10 seconds"
    })

    const states = (target: Target): Stream.Stream<State<O>> =>
      Stream.unwrap(Effect.map(RcMap.get(watches, targetKey(target)), (w) => SubscriptionRef.changes(w.ref)))

    const addrOf = (target: Target, port: string): Stream.Stream<Addr.Addr> =>
      states(target).pipe(
        Stream.filterMap((s): Result.Result<Addr.Addr, void> => {
          if (s._tag === "Pending") return Result.failVoid
          if (s._tag === "Failed") return Result.succeed(Addr.failed(s.reason))
          const xs = resource0.addresses(s.object, port)
          return Result.succeed(xs === undefined ? Addr.neg : Addr.bound(xs))
        }),
        Stream.changesWith(Addr.equals)
      )

    const lookup = (path: Path.Path): Stream.Stream<NameTree.NameTree<Name.Name>, Namer.NamerError> => {
      const width = options?.labelSelector === undefined ? 3 : 4
      if (path.labels.length < width) return Name.constant(NameTree.neg)
      const head = path.labels.slice(0, width).map((l) => l.toLowerCase())
      const [namespace, portName, service, labelValue] = head as [string, string, string, string | undefined]
      const target: Target = { namespace, service, labelValue }
      const bound = NameTree.leaf<Name.Name>(
        Name.bound(Path.fromLabels(head), addrOf(target, portName), Path.fromLabels(path.labels.slice(width)))
      )
      return states(target).pipe(
        Stream.filter((s) => s._tag !== "Pending"),
        Stream.mapEffect((s) =>
          s._tag === "Failed"
            ? Effect.fail(new Namer.NamerError({ path: Path.show(path), reason: s.reason }))
            : Effect.succeed(resource0.addresses(s.object, portName) !== undefined)
        ),
        Stream.changes,
        Stream.map((present): NameTree.NameTree<Name.Name> => present ? bound : NameTree.neg)
      )
    }

    const statusOf = (w: Watch<O>): WatchStatus => {
      const s = SubscriptionRef.getUnsafe(w.ref)
      return {
        resource: w.resource,
        state: s._tag === "Pending"
          ? "pending"
          : s._tag === "Failed"
          ? "failed"
          : s.stale === undefined
          ? "ok"
          : "stale",
        resourceVersion: w.info.resourceVersion,
        error: s._tag === "Failed" ? s.reason : s._tag === "Ok" ? s.stale : undefined,
        lists: w.info.lists,
        watches: w.info.watches,
        events: w.info.events,
        lastUpdatedAt: w.info.lastUpdatedAt === undefined ? undefined : new Date(w.info.lastUpdatedAt).toISOString(),
        ports: s._tag === "Ok" ? resource0.ports(s.object) : [],
        addresses: s._tag === "Ok"
          ? resource0.count(s.object)
          : 0
      }
    }
    const status = Effect.sync(() => Array.from(openWatches.values(), statusOf))

    const enumerate = Effect.sync(() => {
      const out: Array<Path.Path> = []
      for (const [key, w] of openWatches) {
        const s = SubscriptionRef.getUnsafe(w.ref)
        if (s._tag !== "Ok") continue
        const t = targetOf(key)
        for (const p of resource0.ports(s.object)) {
          out.push(Path.fromLabels([t.namespace, p, t.service, ...(t.labelValue === undefined ? [] : [t.labelValue])]))
        }
      }
      return out
    })

    const state = Effect.sync((): K8sState => {
      const watches: Record<string, WatchStatus> = {}
      for (const [key, w] of openWatches) {
        const t = targetOf(key)
        watches[[t.namespace, t.service, ...(t.labelValue === undefined ? [] : [t.labelValue])].join("/")] = statusOf(w)
      }
      return {
        kind: resource0.kind,
        host: api.host,
        port: api.port,
        tls: options?.tls === true,
        labelSelector: options?.labelSelector,
        watches
      }
    })

    return { lookup, status, enumerate, state }
  })

const namedPorts = (endpoints: Endpoints | undefined): Array<string> => {
  const names = new Set<string>()
  for (const subset of endpoints?.subsets ?? []) {
    for (const p of subset.ports ?? []) {
      if (p.name !== undefined && (p.protocol === undefined || p.protocol === "TCP")) names.add(p.name.toLowerCase())
    }
  }
  return Array.from(names).sort()
}
