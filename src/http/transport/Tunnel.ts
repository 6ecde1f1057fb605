/**
 * A byte tunnel between a client connection and an upstream connection, for what HTTP/1.1 hands
 * over after the request: an `Upgrade` the upstream accepted with `101 Switching Protocols`
 * (WebSocket and others), or a `CONNECT`.
 *
 * The upstream side of the transport (`Upstream`) answers such a request with a response that
 * carries an {@link Upgraded}: the upstream socket, taken out of its pool (it is never reused), and
 * the bytes the upstream sent after its response head. The data path may add {@link Limits} and an
 * {@link Observer}; the server side (`Server`) writes the response head and splices the two
 * sockets with a {@link Splice}:
 *
 * - bytes flow both ways with backpressure: a side whose peer's socket buffer is full is paused
 *   until it drains, so memory stays bounded by the sockets' high-water marks;
 * - a half-close (FIN) is passed on to the other side, which may still send;
 * - either side resetting or closing before both have finished, the idle timeout and the total
 *   duration limit close both sockets;
 * - the observer learns when the tunnel opened, and when it closed: bytes each way, duration and why.
 *
 * Time comes from a {@link Clock}: the runtime's own timers by default ({@link systemClock}); a
 * router passes one backed by Effect's `Clock`, so the limits follow `TestClock` in tests. The idle
 * timeout costs one clock read per chunk and at most one wake-up per idle period.
 *
 * @since 0.1.0
 */
import type * as net from "node:net"
import { destroyAfterHeld, holdWrites } from "./internal/HeldWrites.js"

/**
 * Where a tunnel's time comes from: `now` in milliseconds (any origin), and `schedule`, which calls
 * `f` after `ms` milliseconds and returns what cancels it.
 *
 * @since 0.1.0
 * @category model
 */
export interface Clock {
  readonly now: () => number
  readonly schedule: (ms: number, f: () => void) => () => void
}

/**
 * The runtime's monotonic clock and timers (unreferenced: a tunnel's limit never keeps a process alive).
 *
 * @since 0.1.0
 * @category constructors
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  schedule: (ms, f) => {
    const timer = setTimeout(f, ms)
    timer.unref()
    return () => clearTimeout(timer)
  }
}

/**
 * Limits on one tunnel, in milliseconds. Absent: none.
 *
 * @since 0.1.0
 * @category model
 */
export interface Limits {
  /** Closes the tunnel when no byte has gone either way for this long. */
  readonly idleTimeoutMs?: number | undefined
  /** Closes the tunnel this long after it opened, busy or not. */
  readonly maxDurationMs?: number | undefined
  /** The clock the limits and the duration are measured with. Defaults to {@link systemClock}. */
  readonly clock?: Clock | undefined
}

/**
 * Why a tunnel closed: both sides finished (`closed`); one side closed or reset before the other
 * had finished (`client_reset`, `upstream_reset`); a limit was reached (`idle_timeout`,
 * `max_duration`); or the server's drain ended with the tunnel still open (`drain`).
 *
 * @since 0.1.0
 * @category model
 */
export type CloseReason = "closed" | "client_reset" | "upstream_reset" | "idle_timeout" | "max_duration" | "drain"

/**
 * What a closed tunnel carried.
 *
 * @since 0.1.0
 * @category model
 */
export interface Summary {
  /** Bytes from the client to the upstream. */
  readonly sent: number
  /** Bytes from the upstream to the client. */
  readonly received: number
  readonly durationMs: number
  readonly reason: CloseReason
}

/**
 * Told when a tunnel opens and closes (metrics).
 *
 * @since 0.1.0
 * @category model
 */
export interface Observer {
  readonly opened: () => void
  readonly closed: (summary: Summary) => void
}

/**
 * An upstream connection handed over for a tunnel: the socket (paused, listened to by nobody but
 * a guard that destroys it if it is never spliced), the bytes that followed the response head,
 * and the protocol the upstream switched to (its `Upgrade`; absent for `CONNECT`).
 *
 * @since 0.1.0
 * @category model
 */
export interface Upgraded {
  readonly socket: net.Socket
  readonly head?: Buffer | undefined
  readonly protocol?: string | undefined
  readonly limits?: Limits | undefined
  readonly observer?: Observer | undefined
}

/**
 * Destroys the socket of a tunnel that will not be spliced (the response was dropped or refused).
 *
 * @since 0.1.0
 * @category utils
 */
export const abandon = (upgraded: Upgraded): void => {
  destroyAfterHeld(upgraded.socket)
}

const ignore = (): void => {}

/** How long the survivor of a reset may take to flush what it was sent before it is destroyed. */
const lingerMs = 5_000

/** Sends what `socket` still holds, then closes it; destroys it if that takes too long (a peer that does not read). */
const lingerThenDestroy = (socket: net.Socket): void => {
  if (socket.destroyed) return
  socket.destroySoon()
  const timer = setTimeout(() => socket.destroy(), lingerMs)
  timer.unref()
  socket.once("close", () => clearTimeout(timer))
}

/**
 * A running tunnel. The client socket's events are delivered by its owner (the server connection,
 * which keeps listening to it) through `fromClient`, `clientDrained`, `clientEnded` and
 * `clientClosed`; the upstream socket's are the splice's own.
 *
 * @since 0.1.0
 * @category model
 */
export class Splice {
  sent = 0
  received = 0
  readonly clock: Clock
  readonly start: number
  /** when the last byte went either way */
  last: number
  done = false
  clientEnded = false
  upstreamEnded = false
  readonly upstream: net.Socket
  cancelIdle: (() => void) | undefined = undefined
  cancelMax: (() => void) | undefined = undefined

  /**
   * Starts splicing: `early` are bytes the client sent after its request head, `clientEof` whether
   * it has already half-closed; `onClose` is called once when the tunnel closes.
   */
  constructor(
    readonly client: net.Socket,
    readonly upgraded: Upgraded,
    early: Buffer | undefined,
    clientEof: boolean,
    readonly onClose?: () => void
  ) {
    const up = upgraded.socket
    this.upstream = up
    // the pool's guard against a socket nobody claims
    up.removeAllListeners("timeout")
    up.setTimeout(0)
    up.allowHalfOpen = true
    const limits = upgraded.limits
    const clock = limits?.clock ?? systemClock
    this.clock = clock
    this.start = clock.now()
    this.last = this.start
    const idle = limits?.idleTimeoutMs
    if (idle !== undefined && idle > 0 && idle < Infinity) {
      // wakes once per idle period at most: closes if nothing moved since, else sleeps the rest of it
      const check = () => {
        if (this.done) return
        const quiet = clock.now() - this.last
        if (quiet >= idle) this.close("idle_timeout")
        else this.cancelIdle = clock.schedule(idle - quiet, check)
      }
      this.cancelIdle = clock.schedule(idle, check)
    }
    const max = limits?.maxDurationMs
    if (max !== undefined && max > 0 && max < Infinity) {
      this.cancelMax = clock.schedule(max, () => this.close("max_duration"))
    }
    up.on("data", (chunk: Buffer) => this.fromUpstream(chunk))
    up.on("drain", () => {
      if (!this.clientEnded && client.isPaused()) client.resume()
    })
    up.on("end", () => {
      this.upstreamEnded = true
      if (!this.done) client.end()
    })
    up.on("error", ignore)
    up.on("close", () => this.close(this.clientEnded && this.upstreamEnded ? "closed" : "upstream_reset"))
    upgraded.observer?.opened()
    const head = upgraded.head
    if (head !== undefined && head.length > 0) this.fromUpstream(head)
    if (early !== undefined && early.length > 0) this.fromClient(early)
    if (clientEof) this.clientEnd()
    if (up.destroyed) {
      this.close("upstream_reset")
      return
    }
    up.resume()
    // the client may have been paused by its connection (pipelined bytes) or by the early bytes filling the upstream
    if (client.isPaused() && !up.writableNeedDrain && !this.clientEnded) client.resume()
  }

  touch(): void {
    this.last = this.clock.now()
  }

  /** Bytes from the client. */
  fromClient(chunk: Buffer): void {
    if (this.done) return
    this.sent += chunk.length
    this.touch()
    holdWrites(this.upstream)
    if (!this.upstream.write(chunk)) this.client.pause()
  }

  fromUpstream(chunk: Buffer): void {
    if (this.done) return
    this.received += chunk.length
    this.touch()
    holdWrites(this.client)
    if (!this.client.write(chunk)) this.upstream.pause()
  }

  /** The client's socket can take more. */
  clientDrained(): void {
    if (!this.done && !this.upstreamEnded && this.upstream.isPaused()) this.upstream.resume()
  }

  /** The client half-closed: so does the upstream side. */
  clientEnd(): void {
    this.clientEnded = true
    if (!this.done) this.upstream.end()
  }

  /** The client's socket closed. */
  clientClosed(): void {
    this.close(this.clientEnded && this.upstreamEnded ? "closed" : "client_reset")
  }

  /** Closes both sides (once). */
  close(reason: CloseReason): void {
    if (this.done) return
    this.done = true
    this.cancelIdle?.()
    this.cancelMax?.()
    switch (reason) {
      case "closed":
        // both sides finished: each socket closes once what it still holds is written
        break
      case "client_reset":
        lingerThenDestroy(this.upstream)
        break
      case "upstream_reset":
        lingerThenDestroy(this.client)
        break
      default:
        destroyAfterHeld(this.upstream)
        destroyAfterHeld(this.client)
    }
    this.onClose?.()
    this.upgraded.observer?.closed({
      sent: this.sent,
      received: this.received,
      durationMs: this.clock.now() - this.start,
      reason
    })
  }
}
