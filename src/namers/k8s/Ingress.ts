/**
 * Kubernetes Ingress resources as the `io.l5d.ingress` identifier reads them: the API objects
 * (`networking.k8s.io/v1`, and the older `extensions/v1beta1` backend fields `serviceName` and
 * `servicePort`), their rules flattened into `Rule`s, and the matching of a request's host and path
 * against them, with linkerd 1.x's semantics:
 *
 * - an Ingress whose `kubernetes.io/ingress.class` annotation (or `spec.ingressClassName`) names
 *   another class is ignored; one without either is taken;
 * - a rule matches when its `host` (if any) equals the request's host without its port (a `*.`
 *   wildcard host matches one label) and its `path` (if any) matches the request's path: by
 *   `pathType` `Exact` (equal) or `Prefix` (element-wise, as Kubernetes defines it), and otherwise
 *   (`ImplementationSpecific`, or no `pathType`) as a regular expression matching the whole path,
 *   as linkerd did;
 * - the first Ingress (in the API's order, a changed one moving to the end) with a matching rule
 *   wins, its rules in order; when no rule of any Ingress matches, the first Ingress with a default
 *   backend (`spec.defaultBackend`, or `spec.backend`) does, unless default backends are ignored.
 *
 * A rule's destination is `<namespace>/<port>/<service>`: the Ingress's namespace, the backend's
 * port (a number or a port name, as written) and service.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Status } from "./Api.js"

const Port = Schema.Union([Schema.Int, Schema.String])

const Backend = Schema.Struct({
  service: Schema.optionalKey(Schema.NullOr(Schema.Struct({
    name: Schema.String,
    port: Schema.optionalKey(Schema.NullOr(Schema.Struct({
      name: Schema.optionalKey(Schema.NullOr(Schema.String)),
      number: Schema.optionalKey(Schema.NullOr(Schema.Int))
    })))
  }))),
  serviceName: Schema.optionalKey(Schema.NullOr(Schema.String)),
  servicePort: Schema.optionalKey(Schema.NullOr(Port))
})

const HttpPath = Schema.Struct({
  path: Schema.optionalKey(Schema.NullOr(Schema.String)),
  pathType: Schema.optionalKey(Schema.NullOr(Schema.String)),
  backend: Backend
})

const IngressRule = Schema.Struct({
  host: Schema.optionalKey(Schema.NullOr(Schema.String)),
  http: Schema.optionalKey(Schema.NullOr(Schema.Struct({ paths: Schema.NullOr(Schema.Array(HttpPath)) })))
})

/**
 * A Kubernetes Ingress (the fields the identifier reads; others are ignored).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Ingress = Schema.Struct({
  metadata: Schema.Struct({
    name: Schema.optionalKey(Schema.String),
    namespace: Schema.optionalKey(Schema.String),
    resourceVersion: Schema.optionalKey(Schema.String),
    annotations: Schema.optionalKey(Schema.NullOr(Schema.Record(Schema.String, Schema.String)))
  }),
  spec: Schema.optionalKey(Schema.NullOr(Schema.Struct({
    ingressClassName: Schema.optionalKey(Schema.NullOr(Schema.String)),
    defaultBackend: Schema.optionalKey(Schema.NullOr(Backend)),
    backend: Schema.optionalKey(Schema.NullOr(Backend)),
    rules: Schema.optionalKey(Schema.NullOr(Schema.Array(IngressRule)))
  })))
})

/**
 * A decoded Ingress.
 *
 * @since 0.1.0
 * @category model
 */
export type Ingress = typeof Ingress.Type

/**
 * An `IngressList`, the answer of a list.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IngressList = Schema.Struct({
  metadata: Schema.Struct({ resourceVersion: Schema.String }),
  items: Schema.NullOr(Schema.Array(Ingress))
})

/**
 * One event of an Ingress watch.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IngressEvent = Schema.Union([
  Schema.Struct({ type: Schema.Literals(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]), object: Ingress }),
  Schema.Struct({ type: Schema.Literal("ERROR"), object: Status })
])

/**
 * The annotation naming the controller an Ingress is for.
 *
 * @since 0.1.0
 * @category constants
 */
export const classAnnotation = "kubernetes.io/ingress.class"

/**
 * Where a matching request goes.
 *
 * @since 0.1.0
 * @category model
 */
export interface Destination {
  readonly namespace: string
  readonly port: string
  readonly service: string
}

/**
 * One path of one rule of an Ingress, ready to match.
 *
 * @since 0.1.0
 * @category model
 */
export interface Rule extends Destination {
  readonly host: string | undefined
  readonly path: string | undefined
  readonly pathType: "Exact" | "Prefix" | "ImplementationSpecific"
  /** The compiled `path` of an `ImplementationSpecific` rule; `null` when it is not a valid expression (never matches). */
  readonly regex: RegExp | null | undefined
}

/**
 * An Ingress taken by the identifier: its rules and its default backend.
 *
 * @since 0.1.0
 * @category model
 */
export interface Spec {
  readonly key: string
  readonly rules: ReadonlyArray<Rule>
  readonly fallback: Destination | undefined
}

/** Longest path expression compiled; a longer one never matches. */
const maxPattern = 1024

const destinationOf = (
  backend: typeof Backend.Type | null | undefined,
  namespace: string
): Destination | undefined => {
  if (backend == null) return undefined
  if (backend.service != null) {
    const port = backend.service.port?.number ?? backend.service.port?.name
    if (port == null || port === "") return undefined
    return { namespace, port: String(port), service: backend.service.name }
  }
  if (backend.serviceName == null || backend.servicePort == null) return undefined
  return { namespace, port: String(backend.servicePort), service: backend.serviceName }
}

const compile = (path: string): RegExp | null => {
  if (path.length > maxPattern) return null
  try {
    return new RegExp(`^(?:${path})$`)
  } catch {
    return null
  }
}

/**
 * The `Spec` of an Ingress for the controller class `ingressClass`; `undefined` when it is for
 * another class or has no `spec`. Paths whose backend is not a service (a `resource` backend) are
 * left out.
 *
 * @since 0.1.0
 * @category constructors
 */
export const specOf = (
  ingress: Ingress,
  ingressClass: string,
  ignoreDefaultBackends = false
): Spec | undefined => {
  const annotated = ingress.metadata.annotations?.[classAnnotation] ?? ingress.spec?.ingressClassName
  if (annotated != null && annotated !== ingressClass) return undefined
  const spec = ingress.spec
  if (spec == null) return undefined
  const namespace = ingress.metadata.namespace ?? "default"
  const rules: Array<Rule> = []
  for (const rule of spec.rules ?? []) {
    for (const p of rule.http?.paths ?? []) {
      const to = destinationOf(p.backend, namespace)
      if (to === undefined) continue
      const path = p.path == null || p.path === "" ? undefined : p.path
      const pathType = p.pathType === "Exact" || p.pathType === "Prefix" ? p.pathType : "ImplementationSpecific"
      rules.push({
        ...to,
        host: rule.host == null || rule.host === "" ? undefined : rule.host.toLowerCase(),
        path,
        pathType,
        regex: path !== undefined && pathType === "ImplementationSpecific" ? compile(path) : undefined
      })
    }
  }
  const fallback = ignoreDefaultBackends ? undefined : destinationOf(spec.defaultBackend ?? spec.backend, namespace)
  return { key: keyOf(ingress), rules, fallback }
}

/**
 * How an Ingress is known across events: `<namespace>/<name>`.
 *
 * @since 0.1.0
 * @category model
 */
export const keyOf = (ingress: Ingress): string =>
  `${ingress.metadata.namespace ?? "default"}/${ingress.metadata.name ?? ""}`

const hostMatches = (rule: string, host: string): boolean => {
  if (!rule.startsWith("*.")) return rule === host
  const dot = host.indexOf(".")
  return dot > 0 && host.slice(dot) === rule.slice(1)
}

const prefixMatches = (prefix: string, path: string): boolean => {
  const want = prefix.split("/").filter((s) => s !== "")
  const have = path.split("/").filter((s) => s !== "")
  if (want.length > have.length) return false
  return want.every((s, i) => have[i] === s)
}

/**
 * Whether `rule` matches a request for `host` (lowercased, without its port; `undefined` when the
 * request has none) and `path` (without the query).
 *
 * @since 0.1.0
 * @category matching
 */
export const matches = (rule: Rule, host: string | undefined, path: string): boolean => {
  if (rule.host !== undefined && (host === undefined || !hostMatches(rule.host, host))) return false
  if (rule.path === undefined) return true
  switch (rule.pathType) {
    case "Exact":
      return path === rule.path
    case "Prefix":
      return prefixMatches(rule.path, path)
    case "ImplementationSpecific":
      return rule.regex != null && rule.regex.test(path)
  }
}

/**
 * Where a request goes: the first matching rule of the first Ingress that has one, else the first
 * default backend; `undefined` when neither.
 *
 * @since 0.1.0
 * @category matching
 */
export const route = (
  specs: Iterable<Spec>,
  host: string | undefined,
  path: string
): Destination | undefined => {
  let fallback: Destination | undefined
  for (const spec of specs) {
    for (const rule of spec.rules) if (matches(rule, host, path)) return rule
    fallback ??= spec.fallback
  }
  return fallback
}

/**
 * The host of a `Host` (or `:authority`) value as rules name hosts: lowercased, without the port
 * (and without an IPv6 literal's brackets).
 *
 * @since 0.1.0
 * @category matching
 */
export const hostOf = (value: string | undefined): string | undefined => {
  if (value === undefined || value === "") return undefined
  const v = value.toLowerCase()
  if (v.startsWith("[")) {
    const end = v.indexOf("]")
    return end < 0 ? v : v.slice(1, end)
  }
  const colon = v.indexOf(":")
  return colon < 0 ? v : v.slice(0, colon)
}

/**
 * The path of a request target (origin form, or absolute form as a proxy receives it), without
 * the query.
 *
 * @since 0.1.0
 * @category matching
 */
export const pathOf = (url: string): string => {
  let rest = url
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(rest)
  if (scheme !== null) rest = rest.slice(scheme[0].length)
  const q = rest.search(/[?#]/)
  const path = q < 0 ? rest : rest.slice(0, q)
  return path === "" ? "/" : path
}
