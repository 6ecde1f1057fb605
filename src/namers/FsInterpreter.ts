/**
 * The interpreter `io.l5d.fs`: names are bound by the router's namers, as by the default
 * interpreter, under a dtab read from a file (`dtabFile`) placed before the router's own: the
 * router's `dtab` and a request's `l5d-dtab` still override it. The file is read at start and every
 * `pollInterval` (1 second by default), so it can be edited live; a change re-binds every name in
 * use. A file that cannot be read, or does not parse as a dtab, keeps the last good dtab (empty before
 * the first) and is logged with the reason, once per distinct problem.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as fs from "node:fs"
import * as Dtab from "../naming/Dtab.js"
import type * as Interpreter from "../naming/Interpreter.js"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The file holding the dtab. */
  readonly dtabFile: string
  /** How often the file is read again. Defaults to 1 second. */
  readonly pollInterval?: Duration.Input | undefined
}

/** Largest dtab file read; a larger one is a problem, not a dtab. */
const maxBytes = 1024 * 1024

const read = (file: string): Result.Result<string, string> => {
  try {
    const stat = fs.statSync(file)
    if (stat.size > maxBytes) return Result.fail(`${file} is larger than ${maxBytes} bytes`)
    return Result.succeed(fs.readFileSync(file, "utf8"))
  } catch (e) {
    return Result.fail(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? "error"})`)
  }
}

/**
 * `base` (the interpreter of the configured namers) under the dtab of `options.dtabFile`, followed
 * in the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  base: Interpreter.NameInterpreter,
  options: Options
): Effect.Effect<Interpreter.NameInterpreter, never, Scope.Scope> =>
  Effect.gen(function*() {
    const file = options.dtabFile
    const ref = yield* SubscriptionRef.make<Dtab.Dtab>(Dtab.empty)
    let lastText: string | undefined
    let lastProblem: string | undefined
    const problem = (message: string) =>
      Effect.suspend(() => {
        if (message === lastProblem) return Effect.void
        lastProblem = message
        return Effect.logWarning(`io.l5d.fs interpreter: ${message}; keeping the last dtab`)
      })
    const poll = Effect.suspend(() => {
      const text = read(file)
      if (Result.isFailure(text)) return problem(text.failure)
      if (text.success === lastText) return Effect.void
      const parsed = Dtab.parse(text.success)
      if (Result.isFailure(parsed)) return problem(`${file} is not a dtab: ${parsed.failure.message}`)
      lastText = text.success
      lastProblem = undefined
      return SubscriptionRef.set(ref, parsed.success)
    })
    yield* poll
    yield* Effect.forkScoped(
      Effect.forever(Effect.andThen(Effect.sleep(options.pollInterval ?? "1 second"), poll))
    )
    const under = <A, E>(f: (dtab: Dtab.Dtab) => Stream.Stream<A, E>): Stream.Stream<A, E> =>
      SubscriptionRef.changes(ref).pipe(Stream.changesWith(Dtab.equals), Stream.switchMap(f))
    return {
      ...base,
      bind: (dtab, path) => under((file) => base.bind(Dtab.concat(file, dtab), path)),
      bindStates: (dtab, path) => under((file) => base.bindStates(Dtab.concat(file, dtab), path)),
      lookup: (dtab, path) => under((file) => base.lookup(Dtab.concat(file, dtab), path))
    }
  })
