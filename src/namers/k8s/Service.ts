/**
 * The Kubernetes `v1.Service` objects the `io.l5d.k8s.external` namer reads (the fields it uses;
 * others are ignored), and the addresses of a service port: the service's external load balancer.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Address from "../../Address.js"
import { Status } from "./Api.js"

const ServicePort = Schema.Struct({
  name: Schema.optionalKey(Schema.String),
  port: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 65535 })),
  protocol: Schema.optionalKey(Schema.String),
  targetPort: Schema.optionalKey(Schema.Union([Schema.String, Schema.Int]))
})

const Ingress = Schema.Struct({
  ip: Schema.optionalKey(Schema.String),
  hostname: Schema.optionalKey(Schema.String)
})

/**
 * A Kubernetes `v1.Service`: its ports (`spec.ports`) and its load balancer's ingress points
 * (`status.loadBalancer.ingress`, set for `type: LoadBalancer` once the cloud provisioned one).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Service = Schema.Struct({
  metadata: Schema.Struct({
    name: Schema.optionalKey(Schema.String),
    namespace: Schema.optionalKey(Schema.String),
    resourceVersion: Schema.optionalKey(Schema.String)
  }),
  spec: Schema.optionalKey(Schema.Struct({
    type: Schema.optionalKey(Schema.String),
    ports: Schema.optionalKey(Schema.NullOr(Schema.Array(ServicePort)))
  })),
  status: Schema.optionalKey(Schema.Struct({
    loadBalancer: Schema.optionalKey(Schema.Struct({
      ingress: Schema.optionalKey(Schema.NullOr(Schema.Array(Ingress)))
    }))
  }))
})

/**
 * A decoded Service.
 *
 * @since 0.1.0
 * @category model
 */
export type Service = typeof Service.Type

/**
 * A `v1.ServiceList`, the answer of a list.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServiceList = Schema.Struct({
  metadata: Schema.Struct({ resourceVersion: Schema.String }),
  items: Schema.NullOr(Schema.Array(Service))
})

/**
 * One event of a Service watch.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServiceEvent = Schema.Union([
  Schema.Struct({ type: Schema.Literals(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]), object: Service }),
  Schema.Struct({ type: Schema.Literal("ERROR"), object: Status })
])

const tcp = (p: { readonly protocol?: string | undefined }) => p.protocol === undefined || p.protocol === "TCP"

/**
 * The external addresses of `service` for `port`: each load-balancer ingress (its `hostname`, else
 * its `ip`) with the service port's number. `port` is a port name, or a number selecting the
 * service port with that `port`. `undefined` when there is no such object or port (the name is
 * then `Neg`); a service whose load balancer has no ingress yet has no addresses.
 *
 * @since 0.1.0
 * @category model
 */
export const externalAddresses = (
  service: Service | undefined,
  port: string
): ReadonlyArray<Address.Address> | undefined => {
  if (service === undefined) return undefined
  const byNumber = /^\d+$/.test(port) ? Number(port) : undefined
  const p = (service.spec?.ports ?? []).find((p) =>
    tcp(p) && (byNumber === undefined ? p.name?.toLowerCase() === port : p.port === byNumber)
  )
  if (p === undefined) return undefined
  const out: Array<Address.Address> = []
  for (const ingress of service.status?.loadBalancer?.ingress ?? []) {
    const host = ingress.hostname ?? ingress.ip
    if (host !== undefined && host !== "") out.push(Address.make(host, p.port))
  }
  return out
}

/**
 * The named TCP ports of a service, lowercased and sorted.
 *
 * @since 0.1.0
 * @category model
 */
export const namedPorts = (service: Service | undefined): Array<string> =>
  Array.from(
    new Set((service?.spec?.ports ?? []).flatMap((p) => tcp(p) && p.name !== undefined ? [p.name.toLowerCase()] : []))
  ).sort()
