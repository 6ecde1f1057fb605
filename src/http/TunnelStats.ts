/**
 * The metrics of a router's tunnels (HTTP/1.1 upgrades and `CONNECT`s), kept per destination
 * client under `rt/<router>/client/<id>/tunnel/`, in linkerd's style of names:
 *
 * | name | kind | what |
 * | --- | --- | --- |
 * | `opened` | counter | tunnels spliced |
 * | `closed` | counter | tunnels closed, and `closed/<reason>` by why (`closed`, `client_reset`, `upstream_reset`, `idle_timeout`, `max_duration`, `drain`) |
 * | `active` | gauge | tunnels open now |
 * | `sent_bytes` | counter | bytes from clients to the destination |
 * | `received_bytes` | counter | bytes from the destination to clients |
 * | `duration_ms` | histogram | how long each tunnel lasted |
 *
 * The tunnel's own `requests`, `status/101` (or `status/200` for a `CONNECT`) and latency up to the
 * answer are the client's ordinary request metrics.
 *
 * @since 0.1.0
 */
import type * as Stats from "../Stats.js"
import type * as Tunnel from "./transport/Tunnel.js"

/**
 * The observer of one destination's tunnels, and what unregisters its gauge.
 *
 * @since 0.1.0
 * @category model
 */
export interface TunnelStats {
  readonly observer: Tunnel.Observer
  /** Tunnels open now. */
  readonly active: () => number
  readonly close: () => void
}

/**
 * Tunnel metrics under `stats` (a client's scope; `tunnel/` is added).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (stats: Stats.StatsReceiver): TunnelStats => {
  const s = stats.scope("tunnel")
  const opened = s.counter("opened")
  const closed = s.counter("closed")
  const sent = s.counter("sent_bytes")
  const received = s.counter("received_bytes")
  const duration = s.histogram("duration_ms")
  const byReason = new Map<string, Stats.Counter>()
  let active = 0
  const unregister = s.gauge(["active"], () => active)
  const observer: Tunnel.Observer = {
    opened: () => {
      active++
      opened.incr()
    },
    closed: (summary) => {
      active--
      closed.incr()
      let c = byReason.get(summary.reason)
      if (c === undefined) {
        c = s.counter("closed", summary.reason)
        byReason.set(summary.reason, c)
      }
      c.incr()
      sent.incr(summary.sent)
      received.incr(summary.received)
      duration.add(summary.durationMs)
    }
  }
  return { observer, active: () => active, close: unregister }
}
