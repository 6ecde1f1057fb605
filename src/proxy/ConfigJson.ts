/**
 * The normalized proxy config as JSON, for the admin server's `/config.json`: durations in
 * milliseconds (seconds for `...Secs` keys and `window`), dtabs, paths and prefix patterns in their
 * text form, and the values of secret keys and of keys naming where a secret is kept (`Problems.isSecretKey`: `token`, `password`, `keyPath`, `authTokenFile`, …) shown as
 * `<redacted>`.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import { isSecretKey } from "../config/Problems.js"
import * as RollPolicy from "../http/RollPolicy.js"
import * as Dtab from "../naming/Dtab.js"
import * as Path from "../naming/Path.js"
import * as PathMatcher from "../naming/PathMatcher.js"
import type * as Config from "./Config.js"

/**
 * Any decoded config value as JSON, secrets redacted.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toJsonValue = (value: unknown): unknown => {
  const convert = (v: unknown, key: string | undefined): unknown => {
    if (key !== undefined && isSecretKey(key)) return "<redacted>"
    if (v === null || typeof v !== "object") return v
    if (Path.isPath(v)) return Path.show(v)
    if (Dtab.isDtab(v)) return Dtab.show(v)
    if (PathMatcher.isPathMatcher(v)) return v.pattern
    if (key === "httpAccessLogRollPolicy") return RollPolicy.show(v as RollPolicy.RollPolicy)
    if (Duration.isDuration(v)) {
      return key !== undefined && (key.endsWith("Secs") || key === "window")
        ? Duration.toSeconds(v)
        : Duration.toMillis(v)
    }
    if (Array.isArray(v)) return v.map((x) => convert(x, undefined))
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) out[k] = convert(x, k)
    return out
  }
  return convert(value, undefined)
}

/**
 * The normalized config as JSON for `/config.json`.
 *
 * @since 0.1.0
 * @category encoding
 */
export const toJson = (config: Config.Config): unknown => toJsonValue(config)
