/**
 * The namer `io.l5d.k8s.external`: Kubernetes services reached from outside the cluster, through
 * their external load balancer. `/#/io.l5d.k8s.external/<namespace>/<port>/<service>[/residual]`
 * answers the `status.loadBalancer.ingress` addresses of the Service (its hostname, else its IP)
 * with the number of the service port named `<port>` (a numeric `<port>` selects the service port
 * with that number). With `labelSelector: <key>`, a 4th label is the value the Service must carry.
 * A missing Service or port is `Neg`; a `LoadBalancer` Service whose balancer is not provisioned yet
 * is bound with no addresses, and gets them when Kubernetes publishes them.
 *
 * It watches `Service` objects (`/api/v1/namespaces/<ns>/services?fieldSelector=metadata.name=<svc>`)
 * with the list+watch client of the `io.l5d.k8s` namer (`K8s.ts`): the same resource-version
 * handling, retries, stale-while-error and state. Experimental, as in linkerd: the config must say
 * `experimental: true`.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as K8s from "./K8s.js"
import { externalAddresses, namedPorts, type Service, ServiceEvent, ServiceList } from "./k8s/Service.js"

/**
 * The namer kind, also its default mount prefix.
 *
 * @since 0.1.0
 * @category constants
 */
export const kind = "io.l5d.k8s.external"

/**
 * `Service` objects, addressed by their external load balancer.
 *
 * @since 0.1.0
 * @category resources
 */
export const servicesResource: K8s.Resource<Service> = {
  kind,
  plural: "services",
  decodeList: Schema.decodeUnknownResult(Schema.fromJsonString(ServiceList)),
  decodeEvent: Schema.decodeUnknownResult(Schema.fromJsonString(ServiceEvent)),
  addresses: externalAddresses,
  ports: namedPorts,
  count: (service) => (service?.status?.loadBalancer?.ingress ?? []).length
}

/**
 * Builds the namer (options as `K8s.make`'s). Nothing is contacted until a name is looked up.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: K8s.Options): Effect.Effect<K8s.K8sNamer, never, Scope.Scope> =>
  K8s.makeWith(servicesResource, { ...options, label: options?.label ?? `#/${kind}` })
