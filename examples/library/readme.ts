/**
 * The README's library example, kept here so that it typechecks and runs.
 *
 * Run: `npx tsx examples/library/readme.ts`
 */
import { Effect } from "effect"
import { ClientStack, Deadline, ResponseClass, Retries, Service, Timeout } from "../../src/index.js"

const users = Service.make((id: string) => Effect.succeed({ id, name: "Ada" }))

export const program = Effect.gen(function*() {
  const client = yield* ClientStack.single(users).pipe(
    Effect.provideService(Timeout.TotalTimeout, "1 second"),
    Effect.provideService(Timeout.AttemptTimeout, "100 millis"),
    Effect.provideService(Retries.Config, { classifier: ResponseClass.retryOnTimeouts })
  )
  return yield* client.call("42").pipe(Deadline.withTimeout("2 seconds"))
})

if (import.meta.url === `file://${process.argv[1]}`) {
  Effect.runPromise(Effect.scoped(program)).then(console.log)
}
