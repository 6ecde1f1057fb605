/**
 * `/admin/server_info`: what is running and since when — weir's name and version, the Node.js
 * version, the process id, the platform, the start time and the uptime — the first things an
 * operator checks on a proxy they did not start.
 *
 * @since 0.1.0
 */
import { version } from "../version.js"

/**
 * The answer of `/admin/server_info`.
 *
 * @since 0.1.0
 * @category model
 */
export interface ServerInfo {
  readonly name: "weir"
  readonly version: string
  /** The build: weir's version, with the Node.js version it runs on. */
  readonly build: string
  readonly node_version: string
  readonly platform: string
  readonly arch: string
  readonly pid: number
  /** When the admin server started, ISO 8601. */
  readonly start_time: string
  /** Milliseconds since the start. */
  readonly uptime: number
}

/**
 * The server info of this process, measured from `startedAt` (epoch milliseconds) to `now`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const of = (startedAt: number, now: number): ServerInfo => ({
  name: "weir",
  version,
  build: `weir-${version} (node ${process.version})`,
  node_version: process.version,
  platform: process.platform,
  arch: process.arch,
  pid: process.pid,
  start_time: new Date(startedAt).toISOString(),
  uptime: Math.max(0, now - startedAt)
})

/**
 * The registry linkerd serves at `/admin/registry.json`: here the config weir runs, decoded with
 * every default filled in and secrets redacted (`ConfigJson`), under `registry.weir.config`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const registry = (config: unknown): unknown => ({
  registry: { weir: { version, node_version: process.version, config: config ?? {} } }
})
