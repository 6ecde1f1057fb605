/**
 * linkerd's `socketOptions` section, on `servers[]` and in `client` sections. Applied by
 * `http/transport/SocketOptions.ts` (which says how each key maps onto node:net).
 *
 * ```yaml
 * socketOptions:
 *   noDelay: true          # the default
 *   reuseAddr: true        # the default (Node always sets SO_REUSEADDR on a listener)
 *   reusePort: false       # the default
 *   keepAlive: false       # the default
 *   readTimeoutMs: 61000   # default unbounded
 *   writeTimeoutMs: 61000  # default unbounded
 *   backlog: 128           # default: the server's own
 * ```
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as SocketOptions from "../http/transport/SocketOptions.js"
import { PositiveInt, withDefault } from "./Schemas.js"

const Ms = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

/**
 * `socketOptions`: `noDelay` (default `true`), `reuseAddr` (default `true`; `false` cannot be
 * honoured on Node and is rejected), `reusePort` (default `false`), `keepAlive` (default `false`),
 * `readTimeoutMs` and `writeTimeoutMs` (default unbounded, `>= 1`), `backlog` (default the OS's).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Section = Schema.Struct({
  noDelay: Schema.Boolean.pipe(withDefault(true)),
  reuseAddr: Schema.Boolean.check(
    Schema.makeFilter((b: boolean) =>
      b || "reuseAddr: false is not supported (Node always sets SO_REUSEADDR on a listening socket)"
    )
  ).pipe(withDefault(true)),
  reusePort: Schema.Boolean.pipe(withDefault(false)),
  keepAlive: Schema.Boolean.pipe(withDefault(false)),
  readTimeoutMs: Schema.optionalKey(Ms),
  writeTimeoutMs: Schema.optionalKey(Ms),
  backlog: Schema.optionalKey(PositiveInt)
})

/**
 * A decoded `socketOptions` section.
 *
 * @since 0.1.0
 * @category model
 */
export type Section = typeof Section.Type

/**
 * The transport options of a decoded section.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (section: Section): SocketOptions.SocketOptions => SocketOptions.fromConfig(section)
