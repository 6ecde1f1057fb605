/**
 * linkerd's HTTP/2 keys in a config file: on a server of an h2 router (`servers[]`) and in an h2
 * router's `client` section. What each sets is in `http/h2/Settings.ts`; ranges are checked
 * here, with the key's location, and the keys are refused on a router that is not `h2`.
 *
 * ```yaml
 * routers:
 * - protocol: h2
 *   servers:
 *   - port: 4142
 *     maxConcurrentStreamsPerConnection: 1000
 *     initialStreamWindowBytes: 65535
 *   client:
 *     initialStreamWindowBytes: 1048576
 * ```
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as Settings from "../http/h2/Settings.js"

const Int = Schema.Int
const Ratio = Schema.Finite

/**
 * The keys a client and a server share.
 *
 * @since 0.1.0
 * @category fields
 */
export const clientFields = {
  initialStreamWindowBytes: Schema.optionalKey(Int),
  initialConnectionWindowBytes: Schema.optionalKey(Int),
  maxFrameBytes: Schema.optionalKey(Int),
  maxHeaderListBytes: Schema.optionalKey(Int),
  headerTableBytes: Schema.optionalKey(Int),
  windowUpdateRatio: Schema.optionalKey(Ratio)
}

/**
 * A server's keys: the shared ones and `maxConcurrentStreamsPerConnection`.
 *
 * @since 0.1.0
 * @category fields
 */
export const serverFields = {
  ...clientFields,
  maxConcurrentStreamsPerConnection: Schema.optionalKey(Int)
}

/**
 * The keys of `serverFields`.
 *
 * @since 0.1.0
 * @category constants
 */
export const keys: ReadonlyArray<keyof Settings.H2Settings> = Object.keys(serverFields) as Array<
  keyof Settings.H2Settings
>

/**
 * The problems of one entry's h2 keys, located under `at`: out of range, or given on a router
 * whose protocol is not `h2`.
 *
 * @since 0.1.0
 * @category validation
 */
export const problems = (
  entry: Settings.H2Settings,
  h2: boolean,
  at: string
): Array<{ readonly path: string; readonly message: string }> => {
  if (!h2) {
    return keys.filter((k) => entry[k] !== undefined).map((k) => ({
      path: `${at}.${k}`,
      message: "is an HTTP/2 key: only a router with `protocol: h2` takes it"
    }))
  }
  return Settings.problems(entry).map((p) => ({ path: `${at}.${p.key}`, message: p.message }))
}

/**
 * The h2 keys an entry gives (the others left out).
 *
 * @since 0.1.0
 * @category getters
 */
export const pick = (entry: Settings.H2Settings): Settings.H2Settings => {
  const out: Record<string, number> = {}
  for (const k of keys) {
    const v = entry[k]
    if (v !== undefined) out[k] = v
  }
  return out
}
