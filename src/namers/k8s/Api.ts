/**
 * The Kubernetes API objects the `io.l5d.k8s` namer reads — `Endpoints`, `EndpointsList`, watch
 * events and `Status` — as `Schema`s (unknown fields ignored), the address selection for a port, and
 * the namer's API error.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Schema from "effect/Schema"
import * as Address from "../../Address.js"

// ---------------------------------------------------------------------------------------------
// API objects
// ---------------------------------------------------------------------------------------------

const ObjectMeta = Schema.Struct({
  name: Schema.optionalKey(Schema.String),
  namespace: Schema.optionalKey(Schema.String),
  resourceVersion: Schema.optionalKey(Schema.String),
  labels: Schema.optionalKey(Schema.Record(Schema.String, Schema.String))
})

const EndpointAddress = Schema.Struct({
  ip: Schema.String,
  nodeName: Schema.optionalKey(Schema.String),
  hostname: Schema.optionalKey(Schema.String)
})

const EndpointPort = Schema.Struct({
  name: Schema.optionalKey(Schema.String),
  port: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 })),
  protocol: Schema.optionalKey(Schema.String)
})

const EndpointSubset = Schema.Struct({
  addresses: Schema.optionalKey(Schema.Array(EndpointAddress)),
  notReadyAddresses: Schema.optionalKey(Schema.Array(EndpointAddress)),
  ports: Schema.optionalKey(Schema.Array(EndpointPort))
})

/**
 * A Kubernetes `v1.Endpoints` object (the fields the namer reads; others are ignored).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Endpoints = Schema.Struct({
  metadata: ObjectMeta,
  subsets: Schema.optionalKey(Schema.NullOr(Schema.Array(EndpointSubset)))
})

/**
 * A decoded Endpoints object.
 *
 * @since 0.1.0
 * @category model
 */
export type Endpoints = typeof Endpoints.Type

/**
 * A `v1.EndpointsList`, the answer of a list.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EndpointsList = Schema.Struct({
  metadata: Schema.Struct({ resourceVersion: Schema.String }),
  items: Schema.NullOr(Schema.Array(Endpoints))
})

/**
 * A `v1.Status`, as sent in `ERROR` watch events and error responses.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Status = Schema.Struct({
  code: Schema.optionalKey(Schema.Int),
  reason: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String)
})

/**
 * One event of a watch.
 *
 * @since 0.1.0
 * @category schemas
 */
export const WatchEvent = Schema.Union([
  Schema.Struct({ type: Schema.Literals(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]), object: Endpoints }),
  Schema.Struct({ type: Schema.Literal("ERROR"), object: Status })
])

/**
 * A decoded watch event.
 *
 * @since 0.1.0
 * @category model
 */
export type WatchEvent = typeof WatchEvent.Type

/**
 * The addresses of `endpoints` for `port` (a port name, or a number): the ready addresses of every
 * subset that has that port, with the port's number. `undefined` when there is no such object or
 * no subset has the port (the name is then `Neg`).
 *
 * @since 0.1.0
 * @category model
 */
export const addressesFor = (
  endpoints: Endpoints | undefined,
  port: string
): ReadonlyArray<Address.Address> | undefined => {
  if (endpoints === undefined) return undefined
  const byNumber = /^\d+$/.test(port) ? Number(port) : undefined
  let found = false
  const out: Array<Address.Address> = []
  for (const subset of endpoints.subsets ?? []) {
    const p = subset.ports?.find((p) =>
      (p.protocol === undefined || p.protocol === "TCP") &&
      (byNumber === undefined ? p.name?.toLowerCase() === port : p.port === byNumber)
    )
    if (p === undefined) continue
    found = true
    for (const a of subset.addresses ?? []) {
      out.push(Address.make(a.ip, p.port, a.nodeName === undefined ? undefined : { meta: { nodeName: a.nodeName } }))
    }
  }
  return found ? out : undefined
}

// ---------------------------------------------------------------------------------------------
// errors
// ---------------------------------------------------------------------------------------------

/**
 * A request to the Kubernetes API failed: `connection` (could not connect, or the connection was
 * lost), `status` (an error status), `decode` (an answer that is not the expected JSON), `gone`
 * (410: the resource version is too old, relist), `auth` (the token file cannot be read),
 * `timeout`.
 *
 * @since 0.1.0
 * @category errors
 */
export class K8sApiError extends Data.TaggedError("K8sApiError")<{
  readonly reason: "connection" | "status" | "decode" | "gone" | "auth" | "timeout"
  readonly resource: string
  readonly detail: string
}> {
  /** The namer retries on its own; requests never retry on it. */
  readonly retryable = false
  override get message(): string {
    return `${this.resource}: ${this.detail}`
  }
}
