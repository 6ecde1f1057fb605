/**
 * An `Address` is one concrete endpoint a name resolves to: host, port, a weight for weighted
 * balancing (default `1`) and free-form metadata a namer attaches (a zone, a node name).
 * Balancers identify endpoints by `key` (`host:port`), so the same address arriving in a new set
 * keeps its endpoint and load state.
 *
 * @since 0.1.0
 */

/**
 * One endpoint.
 *
 * @since 0.1.0
 * @category model
 */
export interface Address {
  readonly host: string
  readonly port: number
  /** Relative share of traffic. Defaults to `1`. */
  readonly weight: number
  readonly meta: Readonly<Record<string, unknown>>
}

/**
 * Builds an address. Weight defaults to `1`, metadata to none.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  host: string,
  port: number,
  options?: { readonly weight?: number | undefined; readonly meta?: Readonly<Record<string, unknown>> | undefined }
): Address => ({ host, port, weight: options?.weight ?? 1, meta: options?.meta ?? {} })

/**
 * The identity of an address: `host:port` (IPv6 hosts in brackets).
 *
 * @since 0.1.0
 * @category getters
 */
export const key = (self: Address): string =>
  self.host.includes(":") ? `[${self.host}]:${self.port}` : `${self.host}:${self.port}`

/**
 * Whether two addresses are the same endpoint with the same weight and metadata.
 *
 * @since 0.1.0
 * @category equivalence
 */
export const equals = (a: Address, b: Address): boolean =>
  a.host === b.host && a.port === b.port && a.weight === b.weight &&
  JSON.stringify(a.meta) === JSON.stringify(b.meta)
