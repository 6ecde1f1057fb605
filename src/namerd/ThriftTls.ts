/**
 * TLS for `io.l5d.thriftNameInterpreter`: which connections reach the Thrift service. A TLS
 * handshake goes to node's TLS server; a plaintext caller, and under `requireClientAuth` a client
 * without a certificate that chains to `caCertPath`, get their first call answered with a Thrift
 * application exception saying why, then the connection is closed — so a linker is told what to
 * fix instead of seeing a closed connection. No call of such a client is served.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Net from "node:net"
import * as NodeTls from "node:tls"
import type * as Tls from "../http/transport/Tls.js"
import * as W from "../namers/namerd/ThriftWire.js"

/**
 * Answers the first call on `socket` with an application exception carrying `message`, then closes
 * it (nothing else is read); a connection whose first bytes are not a call is closed at once.
 */
const refuse = (socket: Net.Socket, first: Buffer | undefined, message: string) => {
  const answer = (chunk: Buffer) => {
    const frames = new W.FrameReader().push(chunk)
    const call = Result.isSuccess(frames) && frames.success.length > 0 ? W.decodeCall(frames.success[0]!) : undefined
    if (call === undefined || Result.isFailure(call)) return socket.destroy()
    const c = call.success
    socket.end(W.encodeApplicationException(c.method, c.seqid, W.ApplicationError.INTERNAL_ERROR, message))
  }
  if (first !== undefined) answer(first)
  else socket.once("data", answer)
}

const warnOf = (socket: Net.Socket, m: string) =>
  void Effect.runFork(Effect.logWarning(`namerd thrift ${socket.remoteAddress ?? "a client"}: ${m}`))

/**
 * A TLS interface's connection handler (`accept` serves a connection, `track` records one for
 * shutdown): a connection whose first bytes are a TLS handshake record
 * is handed to node's TLS server; a plaintext call is answered with an application exception
 * saying TLS is required. Under `requireClientAuth` the handshake asks for a certificate and a
 * client without one that chains to `caCertPath` gets an exception saying so, its calls unread (a
 * refusal inside the handshake would reach a TLS 1.3 client only as a closed connection).
 *
 * @since 0.1.0
 * @category constructors
 */
export const gate = (tls: Tls.ServerTls, accept: (socket: Net.Socket) => void, track: (socket: Net.Socket) => void) => {
  const requireClientAuth = tls.config.requireClientAuth === true
  const tlsServer = NodeTls.createServer({ ...tls.options, rejectUnauthorized: false }, (socket) => {
    if (!requireClientAuth || socket.authorized) return accept(socket)
    track(socket)
    const reason = socket.authorizationError === null || socket.authorizationError === undefined
      ? "no client certificate"
      : String(socket.authorizationError)
    warnOf(socket, `refused a client certificate: ${reason}`)
    socket.on("error", () => socket.destroy())
    refuse(socket, undefined, `namerd requires a client certificate signed by its CA (${reason})`)
  })
  tlsServer.on("tlsClientError", (e, socket) => {
    warnOf(socket, `TLS handshake failed: ${e.message}`)
    socket.destroy()
  })
  return (socket: Net.Socket) => {
    track(socket)
    socket.on("error", () => socket.destroy())
    socket.once("data", (chunk: Buffer) => {
      if (chunk[0] === 0x16) {
        socket.pause()
        socket.unshift(chunk)
        tlsServer.emit("connection", socket)
        return
      }
      warnOf(socket, "refused a plaintext connection (the interface has tls)")
      refuse(socket, chunk, "this interface speaks Thrift over TLS: set `tls` on the io.l5d.namerd interpreter")
    })
  }
}
