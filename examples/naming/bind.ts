/**
 * Binding logical names as a library: an interpreter over the `io.l5d.fs` namer (one file per
 * service in `examples/naming/disco`), a dtab that splits `/svc/users` 90/10 between `users` and
 * `users-v2`, the live address sets a load balancer would consume, and the delegator's explanation.
 *
 * Run: `npx tsx examples/naming/bind.ts`
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { fileURLToPath } from "node:url"
import { Address, Delegation, Dtab, FsNamer, Interpreter, Name, NameTree, Path } from "../../src/index.js"

const disco = fileURLToPath(new URL("./disco", import.meta.url))

/** Binds `/svc/users` and returns, per bound leaf, its id and current addresses; plus the delegation JSON. */
export const program = Effect.scoped(Effect.gen(function*() {
  const fs = yield* FsNamer.make({ rootDir: disco })
  const interpreter = yield* Interpreter.make({ namers: [[Path.read("/#/io.l5d.fs"), fs]] })
  const dtab = Dtab.read(`
    /svc       => /#/io.l5d.fs ;
    /svc/users => 9 * /#/io.l5d.fs/users & 1 * /#/io.l5d.fs/users-v2 ;
  `)
  const tree = yield* Interpreter.bindOnce(interpreter, dtab, Path.read("/svc/users"))
  const leaves = yield* Effect.forEach(NameTree.leaves(tree), (bound) =>
    Name.addresses(bound).pipe(
      Stream.runHead,
      Effect.map((addrs) => ({
        id: Name.idString(bound),
        addresses: addrs._tag === "Some" ? addrs.value.map(Address.key) : []
      }))
    ))
  const explained = yield* Delegation.explain(interpreter, dtab, Path.read("/svc/users"))
  return { dtab: Dtab.show(dtab), leaves, explained }
}))

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  Effect.runPromise(program).then((r) => console.log(JSON.stringify(r, null, 2)))
}
