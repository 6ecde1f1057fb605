/**
 * Log levels that change at runtime, per logger name, for the admin server's `/logging` page and
 * `/logging.json` (linkerd's): weir logs through Effect's logger; a log call names its logger with
 * the `logger` log annotation (the proxy annotates each router's and each namer's fibers:
 * `weir.router.<label>`, `weir.namer.<prefix>`), and calls without one belong to `root`.
 *
 * A logger's level is its own when it was set, else its nearest dotted ancestor's (`weir.router.web`
 * → `weir.router` → `weir`), else `root`'s. `provide` lets every level through Effect's own filter
 * (`References.MinimumLogLevel`) and installs a logger that checks the level at the time of the
 * call before handing the entry to the loggers that were installed before.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"
import * as References from "effect/References"

/**
 * A level as `/logging.json` shows it: Effect's levels in upper case (`OFF` is `None`).
 *
 * @since 0.1.0
 * @category model
 */
export type Level = "ALL" | "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "FATAL" | "OFF"

/**
 * The levels, most verbose first.
 *
 * @since 0.1.0
 * @category constants
 */
export const levels: ReadonlyArray<Level> = ["ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"]

const toEffect: Record<Level, LogLevel.LogLevel> = {
  ALL: "All",
  TRACE: "Trace",
  DEBUG: "Debug",
  INFO: "Info",
  WARN: "Warn",
  ERROR: "Error",
  FATAL: "Fatal",
  OFF: "None"
}

const rank = (l: LogLevel.LogLevel): number => levels.indexOf((l === "None" ? "OFF" : l.toUpperCase()) as Level)

/**
 * Reads a level name, case-insensitively; linkerd's `WARNING` and `CRITICAL` and Effect's `NONE`
 * are accepted too.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseLevel = (s: string): Level | undefined => {
  const u = s.trim().toUpperCase()
  if (u === "WARNING") return "WARN"
  if (u === "CRITICAL") return "FATAL"
  if (u === "NONE") return "OFF"
  return (levels as ReadonlyArray<string>).includes(u) ? u as Level : undefined
}

/**
 * The annotation that names a log call's logger.
 *
 * @since 0.1.0
 * @category constants
 */
export const annotation = "logger"

/**
 * The logger of calls that name none.
 *
 * @since 0.1.0
 * @category constants
 */
export const root = "root"

const maxLoggers = 1000
const namePattern = /^[A-Za-z0-9_.:/#$-]{1,200}$/

/**
 * Whether `name` may be a logger name: 1–200 characters among letters, digits and `_.:/#$-`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const isLoggerName = (name: string): boolean => namePattern.test(name)

/**
 * One logger as `/logging.json` lists it: `inherited` when its level comes from an ancestor.
 *
 * @since 0.1.0
 * @category model
 */
export interface Entry {
  readonly logger: string
  readonly level: Level
  readonly inherited: boolean
}

/**
 * The runtime log levels.
 *
 * @since 0.1.0
 * @category model
 */
export interface Logging {
  /** Every known logger (`root`, the declared ones, those set and those seen logging), by name. */
  readonly list: () => ReadonlyArray<Entry>
  /** The level a call on `logger` is checked against. */
  readonly levelOf: (logger: string) => Level
  /** Sets a logger's own level; `false` when the name is invalid or too many loggers are known. */
  readonly set: (logger: string, level: Level) => boolean
  /** Declares logger names so that they are listed before they log. */
  readonly declare: (names: ReadonlyArray<string>) => void
  /** Runs `self` with these levels deciding what is logged. */
  readonly provide: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

const fromEffect = (l: LogLevel.LogLevel): Level => l === "None" ? "OFF" : l.toUpperCase() as Level

/**
 * Makes the runtime levels; `root` starts at `rootLevel`, else at the minimum level in force where
 * `provide` first runs (`References.MinimumLogLevel`, `INFO` by default).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: { readonly rootLevel?: Level | undefined }): Logging => {
  const own = new Map<string, Level>([[root, options?.rootLevel ?? "INFO"]])
  let rootChosen = options?.rootLevel !== undefined
  const known = new Set<string>([root])
  const remember = (name: string): boolean => {
    if (known.has(name)) return true
    if (known.size >= maxLoggers || !isLoggerName(name)) return false
    known.add(name)
    return true
  }
  const levelOf = (logger: string): Level => {
    let name = logger
    for (;;) {
      const l = own.get(name)
      if (l !== undefined) return l
      const dot = name.lastIndexOf(".")
      if (dot <= 0) return own.get(root)!
      name = name.slice(0, dot)
    }
  }
  const set = (logger: string, level: Level): boolean => {
    if (!remember(logger)) return false
    if (logger === root) rootChosen = true
    own.set(logger, level)
    return true
  }
  const list = (): ReadonlyArray<Entry> =>
    [...known].sort((a, b) => a === root ? -1 : b === root ? 1 : a.localeCompare(b)).map((logger) => ({
      logger,
      level: levelOf(logger),
      inherited: !own.has(logger)
    }))
  const filtering = (next: ReadonlySet<Logger.Logger<unknown, unknown>>) =>
    Logger.make<unknown, void>((entry) => {
      const named = entry.fiber.getRef(References.CurrentLogAnnotations)[annotation]
      const logger = typeof named === "string" && named !== "" ? named : root
      remember(logger)
      if (entry.logLevel === "None" || rank(entry.logLevel) < rank(toEffect[levelOf(logger)])) return
      for (const l of next) l.log(entry)
    })
  return {
    list,
    levelOf,
    set,
    declare: (names) => names.forEach(remember),
    provide: (self) =>
      Effect.gen(function*() {
        const current = yield* Logger.CurrentLoggers
        const minimum = yield* References.MinimumLogLevel
        if (!rootChosen) {
          rootChosen = true
          own.set(root, fromEffect(minimum))
        }
        return yield* self.pipe(
          Effect.provideService(Logger.CurrentLoggers, new Set([filtering(current)])),
          Effect.provideService(References.MinimumLogLevel, "All")
        )
      })
  }
}
