/**
 * Editing a stack by role and configuring it through its params (docs/core.md).
 *
 * Run: `npx tsx examples/library/stack.ts`
 */
import { Effect } from "effect"
import { ClientStack, Service, Stack, Timeout } from "../../src/index.js"

const users = Service.make((id: string) => Effect.succeed(`user ${id}`))

export const program = Effect.gen(function*() {
  const stack = Stack.remove(ClientStack.endpointStack<string, string, never, never>(), "Admission")
  const client = yield* Stack.build(stack, users).pipe(
    Effect.provideService(Timeout.AttemptTimeout, "250 millis")
  )
  return { roles: Stack.roles(stack), answer: yield* client.call("42") }
})

if (import.meta.url === `file://${process.argv[1]}`) {
  Effect.runPromise(Effect.scoped(program)).then(console.log)
}
