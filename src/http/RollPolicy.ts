/**
 * When a log file is rolled, linkerd's `httpAccessLogRollPolicy` (Twitter util-logging's policies):
 *
 * - `never` (the default);
 * - `hourly`, `daily`: at the start of the next hour, at the next local midnight;
 * - `weekly(n)`: at local midnight starting day `n` of the week, `1` Sunday … `7` Saturday (Java's
 *   `Calendar` numbering, as linkerd);
 * - a size, `<n>.<unit>` (`100.megabytes`, `1.gigabyte`, `512.kilobytes`, `10.bytes`): when the next
 *   line would take the file past it.
 *
 * Names are case-insensitive (`Daily` and `daily` are one policy). `parse` gives the policy or what
 * is wrong; `nextRoll` the time a time policy rolls next.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"

/**
 * A roll policy.
 *
 * @since 0.1.0
 * @category model
 */
export type RollPolicy =
  | { readonly _tag: "Never" }
  | { readonly _tag: "Hourly" }
  | { readonly _tag: "Daily" }
  | { readonly _tag: "Weekly"; readonly dayOfWeek: number }
  | { readonly _tag: "MaxSize"; readonly bytes: number }

/**
 * The default policy: never roll.
 *
 * @since 0.1.0
 * @category constants
 */
export const never: RollPolicy = { _tag: "Never" }

const units: Record<string, number> = {
  byte: 1,
  kilobyte: 1024,
  megabyte: 1024 ** 2,
  gigabyte: 1024 ** 3,
  terabyte: 1024 ** 4,
  petabyte: 1024 ** 5
}

/**
 * Parses a policy (see the module's description).
 *
 * @since 0.1.0
 * @category constructors
 */
export const parse = (text: string): Result.Result<RollPolicy, string> => {
  const s = text.trim().toLowerCase()
  if (s === "never") return Result.succeed(never)
  if (s === "hourly") return Result.succeed({ _tag: "Hourly" })
  if (s === "daily") return Result.succeed({ _tag: "Daily" })
  const weekly = /^weekly\((\d+)\)$/.exec(s)
  if (weekly !== null) {
    const day = Number(weekly[1])
    return day >= 1 && day <= 7
      ? Result.succeed({ _tag: "Weekly", dayOfWeek: day })
      : Result.fail(`weekly(${weekly[1]}): the day of the week is 1 (Sunday) … 7 (Saturday)`)
  }
  const size = /^(\d+)\.([a-z]+?)s?$/.exec(s)
  if (size !== null && units[size[2]!] !== undefined) {
    const bytes = Number(size[1]) * units[size[2]!]!
    return bytes >= 1 && Number.isSafeInteger(bytes)
      ? Result.succeed({ _tag: "MaxSize", bytes })
      : Result.fail(`${JSON.stringify(text)}: a size must be at least one byte`)
  }
  if (s === "weekly") return Result.fail(`"weekly" needs its day: weekly(n), 1 (Sunday) … 7 (Saturday)`)
  if (s === "sighup") return Result.fail(`"sighup" (roll on SIGHUP) is not supported by this version of weir`)
  return Result.fail(
    `invalid roll policy ${
      JSON.stringify(text)
    } (expected never, hourly, daily, weekly(n) or a size like 100.megabytes)`
  )
}

/**
 * The first time (milliseconds since the epoch) after `now` at which a time policy rolls; `undefined`
 * for `never` and sizes.
 *
 * @since 0.1.0
 * @category rolling
 */
export const nextRoll = (policy: RollPolicy, now: number): number | undefined => {
  const d = new Date(now)
  switch (policy._tag) {
    case "Hourly":
      return new Date(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours() + 1).getTime()
    case "Daily":
      return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime()
    case "Weekly": {
      // JavaScript's getDay is 0 (Sunday) … 6; Calendar's 1 … 7
      const ahead = ((policy.dayOfWeek - 1 - d.getDay() + 7) % 7) || 7
      return new Date(d.getFullYear(), d.getMonth(), d.getDate() + ahead).getTime()
    }
    default:
      return undefined
  }
}

/**
 * A policy in the text `parse` reads (`never`, `daily`, `weekly(2)`, `1048576.bytes`).
 *
 * @since 0.1.0
 * @category formatting
 */
export const show = (policy: RollPolicy): string =>
  policy._tag === "MaxSize"
    ? `${policy.bytes}.bytes`
    : policy._tag === "Weekly"
    ? `weekly(${policy.dayOfWeek})`
    : policy._tag.toLowerCase()
