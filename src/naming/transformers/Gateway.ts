/**
 * The gateway transformer behind linkerd's `io.l5d.k8s.daemonset`: each address of a bound name is
 * replaced by the gateways that serve it (the daemonset's linker on the same node), found with a
 * pairing test: the same /24 network (pod IPs, one /24 per node) or the same `nodeName` metadata
 * (daemonset pods on the host network). The gateways are a live set; the result changes when either
 * the name's addresses or the gateways change.
 *
 * The result keeps the name's set metadata; its addresses are the gateways' (with their own
 * metadata), each once. Until the gateway set is known the name is `Pending`; `Neg` and `Failed`
 * states of the name pass through. Ids become `/%/<prefix>/<id>`.
 *
 * @since 0.1.0
 */
import * as Stream from "effect/Stream"
import * as Address from "../../Address.js"
import * as Addr from "../Addr.js"
import * as Name from "../Name.js"
import * as NameTree from "../NameTree.js"
import type * as Path from "../Path.js"
import { sameSubnet24 } from "./Hosts.js"
import * as Transformer from "./Transformer.js"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly name: string
  readonly prefix: Path.Path
  /** The live gateway addresses; `undefined` while unknown. Shared by every bound name. */
  readonly gateways: Stream.Stream<ReadonlyArray<Address.Address> | undefined>
  /** Whether `gateway` serves `address`. */
  readonly serves: (address: Address.Address, gateway: Address.Address) => boolean
}

/**
 * Pairs by /24 network of the hosts.
 *
 * @since 0.1.0
 * @category predicates
 */
export const bySubnet = (address: Address.Address, gateway: Address.Address): boolean =>
  sameSubnet24(address.host, gateway.host)

/**
 * Pairs by the `nodeName` metadata (an address without it is served by no gateway).
 *
 * @since 0.1.0
 * @category predicates
 */
export const byNodeName = (address: Address.Address, gateway: Address.Address): boolean =>
  "nodeName" in address.meta && address.meta["nodeName"] === gateway.meta["nodeName"]

/**
 * The gateways serving an address state.
 *
 * @since 0.1.0
 * @category combinators
 */
export const select = (
  addr: Addr.Addr,
  gateways: ReadonlyArray<Address.Address> | undefined,
  serves: Options["serves"]
): Addr.Addr => {
  if (addr._tag !== "Bound") return addr
  if (gateways === undefined) return Addr.pending
  const chosen = new Map<string, Address.Address>()
  for (const a of addr.addresses) {
    for (const g of gateways) if (serves(a, g) && !chosen.has(Address.key(g))) chosen.set(Address.key(g), g)
  }
  return Addr.bound([...chosen.values()], addr.meta)
}

/**
 * Replaces each address by the gateways serving it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Transformer.Transformer =>
  Transformer.make(options.name, (tree) =>
    Transformer.mapLeaves(tree, (b) =>
      NameTree.leaf(Name.bound(
        Transformer.prefixId(options.prefix, b.id),
        Stream.zipLatest(b.addr, options.gateways).pipe(
          Stream.map(([addr, gateways]) => select(addr, gateways, options.serves))
        ),
        b.residual
      ))))
