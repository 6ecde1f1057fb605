/**
 * The `io.l5d.fs` namer: service discovery from a directory with one file per service. The file
 * `<rootDir>/users` answers `/#/io.l5d.fs/users` (sub-directories nest: `<rootDir>/eu/users`
 * answers `/#/io.l5d.fs/eu/users`); labels after the file are the residual. A missing file is
 * `Neg`; an empty file is bound with no addresses.
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.fs
 *   rootDir: disco
 * ```
 *
 * File format, one address per line: `host port`, optionally followed by a weight (`host port 2`
 * or linkerd's `host port * 2`). `#` starts a comment; blank lines are ignored. A malformed line is
 * logged with its file and line number and skipped; the other lines still count.
 *
 * Changes — creating, editing, atomically renaming over, or deleting a file — reach subscribers
 * through `fs.watch` on the file's directory, and through a rescan (a `stat`, and a read when the
 * file changed) every `rescanInterval` in case events are lost. If a file cannot be read after it
 * was read once, subscribers keep its last addresses (stale while error); the failure is logged and
 * counted (`namer/<label>/failures`).
 *
 * For the admin server, `enumerate` lists every file under `rootDir` (`/bound-names.json`) and
 * `state` shows each file's addresses and malformed lines (`/namer_state/<prefix>.json`).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as RcMap from "effect/RcMap"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import * as Address from "../Address.js"
import * as Addr from "../naming/Addr.js"
import * as Name from "../naming/Name.js"
import * as Namer from "../naming/Namer.js"
import * as NameTree from "../naming/NameTree.js"
import * as Path from "../naming/Path.js"
import * as Stats from "../Stats.js"

/**
 * The namer kind, also its default mount prefix (`/#/io.l5d.fs`).
 *
 * @since 0.1.0
 * @category constants
 */
export const kind = "io.l5d.fs"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The watched directory. Required. */
  readonly rootDir: string
  /** How often watched files are re-checked in case file events are lost. Defaults to 500 milliseconds. */
  readonly rescanInterval?: Duration.Input | undefined
  /** Whether to listen to file events (`fs.watch`) besides rescanning. Defaults to `true`. */
  readonly fileEvents?: boolean | undefined
  /** How long a file watch stays open after its last subscriber. Defaults to 10 seconds. */
  readonly idleTimeToLive?: Duration.Input | undefined
  /** Label for logs and metrics. Defaults to `#/io.l5d.fs`. */
  readonly label?: string | undefined
}

/**
 * One problem found while parsing a file.
 *
 * @since 0.1.0
 * @category models
 */
export interface LineError {
  readonly line: number
  readonly text: string
  readonly reason: string
}

/**
 * Parses a service file: its addresses and the malformed lines that were skipped.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseFile = (
  text: string
): { readonly addresses: Array<Address.Address>; readonly errors: Array<LineError> } => {
  const addresses: Array<Address.Address> = []
  const errors: Array<LineError> = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const hash = raw.indexOf("#")
    const line = (hash < 0 ? raw : raw.slice(0, hash)).trim()
    if (line === "") return
    const fields = line.split(/\s+/)
    const bad = (reason: string) => errors.push({ line: i + 1, text: raw, reason })
    const [host, portText, ...rest] = fields as [string, string | undefined, ...Array<string>]
    if (portText === undefined) return bad("expected `host port [weight]`")
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      return bad(`invalid port ${JSON.stringify(portText)} (1..65535)`)
    }
    const weightFields = rest[0] === "*" ? rest.slice(1) : rest
    if (weightFields.length > 1 || (rest[0] === "*" && weightFields.length === 0)) {
      return bad("expected `host port [weight]`")
    }
    let weight = 1
    if (weightFields.length === 1) {
      weight = Number(weightFields[0])
      if (!Number.isFinite(weight) || weight < 0 || !/^[\d.eE+-]+$/.test(weightFields[0]!)) {
        return bad(`invalid weight ${JSON.stringify(weightFields[0])}`)
      }
    }
    addresses.push(Address.make(host, Number(portText), { weight }))
  })
  return { addresses, errors }
}

type Entry =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Dir" }
  | {
    readonly _tag: "File"
    readonly sig: string
    readonly addr: Addr.Addr
    readonly errors: ReadonlyArray<LineError>
  }

const missing: Entry = { _tag: "Missing" }
const dir: Entry = { _tag: "Dir" }

const safeLabel = (l: string): boolean => l !== "." && l !== ".." && !/[/\\\0]/.test(l)

const sameEntry = (a: Entry, b: Entry): boolean =>
  a._tag === b._tag && (a._tag !== "File" || Addr.equals(a.addr, (b as { addr: Addr.Addr }).addr))

/**
 * Builds the namer. Its file watches live in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Namer.Namer, never, Scope.Scope> =>
  Effect.gen(function*() {
    const root = nodePath.resolve(options.rootDir)
    const label = options.label ?? `#/${kind}`
    const stats = (yield* Effect.service(Stats.Receiver)).scope("namer", label)
    const failures = stats.counter("failures")
    const rescan = Duration.fromInputUnsafe(options.rescanInterval ?? "500 millis")

    const read = (rel: string, previous: Entry | undefined): Effect.Effect<Entry> =>
      Effect.promise(async (): Promise<Entry> => {
        const file = nodePath.join(root, rel)
        let st: fs.Stats
        try {
          st = await fs.promises.stat(file)
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code
          if (code === "ENOENT" || code === "ENOTDIR") return missing
          throw e
        }
        if (st.isDirectory()) return dir
        const sig = `${st.ino}:${st.size}:${st.mtimeMs}`
        if (previous?._tag === "File" && previous.sig === sig) return previous
        const parsed = parseFile(await fs.promises.readFile(file, "utf8"))
        return { _tag: "File", sig, addr: Addr.bound(parsed.addresses), errors: parsed.errors }
      }).pipe(
        Effect.tap((e) =>
          e._tag !== "File" || e === previous || e.errors.length === 0 ? Effect.void : Effect.forEach(
            e.errors,
            (err) =>
              Effect.logWarning(
                `${nodePath.join(root, rel)}:${err.line}: malformed address skipped (${err.reason}): ${err.text.trim()}`
              ),
            { discard: true }
          )
        ),
        Effect.catchDefect((e) => {
          failures.incr()
          const reason = e instanceof Error ? e.message : String(e)
          return Effect.as(
            Effect.logWarning(`${label}: cannot read ${nodePath.join(root, rel)}: ${reason}`),
            previous ?? { _tag: "File", sig: "", addr: Addr.failed(reason), errors: [] } as Entry
          )
        })
      )

    const events = (directory: string): Stream.Stream<void> =>
      Stream.callback<void>((queue) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            try {
              const w = fs.watch(directory, () => void Queue.offerUnsafe(queue, undefined))
              w.on("error", () => w.close())
              return w
            } catch {
              return undefined
            }
          }),
          (w) => Effect.sync(() => w?.close())
        ), { bufferSize: 1, strategy: "sliding" })

    const open = new Map<string, SubscriptionRef.SubscriptionRef<Entry>>()
    const watches = yield* RcMap.make({
      lookup: (rel: string) =>
        Effect.gen(function*() {
          const ref = yield* SubscriptionRef.make(yield* read(rel, undefined))
          open.set(rel, ref)
          yield* Effect.addFinalizer(() => Effect.sync(() => open.delete(rel)))
          const triggers = options.fileEvents === false
            ? Stream.tick(rescan)
            : Stream.merge(events(nodePath.dirname(nodePath.join(root, rel))), Stream.tick(rescan))
          yield* triggers.pipe(
            Stream.runForEach(() =>
              Effect.flatMap(
                read(rel, SubscriptionRef.getUnsafe(ref)),
                (next) => sameEntry(next, SubscriptionRef.getUnsafe(ref)) ? Effect.void : SubscriptionRef.set(ref, next)
              )
            ),
            Effect.forkScoped
          )
          return ref
        }),
      idleTimeToLive: options.idleTimeToLive ?? "10 seconds"
    })

    const watch = (rel: string): Stream.Stream<Entry> =>
      Stream.unwrap(Effect.map(RcMap.get(watches, rel), SubscriptionRef.changes))

    const addrOf = (rel: string): Stream.Stream<Addr.Addr> =>
      watch(rel).pipe(
        Stream.map((e): Addr.Addr => e._tag === "File" ? e.addr : Addr.neg),
        Stream.changesWith(Addr.equals)
      )

    const lookupFrom = (
      consumed: ReadonlyArray<string>,
      rest: ReadonlyArray<string>
    ): Stream.Stream<NameTree.NameTree<Name.Name>> => {
      const [head, ...tail] = rest
      if (head === undefined || !safeLabel(head)) return Name.constant(NameTree.neg)
      const labels = [...consumed, head]
      const rel = labels.join("/")
      return watch(rel).pipe(
        Stream.map((e) => e._tag),
        Stream.changes,
        Stream.switchMap((tag) =>
          tag === "File"
            ? Name.constant<NameTree.NameTree<Name.Name>>(
              NameTree.leaf(Name.bound(Path.fromLabels(labels), addrOf(rel), Path.fromLabels(tail)))
            )
            : tag === "Dir"
            ? lookupFrom(labels, tail)
            : Name.constant<NameTree.NameTree<Name.Name>>(NameTree.neg)
        )
      )
    }

    const enumerate = Effect.map(
      Effect.promise(() => listFiles(root)),
      (files) => files.map((rel) => Path.fromLabels(rel.split("/")))
    )

    const state = Effect.promise(async (): Promise<FsState> => {
      const files: Record<string, FileState> = {}
      let error: string | undefined
      const listed = await listFiles(root)
      try {
        if (!(await fs.promises.stat(root)).isDirectory()) error = `rootDir ${root} is not a directory`
      } catch (e) {
        error = `rootDir ${root} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`
      }
      const watched = new Map(Array.from(open, ([rel, ref]) => [rel, SubscriptionRef.getUnsafe(ref)] as const))
      for (const rel of [...new Set([...listed, ...watched.keys()])].sort()) {
        const entry = watched.get(rel)
        const id = Path.show(Path.fromLabels(rel.split("/")))
        if (entry === undefined) files[id] = { watched: false, ...(await parsedNow(nodePath.join(root, rel))) }
        else if (entry._tag === "File") files[id] = { watched: true, ...entryState(entry.addr, entry.errors) }
        else if (entry._tag === "Missing") files[id] = { watched: true, exists: false }
      }
      return { kind, rootDir: root, ...(error !== undefined ? { error } : {}), files }
    })

    return { ...Namer.make((path) => lookupFrom([], path.labels)), enumerate, state }
  })

/**
 * What `/namer_state/<prefix>.json` shows for an fs namer: the resolved `rootDir`, and per file
 * (by id, relative to the mount) whether a lookup watches it and its last parsed addresses (for a
 * watched file, the answer its subscribers have; otherwise read now) and malformed lines.
 *
 * @since 0.1.0
 * @category models
 */
export interface FsState {
  readonly kind: typeof kind
  readonly rootDir: string
  /** Why `rootDir` cannot be listed, if it cannot. */
  readonly error?: string
  readonly files: Readonly<Record<string, FileState>>
}

/**
 * One file's state in `FsState`.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileState {
  /** Whether a lookup currently watches the file. */
  readonly watched: boolean
  /** `false` for a watched file that was deleted. */
  readonly exists?: boolean
  readonly addresses?: ReadonlyArray<{ readonly ip: string; readonly port: number; readonly weight: number }>
  readonly errors?: ReadonlyArray<LineError>
  /** Why the file cannot be read. */
  readonly error?: string
}

const entryState = (addr: Addr.Addr, errors: ReadonlyArray<LineError>): Omit<FileState, "watched"> =>
  addr._tag === "Failed"
    ? { error: addr.cause }
    : {
      addresses: (Addr.addresses(addr) ?? []).map((a) => ({ ip: a.host, port: a.port, weight: a.weight })),
      errors
    }

const parsedNow = async (file: string): Promise<Omit<FileState, "watched">> => {
  try {
    const parsed = parseFile(await fs.promises.readFile(file, "utf8"))
    return entryState(Addr.bound(parsed.addresses), parsed.errors)
  } catch (e) {
    return { error: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }
  }
}

/**
 * The service files under `root`, recursively, as `/`-joined relative paths, sorted. Hidden
 * entries (a leading `.`, as editors' temporary files) and names that are not path labels are
 * skipped; directories are recursed into (not through symbolic links); an unreadable directory
 * counts as empty.
 *
 * @since 0.1.0
 * @category enumeration
 */
export const listFiles = async (root: string): Promise<Array<string>> => {
  const out: Array<string> = []
  const walk = async (labels: ReadonlyArray<string>): Promise<void> => {
    let entries: Array<fs.Dirent>
    try {
      entries = await fs.promises.readdir(nodePath.join(root, ...labels), { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      if (e.name.startsWith(".") || !safeLabel(e.name)) continue
      if (e.isDirectory()) await walk([...labels, e.name])
      else if (e.isFile()) out.push([...labels, e.name].join("/"))
      else if (e.isSymbolicLink()) {
        const st = await fs.promises.stat(nodePath.join(root, ...labels, e.name)).catch(() => undefined)
        if (st?.isFile() === true) out.push([...labels, e.name].join("/"))
      }
    }
  }
  await walk([])
  return out.sort()
}
