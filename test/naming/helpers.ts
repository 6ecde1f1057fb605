import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { Addr, Name, Namer, NameTree, Path } from "../../src/index.js"
import type { Dtab, Interpreter } from "../../src/index.js"

/** A namer whose answers tests set by hand; counts opened and closed lookups. */
export interface TestNamer extends Namer.Namer {
  readonly set: (path: string, tree: NameTree.NameTree<Name.Name> | "pending" | Error) => Effect.Effect<void>
  readonly opened: () => number
  readonly closed: () => number
}

type Answer = NameTree.NameTree<Name.Name> | "pending" | Error

export const makeTestNamer = (initial: Record<string, Answer> = {}): Effect.Effect<TestNamer> =>
  Effect.sync(() => {
    const refs = new Map<string, SubscriptionRef.SubscriptionRef<Answer>>()
    let opened = 0
    let closed = 0
    const ref = (key: string) =>
      Effect.suspend(() => {
        const r = refs.get(key)
        if (r !== undefined) return Effect.succeed(r)
        return Effect.map(SubscriptionRef.make<Answer>(initial[key] ?? NameTree.neg), (made) => {
          refs.set(key, made)
          return made
        })
      })
    return {
      set: (path, tree) => Effect.flatMap(ref(path), (r) => SubscriptionRef.set(r, tree)),
      opened: () => opened,
      closed: () => closed,
      lookup: (path) =>
        Stream.unwrap(Effect.map(ref(Path.show(path)), (r) =>
          SubscriptionRef.changes(r).pipe(
            Stream.filter((a) => a !== "pending"),
            Stream.mapEffect((a) =>
              a instanceof Error
                ? Effect.fail(new Namer.NamerError({ path: Path.show(path), reason: a.message }))
                : Effect.succeed(a as NameTree.NameTree<Name.Name>)
            ),
            Stream.onStart(Effect.sync(() => opened++)),
            Stream.ensuring(Effect.sync(() => closed++))
          )))
    }
  })

/** Lets forked fibers run. */
export const settle = Effect.gen(function*() {
  for (let i = 0; i < 50; i++) yield* Effect.yieldNow
})

/** The current addresses of a bound name, as `host:port`. */
export const addrOf = (b: Name.Bound): Effect.Effect<Addr.Addr> =>
  Stream.runHead(Stream.filter(b.addr, (a) => a._tag !== "Pending")).pipe(
    Effect.map((o) => o._tag === "Some" ? o.value : Addr.pending)
  )

/** Renders a bound tree with ids and residuals: `/$/inet/8080` or `/$/inet/8080 (/rest)`. */
export const showBound = (t: Interpreter.BoundTree): string =>
  NameTree.showWith(t, (b) => Name.idString(b) + (b.residual.labels.length === 0 ? "" : `(${Path.show(b.residual)})`))

/** The union of addresses of every leaf, as `host:port[@weight]`. */
export const addresses = (t: Interpreter.BoundTree): Effect.Effect<Array<string>> =>
  Effect.forEach(NameTree.leaves(t), addrOf).pipe(
    Effect.map((addrs) =>
      addrs.flatMap((a) =>
        a._tag === "Bound"
          ? a.addresses.map((x) => {
            const w = x.meta[Addr.weightKey]
            return `${x.host}:${x.port}` + (w === undefined ? "" : `@${w}`)
          })
          : []
      ).sort()
    )
  )

/** Subscribes to a binding in the background and keeps every emitted tree (shown). */
export const observe = (interp: Interpreter.NameInterpreter, dtab: Dtab.Dtab, path: string) =>
  Effect.gen(function*() {
    const seen: Array<string> = []
    const errors: Array<string> = []
    const fiber = yield* interp.bind(dtab, Path.read(path)).pipe(
      Stream.runForEach((t) => Effect.sync(() => seen.push(showBound(t)))),
      Effect.catch((e) => Effect.sync(() => errors.push(e.message))),
      Effect.forkChild
    )
    yield* settle
    return { seen, errors, fiber, last: () => seen[seen.length - 1], stop: Fiber.interrupt(fiber) }
  })
