import * as Effect from "effect/Effect"

/**
 * Polls `cond` every 20 ms (real time, for tests on real sockets, files and servers) until it holds;
 * fails naming `what` after `attempts` tries (5 s by default). Never a timed assertion: only a bound
 * on how long a test waits for something that should happen.
 */
export const waitFor = (cond: () => boolean, what: string, attempts = 250) =>
  Effect.gen(function*() {
    for (let i = 0; i < attempts; i++) {
      if (cond()) return
      yield* Effect.sleep("20 millis")
    }
    throw new Error(`timed out waiting for ${what}`)
  })
