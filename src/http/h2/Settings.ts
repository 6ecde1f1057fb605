/**
 * linkerd's HTTP/2 keys, the same for a server (`servers[]` of an h2 router) and a client, and what
 * they become in node's `http2` (nghttp2) settings:
 *
 * | key | default | what it sets |
 * | --- | --- | --- |
 * | `initialStreamWindowBytes` | 65535 | `SETTINGS_INITIAL_WINDOW_SIZE` (each stream's receive window) |
 * | `initialConnectionWindowBytes` | 65535 | the connection's receive window (a `WINDOW_UPDATE` at start) |
 * | `maxFrameBytes` | 16384 | `SETTINGS_MAX_FRAME_SIZE` (16384 … 16777215) |
 * | `maxHeaderListBytes` | 64 KiB | `SETTINGS_MAX_HEADER_LIST_SIZE`; a larger header block is refused |
 * | `maxConcurrentStreamsPerConnection` | 1000 | `SETTINGS_MAX_CONCURRENT_STREAMS`; streams beyond get `REFUSED_STREAM` |
 * | `headerTableBytes` | 4096 | `SETTINGS_HEADER_TABLE_SIZE` (the HPACK table) |
 * | `windowUpdateRatio` | 0.99 | accepted, not honoured: `WINDOW_UPDATE` once half a window is read (as 0.5) |
 *
 * node drives nghttp2's flow control itself and offers no threshold for window updates: whatever
 * `windowUpdateRatio` says, a stream's and the connection's window is returned once half of it has
 * been read (docs/http2.md).
 *
 * @since 0.1.0
 */
import type * as http2 from "node:http2"

/**
 * The HTTP/2 keys, all optional.
 *
 * @since 0.1.0
 * @category model
 */
export interface H2Settings {
  readonly initialStreamWindowBytes?: number | undefined
  readonly initialConnectionWindowBytes?: number | undefined
  readonly maxFrameBytes?: number | undefined
  readonly maxHeaderListBytes?: number | undefined
  readonly maxConcurrentStreamsPerConnection?: number | undefined
  readonly headerTableBytes?: number | undefined
  readonly windowUpdateRatio?: number | undefined
}

/**
 * The default `maxHeaderListBytes` (64 KiB).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxHeaderListBytes = 64 * 1024

/**
 * The default `maxConcurrentStreamsPerConnection` of a server.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxConcurrentStreams = 1000

/**
 * node's settings for the keys given (the others keep nghttp2's defaults).
 *
 * @since 0.1.0
 * @category conversions
 */
export const toNode = (settings: H2Settings, server: boolean): http2.Settings => ({
  ...(settings.initialStreamWindowBytes !== undefined ? { initialWindowSize: settings.initialStreamWindowBytes } : {}),
  ...(settings.maxFrameBytes !== undefined ? { maxFrameSize: settings.maxFrameBytes } : {}),
  maxHeaderListSize: settings.maxHeaderListBytes ?? defaultMaxHeaderListBytes,
  ...(server
    ? { maxConcurrentStreams: settings.maxConcurrentStreamsPerConnection ?? defaultMaxConcurrentStreams }
    : {}),
  ...(settings.headerTableBytes !== undefined ? { headerTableSize: settings.headerTableBytes } : {}),
  ...(server ? {} : { enablePush: false })
})

/**
 * Applies the connection-level window to a new session (node sends the `WINDOW_UPDATE`).
 *
 * @since 0.1.0
 * @category conversions
 */
export const applyConnectionWindow = (session: http2.Http2Session, settings: H2Settings): void => {
  const bytes = settings.initialConnectionWindowBytes
  if (bytes !== undefined && bytes > 65535) {
    try {
      session.setLocalWindowSize(bytes)
    } catch {
      // a session already closing has no window to set
    }
  }
}

/**
 * Problems with the keys' values, each with its key (empty when they are valid).
 *
 * @since 0.1.0
 * @category validation
 */
export const problems = (settings: H2Settings): Array<{ readonly key: string; readonly message: string }> => {
  const out: Array<{ key: string; message: string }> = []
  const range = (key: keyof H2Settings, min: number, max: number) => {
    const v = settings[key]
    if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max)) {
      out.push({ key, message: `must be an integer from ${min} to ${max}, got ${v}` })
    }
  }
  range("initialStreamWindowBytes", 1, 2 ** 31 - 1)
  range("initialConnectionWindowBytes", 65535, 2 ** 31 - 1)
  range("maxFrameBytes", 16384, 2 ** 24 - 1)
  range("maxHeaderListBytes", 1, 2 ** 31 - 1)
  range("maxConcurrentStreamsPerConnection", 1, 2 ** 31 - 1)
  range("headerTableBytes", 0, 2 ** 31 - 1)
  const r = settings.windowUpdateRatio
  if (r !== undefined && !(r > 0 && r < 1)) {
    out.push({ key: "windowUpdateRatio", message: `must be between 0 and 1 (exclusive), got ${r}` })
  }
  return out
}
