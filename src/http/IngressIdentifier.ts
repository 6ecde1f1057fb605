/**
 * The identifier `io.l5d.ingress`: a request is routed as a Kubernetes Ingress says, to
 * `<dstPrefix>/<namespace>/<port>/<service>` (`/svc/default/80/books`), the same labels the
 * `io.l5d.k8s` namer takes, so `/svc => /#/io.l5d.k8s` completes the route. Where a host and path go
 * is the ingress watch's business (`namers/k8s/IngressCache.ts`); this module reads the request's
 * host (`Host`, or `:authority` on HTTP/2) and target and builds the name. A request no rule or
 * default backend takes is unidentified (400, `no ingress rule matches`), and so is every request
 * while the Ingresses have never been listed (the reason says why: not listed yet, or the API's error).
 *
 * @since 0.1.0
 */
import * as Path from "../naming/Path.js"
import type * as Identifiers from "./Identifiers.js"
import { header as headerOf } from "./transport/Message.js"

/**
 * Where a request goes: a service port of a namespace, or the reason it goes nowhere.
 *
 * @since 0.1.0
 * @category model
 */
export type Route = (
  host: string | undefined,
  url: string
) => { readonly namespace: string; readonly port: string; readonly service: string } | string

/**
 * The identifier under `prefix` for the routes `route` answers.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (prefix: Path.Path, route: Route): Identifiers.Identifier => (request) => {
  const host = headerOf(request.headers, "host") ?? headerOf(request.headers, ":authority")
  const to = route(host, request.url)
  if (typeof to === "string") return { _tag: "Unidentified", reason: to }
  return {
    _tag: "Identified",
    name: Path.fromLabels([...prefix.labels, to.namespace, to.port, to.service]),
    request
  }
}
