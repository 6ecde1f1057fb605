/**
 * linkerd's `socketOptions` as node:net applies them, for a server's listening socket and accepted
 * connections and for a client's connections:
 *
 * - `noDelay` (default `true`): `TCP_NODELAY`;
 * - `keepAlive` (default `false`): `SO_KEEPALIVE`;
 * - `reusePort` (default `false`, servers): `SO_REUSEPORT` on listen (`listen({ reusePort })`, which
 *   Node supports from 22.12; older Node ignores it);
 * - `backlog` (servers): the listen backlog;
 * - `readTimeoutMs` / `writeTimeoutMs`: Finagle fails a transport whose read (or write) does not
 *   complete in time; node:net has one inactivity timer per socket, so weir closes a connection that
 *   has neither received nor sent anything for the smaller of the two (`idleTimeoutMs`). A client
 *   connection closed this way mid-exchange fails the request with `ConnectionFailed` (`timeout`).
 *
 * `reuseAddr` has nothing to set: Node always sets `SO_REUSEADDR` on a listening TCP socket.
 *
 * @since 0.1.0
 */

/**
 * The socket options a transport applies.
 *
 * @since 0.1.0
 * @category model
 */
export interface SocketOptions {
  /** `TCP_NODELAY`. Defaults to `true`. */
  readonly noDelay?: boolean | undefined
  /** `SO_KEEPALIVE`. Defaults to `false`. */
  readonly keepAlive?: boolean | undefined
  /** `SO_REUSEPORT` on a listening socket. Defaults to `false`. */
  readonly reusePort?: boolean | undefined
  /** The listen backlog. Defaults to the server's own (4096). */
  readonly backlog?: number | undefined
  /** Close a connection with no byte received or sent for this long. Defaults to none. */
  readonly idleTimeoutMs?: number | undefined
}

/**
 * The options of a decoded `socketOptions` section (read and write timeouts folded into one
 * inactivity timeout).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromConfig = (config: {
  readonly noDelay: boolean
  readonly keepAlive: boolean
  readonly reusePort: boolean
  readonly backlog?: number | undefined
  readonly readTimeoutMs?: number | undefined
  readonly writeTimeoutMs?: number | undefined
}): SocketOptions => {
  const timeouts = [config.readTimeoutMs, config.writeTimeoutMs].filter((t): t is number => t !== undefined)
  return {
    noDelay: config.noDelay,
    keepAlive: config.keepAlive,
    reusePort: config.reusePort,
    ...(config.backlog !== undefined ? { backlog: config.backlog } : {}),
    ...(timeouts.length > 0 ? { idleTimeoutMs: Math.min(...timeouts) } : {})
  }
}
