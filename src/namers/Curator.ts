/**
 * The `io.l5d.curator` namer (experimental in linkerd): service discovery from Apache Curator's
 * service discovery recipe in ZooKeeper. `/#/io.l5d.curator/<service>[/residual]` watches
 * `<basePath>/<service>`, whose children are the service's instances, each holding Curator's JSON
 * `ServiceInstance`:
 *
 * ```json
 * { "name": "web", "id": "8d1c…", "address": "10.0.0.1", "port": 8080, "sslPort": null,
 *   "payload": null, "registrationTimeUTC": 1700000000000, "serviceType": "DYNAMIC" }
 * ```
 *
 * Each instance is an address `address:port` (`sslPort` when `port` is absent); an instance without
 * either is left out, one whose data does not decode is left out with a warning. A service without
 * instances is `Neg`. Watching, staleness and the admin state are the other ZooKeeper namers'
 * (see `zk/ChildrenNamer.ts`).
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Address from "../Address.js"
import type * as Namer from "../naming/Namer.js"
import * as ChildrenNamer from "./zk/ChildrenNamer.js"

/**
 * The namer kind, also its default mount prefix.
 *
 * @since 0.1.0
 * @category constants
 */
export const kind = "io.l5d.curator"

/**
 * Curator's `ServiceInstance` JSON (the fields used).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServiceInstance = Schema.Struct({
  name: Schema.optionalKey(Schema.String),
  id: Schema.optionalKey(Schema.String),
  address: Schema.String,
  port: Schema.optionalKey(Schema.NullOr(Schema.Int)),
  sslPort: Schema.optionalKey(Schema.NullOr(Schema.Int))
})

const decode = Schema.decodeUnknownResult(Schema.fromJsonString(ServiceInstance))

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends ChildrenNamer.Options {
  /** The ZooKeeper path services are registered under. Defaults to `/`. */
  readonly basePath?: string | undefined
}

/**
 * Builds the namer; the ZooKeeper session and watches live in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Namer.Namer, never, Scope.Scope> => {
  const base = (options.basePath ?? "/").split("/").filter((l) => l !== "")
  return ChildrenNamer.make<typeof ServiceInstance.Type, undefined>({
    kind,
    target: (labels) => ({ zkPath: "/" + [...base, ...labels].join("/"), select: undefined }),
    child: () => true,
    decode: (data) => {
      const r = decode(data.toString("utf8"))
      return r._tag === "Success" ? r.success : undefined
    },
    addresses: (entries) => {
      const out: Array<Address.Address> = []
      for (const [id, i] of entries) {
        const port = i.port ?? i.sslPort
        if (port == null || port < 1 || port > 65535 || i.address === "") continue
        out.push(Address.make(i.address, port, { meta: { instance: i.id ?? id } }))
      }
      return out
    }
  }, { ...options, label: options.label ?? `#/${kind}` })
}
