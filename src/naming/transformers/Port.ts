/**
 * The port transformer (linkerd's `io.l5d.port`): every address of every bound name gets the same
 * port, e.g. the port of a linker running on each host, so traffic meant for an application goes to
 * the linker beside it. Hosts, weights and metadata are kept; ids become
 * `/%/io.l5d.port/<port>/<id>`.
 *
 * @since 0.1.0
 */
import * as Address from "../../Address.js"
import * as Addr from "../Addr.js"
import * as Path from "../Path.js"
import * as Transformer from "./Transformer.js"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The port every address gets. */
  readonly port: number
  /** Where transformed ids live under `/%`. Defaults to `/io.l5d.port/<port>`. */
  readonly prefix?: Path.Path | undefined
}

/**
 * The default prefix of a port transformer: `/io.l5d.port/<port>`.
 *
 * @since 0.1.0
 * @category naming
 */
export const defaultPrefix = (port: number): Path.Path => Path.make("io.l5d.port", String(port))

/**
 * Replaces the port of every address.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Transformer.Transformer =>
  Transformer.mapAddr(
    "io.l5d.port",
    options.prefix ?? defaultPrefix(options.port),
    (a) =>
      a._tag !== "Bound" ? a : Addr.bound(
        a.addresses.map((x) => Address.make(x.host, options.port, { weight: x.weight, meta: x.meta })),
        a.meta
      )
  )
