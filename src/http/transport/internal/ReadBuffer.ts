/**
 * The one buffer every plain-TCP socket of the transport reads into (node's `onread` option): accepted
 * connections (`ServerConnection`) and pooled upstream ones (`UpstreamPool`). Each read is handed to
 * its socket's owner synchronously and copied out with {@link copyOut} before the next read reuses the
 * buffer, so one serves them all, and a read costs no readable-stream push, `data` event or slice.
 *
 * @internal
 */

/** @internal */
export const readBuffer = Buffer.allocUnsafe(64 * 1024)

/**
 * The `n` bytes a read left in `buf` (the {@link readBuffer}), as a buffer of their own.
 *
 * @internal
 */
export const copyOut = (n: number, buf: Uint8Array): Buffer => {
  const chunk = Buffer.allocUnsafe(n)
  chunk.set(n === buf.length ? buf : buf.subarray(0, n))
  return chunk
}
