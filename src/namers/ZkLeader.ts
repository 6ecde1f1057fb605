/**
 * The `io.l5d.zkLeader` namer: the current leader of a ZooKeeper leader election.
 * `/#/io.l5d.zkLeader/<group path…>[/residual]` watches the group znode, whose children are the
 * candidates (ephemeral sequential nodes: `member_0000000007`, Curator's `…-latch-0000000007`); the
 * candidate with the lowest sequence number leads, and the name is bound to its address alone.
 * A candidate's data is its address: a serverset member's JSON (`serviceEndpoint`), or `host:port`
 * text. When the leader's node goes away the next candidate's address replaces it; a group without
 * a (decodable) candidate is `Neg`, and as for serversets the longest prefix with one is used.
 * Watching, staleness and the admin state are the other ZooKeeper namers' (`zk/ChildrenNamer.ts`).
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Address from "../Address.js"
import type * as Namer from "../naming/Namer.js"
import * as Serversets from "./Serversets.js"
import * as ChildrenNamer from "./zk/ChildrenNamer.js"

/**
 * The namer kind, also its default mount prefix.
 *
 * @since 0.1.0
 * @category constants
 */
export const kind = "io.l5d.zkLeader"

/**
 * A candidate's address from its data, or `undefined`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const candidateAddress = (data: string): { readonly host: string; readonly port: number } | undefined => {
  const text = data.trim()
  if (text.startsWith("{")) {
    const hp = Serversets.addressesOf([["leader", parseMember(text) ?? {}]], undefined, undefined)[0]
    return hp === undefined ? undefined : { host: hp.host, port: hp.port }
  }
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text)
  if (m === null) return undefined
  const port = Number(m[2])
  return port >= 1 && port <= 65535 ? { host: m[1]!, port } : undefined
}

const parseMember = (text: string): Serversets.Member | undefined => {
  try {
    const json = JSON.parse(text) as Serversets.Member
    return typeof json === "object" && json !== null ? json : undefined
  } catch {
    return undefined
  }
}

const sequence = (name: string): number => {
  const m = /(\d+)$/.exec(name)
  return m === null ? Number.MAX_SAFE_INTEGER : Number(m[1])
}

/**
 * Builds the namer; the ZooKeeper session and watches live in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: ChildrenNamer.Options): Effect.Effect<Namer.Namer, never, Scope.Scope> =>
  ChildrenNamer.make<{ readonly host: string; readonly port: number }, undefined>({
    kind,
    target: (labels) => ({ zkPath: "/" + labels.join("/"), select: undefined }),
    child: () => true,
    decode: (data) => candidateAddress(data.toString("utf8")),
    addresses: (entries) => {
      const sorted = [...entries].sort((a, b) => sequence(a[0]) - sequence(b[0]) || (a[0] < b[0] ? -1 : 1))
      const leader = sorted[0]
      return leader === undefined
        ? []
        : [Address.make(leader[1].host, leader[1].port, { meta: { candidate: leader[0] } })]
    }
  }, { ...options, label: options.label ?? `#/${kind}` })
