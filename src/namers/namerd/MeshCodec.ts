/**
 * The messages of linkerd's mesh API (package `io.linkerd.mesh`: `dtab.proto`, `interpreter.proto`,
 * `resolver.proto`, `delegator.proto`), encoded and decoded with the field numbers linkerd's protos
 * give, so a linkerd `io.l5d.mesh` interpreter can talk to weir's namerd and weir's to linkerd's.
 *
 * | message | fields |
 * | --- | --- |
 * | `Path` | `repeated bytes elems = 1` |
 * | `PathNameTree` | oneof `Nop nop = 1` (NEG 0, FAIL 1, EMPTY 2), `Alt alt = 2`, `Union union = 3`, `Leaf leaf = 4` |
 * | `Dtab` | `repeated Dentry dentries = 1`; `Dentry { Prefix prefix = 1; PathNameTree dst = 2 }`; a prefix element is `bytes label = 1` or `Wildcard wildcard = 2` |
 * | `VersionedDtab` | `Version version = 1` (`bytes id = 1`), `Dtab dtab = 2` |
 * | `BindReq` | `Path root = 1`, `Path name = 2`, `Dtab dtab = 3` |
 * | `BoundTreeRsp` | `BoundNameTree tree = 1`: oneof neg 1, fail 2, empty 3, alt 4, union 5, `Leaf leaf = 6 { Path id = 1; Path residual = 2 }` |
 * | `ReplicasReq` | `Path id = 1` (the answer, `Replicas`, is in `MeshReplicas.ts`) |
 * | `DtabReq` / `DtabRsp` | `Path root = 1` / `VersionedDtab dtab = 1` |
 * | `DelegateTreeReq` | `Path root = 1`, `PathNameTree tree = 2`, `Dtab dtab = 3` |
 * | `DelegateTreeRsp` | `BoundDelegateTree tree = 1`: `Path path = 1`, `Dentry dentry = 2`, oneof neg 3, fail 4, empty 5, alt 6, union 7, leaf 8, delegate 9, transformation 10, `string exception = 11` |
 *
 * Decoders return a `Result` with a readable message; they are bounded by `Protobuf.maxDepth`.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import type * as Delegation from "../../naming/Delegation.js"
import * as Dentry from "../../naming/Dentry.js"
import * as Dtab from "../../naming/Dtab.js"
import * as NameTree from "../../naming/NameTree.js"
import * as Path from "../../naming/Path.js"
import * as Pb from "./Protobuf.js"

/**
 * A bound leaf as the mesh API carries it: the client id and the residual path.
 *
 * @since 0.1.0
 * @category model
 */
export interface BoundLeaf {
  readonly id: Path.Path
  readonly residual: Path.Path
}

/**
 * A request naming a path under a root (`BindReq`, `DelegateTreeReq`).
 *
 * @since 0.1.0
 * @category model
 */
export interface BindReq {
  readonly root: Path.Path | undefined
  readonly name: Path.Path | undefined
  readonly dtab: Dtab.Dtab
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

const label = (bytes: Uint8Array): string => {
  try {
    return utf8.decode(bytes)
  } catch {
    return Buffer.from(bytes).toString("latin1")
  }
}

const run = <A>(f: () => A): Result.Result<A, string> => {
  try {
    return Result.succeed(f())
  } catch (e) {
    return Result.fail(e instanceof Error ? e.message : String(e))
  }
}

// ---- encoding -------------------------------------------------------------------------------

const writePath = (w: Pb.Writer, p: Path.Path): void => {
  for (const l of p.labels) w.string(1, l)
}

const writePathTree = (w: Pb.Writer, t: NameTree.NameTree<Path.Path>): void => {
  switch (t._tag) {
    case "Neg":
      w.varint(1, 0)
      return
    case "Fail":
      w.varint(1, 1)
      return
    case "Empty":
      w.varint(1, 2)
      return
    case "Alt":
      w.message(2, (a) => t.trees.forEach((c) => a.message(1, (x) => writePathTree(x, c))))
      return
    case "Union":
      w.message(
        3,
        (u) =>
          t.trees.forEach((c) => u.message(1, (x) => x.double(1, c.weight).message(2, (y) => writePathTree(y, c.tree))))
      )
      return
    case "Leaf":
      w.message(4, (l) => l.message(1, (p) => writePath(p, t.value)))
  }
}

const writeDentry = (w: Pb.Writer, d: Dentry.Dentry): void => {
  w.message(
    1,
    (p) =>
      d.prefix.forEach((e) => p.message(1, (x) => e._tag === "Any" ? x.message(2, () => {}) : x.string(1, e.value)))
  )
  w.message(2, (t) => writePathTree(t, d.dst))
}

const writeDtab = (w: Pb.Writer, dtab: Dtab.Dtab): void => {
  for (const d of dtab.dentries) w.message(1, (x) => writeDentry(x, d))
}

/**
 * `BindReq` (also the shape of `DelegateTreeReq` but for its tree, see `encodeDelegateTreeReq`).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeBindReq = (root: Path.Path, name: Path.Path, dtab: Dtab.Dtab): Uint8Array =>
  Pb.encode((w) => {
    w.message(1, (p) => writePath(p, root)).message(2, (p) => writePath(p, name))
    if (dtab.dentries.length > 0) w.message(3, (d) => writeDtab(d, dtab))
  })

/**
 * `DelegateTreeReq`: the root, the path as a leaf tree, the extra dtab.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeDelegateTreeReq = (root: Path.Path, name: Path.Path, dtab: Dtab.Dtab): Uint8Array =>
  Pb.encode((w) => {
    w.message(1, (p) => writePath(p, root)).message(2, (t) => writePathTree(t, NameTree.leaf(name)))
    if (dtab.dentries.length > 0) w.message(3, (d) => writeDtab(d, dtab))
  })

/**
 * `ReplicasReq` and `DtabReq`: one path in field 1.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodePathReq = (path: Path.Path): Uint8Array => Pb.encode((w) => w.message(1, (p) => writePath(p, path)))

/**
 * `BoundTreeRsp`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeBoundTree = (tree: NameTree.NameTree<BoundLeaf>): Uint8Array =>
  Pb.encode((w) => w.message(1, (t) => writeBoundTree(t, tree)))

const writeBoundTree = (w: Pb.Writer, t: NameTree.NameTree<BoundLeaf>): void => {
  switch (t._tag) {
    case "Neg":
      w.message(1, () => {})
      return
    case "Fail":
      w.message(2, () => {})
      return
    case "Empty":
      w.message(3, () => {})
      return
    case "Alt":
      w.message(4, (a) => t.trees.forEach((c) => a.message(1, (x) => writeBoundTree(x, c))))
      return
    case "Union":
      w.message(
        5,
        (u) =>
          t.trees.forEach((c) =>
            u.message(1, (x) => x.double(1, c.weight).message(2, (y) => writeBoundTree(y, c.tree)))
          )
      )
      return
    case "Leaf":
      w.message(
        6,
        (l) => l.message(1, (p) => writePath(p, t.value.id)).message(2, (p) => writePath(p, t.value.residual))
      )
  }
}

/**
 * `DtabRsp` for a stored dtab and its version.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeDtabRsp = (dtab: Dtab.Dtab, version: string): Uint8Array =>
  Pb.encode((w) => w.message(1, (v) => v.message(1, (x) => x.string(1, version)).message(2, (d) => writeDtab(d, dtab))))

/**
 * `DelegateTreeRsp` for weir's delegation tree (the admin delegator's JSON, with paths and dentries
 * as text).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeDelegateTree = (tree: Delegation.DelegateTree): Uint8Array =>
  Pb.encode((w) => w.message(1, (t) => writeDelegateTree(t, tree)))

const writeDelegateTree = (w: Pb.Writer, t: Delegation.DelegateTree): void => {
  const path = Path.parse(t.path)
  if (Result.isSuccess(path)) w.message(1, (p) => writePath(p, path.success))
  if (t.dentry !== undefined) {
    const d = Dentry.parse(`${t.dentry.prefix}=>${t.dentry.dst}`)
    if (Result.isSuccess(d)) w.message(2, (x) => writeDentry(x, d.success))
  }
  switch (t.type) {
    case "neg":
      w.message(3, () => {})
      return
    case "fail":
      w.message(4, () => {})
      return
    case "empty":
      w.message(5, () => {})
      return
    case "alt":
      w.message(6, (a) => t.alt.forEach((c) => a.message(1, (x) => writeDelegateTree(x, c))))
      return
    case "union":
      w.message(
        7,
        (u) =>
          t.union.forEach((c) =>
            u.message(1, (x) => x.double(1, c.weight).message(2, (y) => writeDelegateTree(y, c.tree)))
          )
      )
      return
    case "leaf": {
      const id = Path.parse(t.bound.id)
      const residual = Path.parse(t.bound.path)
      if (Result.isFailure(id)) {
        w.message(3, () => {})
        return
      }
      w.message(8, (l) => {
        l.message(1, (p) => writePath(p, id.success))
        l.message(2, (p) => writePath(p, Result.getOrElse(residual, () => Path.empty)))
      })
      return
    }
    case "delegate":
      w.message(9, (x) => writeDelegateTree(x, t.delegate))
      return
    case "exception":
      w.string(11, t.message)
  }
}

// ---- decoding -------------------------------------------------------------------------------

const readPath = (r: Pb.Reader): Path.Path => {
  const labels: Array<string> = []
  for (let f = r.next(); f !== undefined; f = r.next()) {
    if (f.field === 1) {
      const l = label(Pb.bytesOf(f, "Path.elems"))
      if (l === "") Pb.invalid("a path element is empty")
      labels.push(l)
    }
  }
  return Path.fromLabels(labels)
}

const readPathTree = (r: Pb.Reader): NameTree.NameTree<Path.Path> => {
  let tree: NameTree.NameTree<Path.Path> | undefined
  for (let f = r.next(); f !== undefined; f = r.next()) {
    switch (f.field) {
      case 1: {
        const n = Pb.varintOf(f, "PathNameTree.nop")
        tree = n === 0
          ? NameTree.neg
          : n === 1
          ? NameTree.fail
          : n === 2
          ? NameTree.empty
          : Pb.invalid(`unknown Nop ${n}`)
        break
      }
      case 2: {
        const trees: Array<NameTree.NameTree<Path.Path>> = []
        const a = r.nested(Pb.bytesOf(f, "PathNameTree.alt"))
        for (let g = a.next(); g !== undefined; g = a.next()) {
          if (g.field === 1) trees.push(readPathTree(a.nested(Pb.bytesOf(g, "Alt.trees"))))
        }
        tree = NameTree.alt(...trees)
        break
      }
      case 3: {
        const trees: Array<NameTree.Weighted<Path.Path>> = []
        const u = r.nested(Pb.bytesOf(f, "PathNameTree.union"))
        for (let g = u.next(); g !== undefined; g = u.next()) {
          if (g.field === 1) trees.push(readWeighted(u.nested(Pb.bytesOf(g, "Union.trees")), readPathTree))
        }
        tree = NameTree.union(...trees)
        break
      }
      case 4: {
        const l = r.nested(Pb.bytesOf(f, "PathNameTree.leaf"))
        let id = Path.empty
        for (let g = l.next(); g !== undefined; g = l.next()) {
          if (g.field === 1) id = readPath(l.nested(Pb.bytesOf(g, "Leaf.id")))
        }
        tree = NameTree.leaf(id)
        break
      }
    }
  }
  return tree ?? Pb.invalid("a name tree node without a value")
}

const readWeighted = <A>(r: Pb.Reader, readTree: (r: Pb.Reader) => NameTree.NameTree<A>): NameTree.Weighted<A> => {
  let weight = 0
  let tree: NameTree.NameTree<A> | undefined
  for (let f = r.next(); f !== undefined; f = r.next()) {
    if (f.field === 1) weight = Pb.doubleOf(f, "Weighted.weight")
    else if (f.field === 2) tree = readTree(r.nested(Pb.bytesOf(f, "Weighted.tree")))
  }
  if (!Number.isFinite(weight) || weight < 0) Pb.invalid(`invalid union weight ${weight}`)
  return NameTree.weighted(tree ?? Pb.invalid("a union member without a tree"), weight)
}

const readDentry = (r: Pb.Reader): Dentry.Dentry => {
  const prefix: Array<Dentry.Elem> = []
  let dst: NameTree.NameTree<Path.Path> = NameTree.neg
  for (let f = r.next(); f !== undefined; f = r.next()) {
    if (f.field === 1) {
      const p = r.nested(Pb.bytesOf(f, "Dentry.prefix"))
      for (let g = p.next(); g !== undefined; g = p.next()) {
        if (g.field !== 1) continue
        const e = p.nested(Pb.bytesOf(g, "Prefix.elems"))
        let elem: Dentry.Elem | undefined
        for (let h = e.next(); h !== undefined; h = e.next()) {
          if (h.field === 1) elem = { _tag: "Label", value: label(Pb.bytesOf(h, "Elem.label")) }
          else if (h.field === 2) elem = { _tag: "Any" }
        }
        prefix.push(elem ?? Pb.invalid("a prefix element without a value"))
      }
    } else if (f.field === 2) dst = readPathTree(r.nested(Pb.bytesOf(f, "Dentry.dst")))
  }
  return Dentry.make(prefix, dst)
}

const readDtab = (r: Pb.Reader): Dtab.Dtab => {
  const dentries: Array<Dentry.Dentry> = []
  for (let f = r.next(); f !== undefined; f = r.next()) {
    if (f.field === 1) dentries.push(readDentry(r.nested(Pb.bytesOf(f, "Dtab.dentries"))))
  }
  if (dentries.length > Dtab.maxLength) Pb.invalid(`a dtab longer than ${Dtab.maxLength} dentries`)
  return Dtab.make(dentries)
}

/**
 * `BindReq` or `DelegateTreeReq` (whose tree must be a single path): root, name, dtab; absent
 * paths are `undefined`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeBindReq = (
  bytes: Uint8Array,
  options?: { readonly tree?: boolean }
): Result.Result<BindReq, string> =>
  run(() => {
    const r = new Pb.Reader(bytes)
    let root: Path.Path | undefined
    let name: Path.Path | undefined
    let dtab = Dtab.empty
    for (let f = r.next(); f !== undefined; f = r.next()) {
      if (f.field === 1) root = readPath(r.nested(Pb.bytesOf(f, "root")))
      else if (f.field === 2 && options?.tree !== true) name = readPath(r.nested(Pb.bytesOf(f, "name")))
      else if (f.field === 2) {
        const t = readPathTree(r.nested(Pb.bytesOf(f, "tree")))
        name = t._tag === "Leaf" ? t.value : Pb.invalid("only a single path can be delegated")
      } else if (f.field === 3) dtab = readDtab(r.nested(Pb.bytesOf(f, "dtab")))
    }
    return { root, name, dtab }
  })

/**
 * `ReplicasReq` or `DtabReq`: the path in field 1, `undefined` when absent.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodePathReq = (bytes: Uint8Array): Result.Result<Path.Path | undefined, string> =>
  run(() => {
    const r = new Pb.Reader(bytes)
    let path: Path.Path | undefined
    for (let f = r.next(); f !== undefined; f = r.next()) {
      if (f.field === 1) path = readPath(r.nested(Pb.bytesOf(f, "path")))
    }
    return path
  })

const readBoundTree = (r: Pb.Reader): NameTree.NameTree<BoundLeaf> => {
  let tree: NameTree.NameTree<BoundLeaf> | undefined
  for (let f = r.next(); f !== undefined; f = r.next()) {
    switch (f.field) {
      case 1:
        tree = NameTree.neg
        break
      case 2:
        tree = NameTree.fail
        break
      case 3:
        tree = NameTree.empty
        break
      case 4: {
        const trees: Array<NameTree.NameTree<BoundLeaf>> = []
        const a = r.nested(Pb.bytesOf(f, "BoundNameTree.alt"))
        for (let g = a.next(); g !== undefined; g = a.next()) {
          if (g.field === 1) trees.push(readBoundTree(a.nested(Pb.bytesOf(g, "Alt.trees"))))
        }
        tree = NameTree.alt(...trees)
        break
      }
      case 5: {
        const trees: Array<NameTree.Weighted<BoundLeaf>> = []
        const u = r.nested(Pb.bytesOf(f, "BoundNameTree.union"))
        for (let g = u.next(); g !== undefined; g = u.next()) {
          if (g.field === 1) trees.push(readWeighted(u.nested(Pb.bytesOf(g, "Union.trees")), readBoundTree))
        }
        tree = NameTree.union(...trees)
        break
      }
      case 6: {
        const l = r.nested(Pb.bytesOf(f, "BoundNameTree.leaf"))
        let id: Path.Path | undefined
        let residual = Path.empty
        for (let g = l.next(); g !== undefined; g = l.next()) {
          if (g.field === 1) id = readPath(l.nested(Pb.bytesOf(g, "Leaf.id")))
          else if (g.field === 2) residual = readPath(l.nested(Pb.bytesOf(g, "Leaf.residual")))
        }
        if (id === undefined || id.labels.length === 0) Pb.invalid("a bound leaf without an id")
        tree = NameTree.leaf({ id: id!, residual })
        break
      }
    }
  }
  return tree ?? Pb.invalid("a bound tree node without a value")
}

/**
 * `BoundTreeRsp`: the bound tree.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeBoundTree = (bytes: Uint8Array): Result.Result<NameTree.NameTree<BoundLeaf>, string> =>
  run(() => {
    const r = new Pb.Reader(bytes)
    let tree: NameTree.NameTree<BoundLeaf> | undefined
    for (let f = r.next(); f !== undefined; f = r.next()) {
      if (f.field === 1) tree = readBoundTree(r.nested(Pb.bytesOf(f, "tree")))
    }
    return tree ?? Pb.invalid("a response without a tree")
  })

/**
 * `DtabRsp`: the dtab and its version (`undefined` when absent).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeDtabRsp = (
  bytes: Uint8Array
): Result.Result<{ readonly dtab: Dtab.Dtab; readonly version: string | undefined }, string> =>
  run(() => {
    const r = new Pb.Reader(bytes)
    let dtab = Dtab.empty
    let version: string | undefined
    for (let f = r.next(); f !== undefined; f = r.next()) {
      if (f.field !== 1) continue
      const v = r.nested(Pb.bytesOf(f, "DtabRsp.dtab"))
      for (let g = v.next(); g !== undefined; g = v.next()) {
        if (g.field === 1) {
          const id = v.nested(Pb.bytesOf(g, "VersionedDtab.version"))
          for (let h = id.next(); h !== undefined; h = id.next()) {
            if (h.field === 1) version = label(Pb.bytesOf(h, "Version.id"))
          }
        } else if (g.field === 2) dtab = readDtab(v.nested(Pb.bytesOf(g, "VersionedDtab.dtab")))
      }
    }
    return { dtab, version }
  })
