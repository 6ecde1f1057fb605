/**
 * The resolver's answer in linkerd's mesh API (`resolver.proto`), an address state:
 *
 * | message | fields |
 * | --- | --- |
 * | `Replicas` | oneof pending 1, neg 2, `Failed failed = 3 { string message = 1 }`, `Bound bound = 4 { repeated Endpoint endpoints = 1; map<string,string> metadata = 2 }` |
 * | `Endpoint` | `inet_af = 1` (INET4 0, INET6 1), `bytes address = 2`, `int32 port = 3`, `Meta meta = 4 { string nodeName = 1 }`, `map<string,string> metadata = 5` |
 *
 * Addresses travel as their four or sixteen bytes, so host names are resolved before encoding. An
 * endpoint's weight other than 1 travels as the metadata key `endpoint_addr_weight`, as in
 * namerd's HTTP API; other metadata values as strings (JSON for non-strings).
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Net from "node:net"
import * as Address from "../../Address.js"
import * as Addr from "../../naming/Addr.js"
import * as Pb from "./Protobuf.js"
import { weightMetaKey } from "./Wire.js"

const run = <A>(f: () => A): Result.Result<A, string> => {
  try {
    return Result.succeed(f())
  } catch (e) {
    return Result.fail(e instanceof Error ? e.message : String(e))
  }
}

const writeMetadata = (w: Pb.Writer, field: number, meta: Readonly<Record<string, unknown>>): void => {
  for (const [k, v] of Object.entries(meta)) {
    if (v === undefined) continue
    w.message(field, (e) => e.string(1, k).string(2, typeof v === "string" ? v : JSON.stringify(v)))
  }
}

/**
 * `Replicas` for an address state. Hosts must be IP addresses (resolve names first); others are
 * left out.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeReplicas = (addr: Addr.Addr): Uint8Array =>
  Pb.encode((w) => {
    switch (addr._tag) {
      case "Pending":
        w.message(1, () => {})
        return
      case "Neg":
        w.message(2, () => {})
        return
      case "Failed":
        w.message(3, (f) => f.string(1, addr.cause))
        return
      case "Bound":
        w.message(4, (b) => {
          for (const a of addr.addresses) {
            const ip = ipBytes(a.host)
            if (ip === undefined) continue
            const meta = a.weight === 1 ? a.meta : { ...a.meta, [weightMetaKey]: a.weight }
            b.message(1, (e) => {
              e.varint(1, ip.length === 4 ? 0 : 1).bytes(2, ip).varint(3, a.port)
              if (typeof a.meta.nodeName === "string") e.message(4, (m) => m.string(1, a.meta.nodeName as string))
              writeMetadata(e, 5, meta)
            })
          }
          writeMetadata(b, 2, addr.meta)
        })
    }
  })

/**
 * The four or sixteen bytes of an IP address; `undefined` for a host name.
 *
 * @since 0.1.0
 * @category encoding
 */
export const ipBytes = (host: string): Uint8Array | undefined => {
  const kind = Net.isIP(host)
  if (kind === 4) return Uint8Array.from(host.split(".").map(Number))
  if (kind !== 6) return undefined
  const words = (part: string): Array<number> => {
    if (part === "") return []
    return part.split(":").flatMap((g) => {
      if (!g.includes(".")) return [parseInt(g, 16)]
      const [a, b, c, d] = g.split(".").map(Number) as [number, number, number, number]
      return [(a << 8) | b, (c << 8) | d]
    })
  }
  const gap = host.indexOf("::")
  const head = words(gap < 0 ? host : host.slice(0, gap))
  const tail = gap < 0 ? [] : words(host.slice(gap + 2))
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail]
  const out = new Uint8Array(16)
  all.forEach((word, i) => {
    out[2 * i] = word >> 8
    out[2 * i + 1] = word & 0xff
  })
  return out
}

const readMetaEntry = (r: Pb.Reader): readonly [string, string] => {
  let k = ""
  let v = ""
  for (let f = r.next(); f !== undefined; f = r.next()) {
    if (f.field === 1) k = Pb.stringOf(f, "metadata key")
    else if (f.field === 2) v = Pb.stringOf(f, "metadata value")
  }
  return [k, v]
}

const ipString = (b: Uint8Array): string => {
  if (b.length === 4) return [...b].join(".")
  if (b.length === 16) {
    const words: Array<string> = []
    for (let i = 0; i < 16; i += 2) words.push(((b[i]! << 8) | b[i + 1]!).toString(16))
    return words.join(":")
  }
  return Pb.invalid(`an endpoint address of ${b.length} bytes (expected 4 or 16)`)
}

const readEndpoint = (r: Pb.Reader): Address.Address => {
  let ip: string | undefined
  let port = 0
  const meta: Record<string, unknown> = {}
  for (let f = r.next(); f !== undefined; f = r.next()) {
    if (f.field === 2) ip = ipString(Pb.bytesOf(f, "Endpoint.address"))
    else if (f.field === 3) port = Pb.varintOf(f, "Endpoint.port")
    else if (f.field === 4) {
      const m = r.nested(Pb.bytesOf(f, "Endpoint.meta"))
      for (let g = m.next(); g !== undefined; g = m.next()) {
        if (g.field === 1) meta.nodeName = Pb.stringOf(g, "Meta.nodeName")
      }
    } else if (f.field === 5) {
      const [k, v] = readMetaEntry(r.nested(Pb.bytesOf(f, "Endpoint.metadata")))
      meta[k] = v
    }
  }
  if (ip === undefined) Pb.invalid("an endpoint without an address")
  if (!Number.isInteger(port) || port < 1 || port > 65535) Pb.invalid(`an endpoint port ${port} out of range`)
  const raw = meta[weightMetaKey]
  delete meta[weightMetaKey]
  const w = raw === undefined ? 1 : Number(raw)
  return Address.make(ip!, port, { weight: Number.isFinite(w) && w >= 0 ? w : 1, meta })
}

/**
 * `Replicas` as an address state (no result at all reads as `Neg`, as linkerd reads it).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeReplicas = (bytes: Uint8Array): Result.Result<Addr.Addr, string> =>
  run(() => {
    const r = new Pb.Reader(bytes)
    let addr: Addr.Addr = Addr.neg
    for (let f = r.next(); f !== undefined; f = r.next()) {
      switch (f.field) {
        case 1:
          addr = Addr.pending
          break
        case 2:
          addr = Addr.neg
          break
        case 3: {
          let message = "unknown"
          const m = r.nested(Pb.bytesOf(f, "Replicas.failed"))
          for (let g = m.next(); g !== undefined; g = m.next()) {
            if (g.field === 1) message = Pb.stringOf(g, "Failed.message")
          }
          addr = Addr.failed(message)
          break
        }
        case 4: {
          const addresses: Array<Address.Address> = []
          const meta: Record<string, unknown> = {}
          const b = r.nested(Pb.bytesOf(f, "Replicas.bound"))
          for (let g = b.next(); g !== undefined; g = b.next()) {
            if (g.field === 1) addresses.push(readEndpoint(b.nested(Pb.bytesOf(g, "Bound.endpoints"))))
            else if (g.field === 2) {
              const [k, v] = readMetaEntry(b.nested(Pb.bytesOf(g, "Bound.metadata")))
              meta[k] = v
            }
          }
          addr = Addr.bound(addresses, meta)
          break
        }
      }
    }
    return addr
  })
