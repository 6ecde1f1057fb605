/**
 * Conversions between weir's naming values and namerd's Thrift structs (`ThriftWire.ts`): paths
 * (segments as UTF-8 bytes), bound trees (flattened into a root and a map of numbered nodes, as
 * linkerd's namerd numbers them), address sets (IP addresses as 4 or 16 bytes, metadata as
 * `AddrMeta`) and delegation trees.
 *
 * Reading a bound tree follows node ids from the root: an unknown id, a cycle, more than
 * `maxDepth` levels or more than `maxNodes` nodes visited is an error, never a crash or a loop.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import type * as Stream from "effect/Stream"
import * as Net from "node:net"
import * as Address from "../../Address.js"
import * as Addr from "../../naming/Addr.js"
import type * as Delegation from "../../naming/Delegation.js"
import * as Name from "../../naming/Name.js"
import * as NameTree from "../../naming/NameTree.js"
import * as Path from "../../naming/Path.js"
import type * as W from "./ThriftWire.js"

/**
 * Deepest bound tree accepted.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxDepth = 100

/**
 * Most nodes a bound tree may expand to.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxNodes = 10_000

const utf8 = new TextDecoder("utf-8", { fatal: true })
const encoder = new TextEncoder()

/**
 * A path as Thrift segments.
 *
 * @since 0.1.0
 * @category encoding
 */
export const pathToThrift = (path: Path.Path): W.TPath => path.labels.map((l) => encoder.encode(l))

/**
 * A path from Thrift segments (each must be UTF-8).
 *
 * @since 0.1.0
 * @category decoding
 */
export const pathFromThrift = (path: W.TPath): Result.Result<Path.Path, string> => {
  try {
    return Result.succeed(Path.fromLabels(path.map((s) => utf8.decode(s))))
  } catch {
    return Result.fail("a path segment is not valid UTF-8")
  }
}

/**
 * A bound tree as a root and numbered nodes (children before their parent's later siblings, ids
 * from 0, as linkerd's namerd assigns them). A leaf whose id is not a path becomes `neg`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const boundTreeToThrift = (tree: NameTree.NameTree<Name.Bound>): W.BoundTree => {
  const nodes = new Map<number, W.BoundNode>()
  let next = 0
  const go = (t: NameTree.NameTree<Name.Bound>): W.BoundNode => {
    switch (t._tag) {
      case "Neg":
        return { _tag: "neg", value: {} }
      case "Empty":
        return { _tag: "empty", value: {} }
      case "Fail":
        return { _tag: "fail", value: {} }
      case "Leaf":
        return typeof t.value.id === "string"
          ? { _tag: "neg", value: {} }
          : { _tag: "leaf", value: { id: pathToThrift(t.value.id), residual: pathToThrift(t.value.residual) } }
      case "Alt":
        return {
          _tag: "alt",
          value: t.trees.map((c) => {
            const id = next++
            nodes.set(id, go(c))
            return id
          })
        }
      case "Union":
        return {
          _tag: "weighted",
          value: t.trees.map((w) => {
            const id = next++
            nodes.set(id, go(w.tree))
            return { weight: w.weight, id }
          })
        }
    }
  }
  const root = go(tree)
  return { root, nodes }
}

/**
 * A bound tree from its Thrift form; `bound(id, residual)` makes each leaf's bound name.
 *
 * @since 0.1.0
 * @category decoding
 */
export const boundTreeFromThrift = (
  tree: W.BoundTree,
  bound: (id: Path.Path, residual: Path.Path) => Stream.Stream<Addr.Addr>
): Result.Result<NameTree.NameTree<Name.Bound>, string> => {
  let visited = 0
  const onPath = new Set<number>()
  const child = (id: number, depth: number): NameTree.NameTree<Name.Bound> => {
    const node = tree.nodes.get(id)
    if (node === undefined) throw new Error(`unknown node id ${id}`)
    if (onPath.has(id)) throw new Error(`node ${id} refers to itself`)
    onPath.add(id)
    const t = go(node, depth + 1)
    onPath.delete(id)
    return t
  }
  const go = (node: W.BoundNode, depth: number): NameTree.NameTree<Name.Bound> => {
    if (depth > maxDepth) throw new Error(`tree deeper than ${maxDepth}`)
    if (++visited > maxNodes) throw new Error(`tree larger than ${maxNodes} nodes`)
    switch (node._tag) {
      case "neg":
        return NameTree.neg
      case "empty":
        return NameTree.empty
      case "fail":
        return NameTree.fail
      case "leaf": {
        const id = pathFromThrift(node.value.id)
        const residual = pathFromThrift(node.value.residual)
        if (Result.isFailure(id)) throw new Error(`bound id: ${id.failure}`)
        if (Result.isFailure(residual)) throw new Error(`residual: ${residual.failure}`)
        if (Path.isEmpty(id.success)) throw new Error("a leaf with an empty bound id")
        return NameTree.leaf(Name.bound(id.success, bound(id.success, residual.success), residual.success))
      }
      case "alt":
        return NameTree.alt(...node.value.map((id) => child(id, depth)))
      case "weighted":
        return NameTree.union(...node.value.map((w) => {
          if (!Number.isFinite(w.weight) || w.weight < 0) throw new Error(`invalid weight ${w.weight}`)
          return NameTree.weighted(child(w.id, depth), w.weight)
        }))
    }
  }
  try {
    return Result.succeed(go(tree.root, 0))
  } catch (e) {
    return Result.fail(e instanceof Error ? e.message : String(e))
  }
}

const metaToThrift = (meta: Readonly<Record<string, unknown>>, weight: number): W.AddrMeta | undefined => {
  const authority = typeof meta.authority === "string" ? meta.authority : undefined
  const nodeName = typeof meta.nodeName === "string" ? meta.nodeName : undefined
  const endpointAddrWeight = weight !== 1 ? weight : undefined
  return authority === undefined && nodeName === undefined && endpointAddrWeight === undefined
    ? undefined
    : { authority, nodeName, endpointAddrWeight }
}

const metaFromThrift = (meta: W.AddrMeta | undefined): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  if (meta?.authority !== undefined) out.authority = meta.authority
  if (meta?.nodeName !== undefined) out.nodeName = meta.nodeName
  return out
}

const ipBytes = (host: string): Uint8Array | undefined => {
  if (Net.isIPv4(host)) return Uint8Array.from(host.split(".").map(Number))
  if (!Net.isIPv6(host)) return undefined
  let text = host.split("%")[0]!
  const v4 = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(2).map(Number) as [number, number, number, number]
    text = `${v4[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head, tail] = text.split("::") as [string, string | undefined]
  const h = head === "" ? [] : head.split(":")
  const t = tail === undefined || tail === "" ? [] : tail.split(":")
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t]
  const out = new Uint8Array(16)
  groups.forEach((g, i) => {
    const v = parseInt(g, 16)
    out[2 * i] = v >> 8
    out[2 * i + 1] = v & 0xff
  })
  return out
}

const ipString = (bytes: Uint8Array): string | undefined => {
  if (bytes.length === 4) return [...bytes].join(".")
  if (bytes.length !== 16) return undefined
  const groups: Array<string> = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16))
  return groups.join(":")
}

/**
 * An address state as Thrift's `AddrVal`: `bound` (addresses whose host is an IP literal; others
 * cannot travel in the IDL and are left out) or `neg`. `Pending` and `Failed` have no `AddrVal`:
 * the server holds the poll, or answers an `AddrFailure`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const addrToThrift = (addr: Addr.Bound | Addr.Neg): W.AddrVal => {
  if (addr._tag === "Neg") return { _tag: "neg", value: {} }
  const addresses: Array<W.TransportAddress> = []
  for (const a of addr.addresses) {
    const ip = ipBytes(a.host)
    if (ip === undefined) continue
    const meta = metaToThrift(a.meta, a.weight)
    addresses.push(meta === undefined ? { ip, port: a.port } : { ip, port: a.port, meta })
  }
  const meta = metaToThrift(addr.meta, 1)
  return { _tag: "bound", value: meta === undefined ? { addresses } : { addresses, meta } }
}

/**
 * An address state from Thrift's `AddrVal` (an IP of 4 or 16 bytes and a port in 1–65535 each).
 *
 * @since 0.1.0
 * @category decoding
 */
export const addrFromThrift = (value: W.AddrVal): Result.Result<Addr.Addr, string> => {
  if (value._tag === "neg") return Result.succeed(Addr.neg)
  const addresses: Array<Address.Address> = []
  for (const a of value.value.addresses) {
    const host = ipString(a.ip)
    if (host === undefined) return Result.fail(`an address of ${a.ip.length} bytes (expected 4 or 16)`)
    if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) return Result.fail(`invalid port ${a.port}`)
    const w = a.meta?.endpointAddrWeight
    addresses.push(
      Address.make(host, a.port, {
        weight: w !== undefined && Number.isFinite(w) && w >= 0 ? w : 1,
        meta: metaFromThrift(a.meta)
      })
    )
  }
  return Result.succeed(Addr.bound(addresses, metaFromThrift(value.value.meta)))
}

const parsedPath = (s: string): W.TPath => {
  const p = Path.parse(s)
  return Result.isSuccess(p) ? pathToThrift(p.success) : []
}

/**
 * A delegation tree (the delegator's JSON shape) as Thrift's `DelegateTree`; `stale` marks are
 * not carried.
 *
 * @since 0.1.0
 * @category encoding
 */
export const delegateToThrift = (tree: Delegation.DelegateTree): W.DelegateTree => {
  const nodes = new Map<number, W.DelegateNode>()
  let next = 0
  const add = (t: Delegation.DelegateTree) => {
    const node = go(t)
    const id = next++
    nodes.set(id, node)
    return id
  }
  const go = (t: Delegation.DelegateTree): W.DelegateNode => {
    const path = parsedPath(t.path)
    const dentry = t.dentry === undefined ? "" : `${t.dentry.prefix}=>${t.dentry.dst}`
    const node = (contents: W.DelegateContents): W.DelegateNode => ({ path, dentry, contents })
    switch (t.type) {
      case "neg":
      case "fail":
      case "empty":
        return node({ _tag: t.type, value: {} })
      case "exception":
        return node({ _tag: "error", value: t.message })
      case "delegate":
        return node({ _tag: "delegate", value: add(t.delegate) })
      case "leaf":
        return node({ _tag: "boundLeaf", value: { id: parsedPath(t.bound.id), residual: parsedPath(t.bound.path) } })
      case "alt":
        return node({ _tag: "alt", value: t.alt.map(add) })
      case "union":
        return node({ _tag: "weighted", value: t.union.map((w) => ({ weight: w.weight, id: add(w.tree) })) })
    }
  }
  const root = go(tree)
  return { root, nodes }
}
