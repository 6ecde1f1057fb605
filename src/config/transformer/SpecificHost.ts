/**
 * The transformer `io.l5d.specificHost`: keeps the addresses of `host` (required; an IP, or a name
 * resolved once when the proxy starts, to its first address, as linkerd does). `prefix` defaults to
 * `/io.l5d.specificHost`.
 *
 * ```yaml
 * transformers:
 * - kind: io.l5d.specificHost
 *   host: 10.0.3.7
 * ```
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as S from "effect/Schema"
import * as dns from "node:dns"
import * as net from "node:net"
import * as Hosts from "../../naming/transformers/Hosts.js"
import * as Plugin from "../Plugin.js"
import * as Common from "./Common.js"

/**
 * `{kind: io.l5d.specificHost, host, prefix}`: `host` is required.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.specificHost"),
  host: Common.NonEmptyString,
  ...Common.fields
})

const resolve = (host: string): Effect.Effect<ReadonlyArray<string>, { readonly message: string }> =>
  net.isIP(host) !== 0 ? Effect.succeed([host]) : Effect.tryPromise({
    try: () => dns.promises.lookup(host).then((x) => [x.address]),
    catch: (e) =>
      Common.failure("io.l5d.specificHost", `cannot resolve ${host}: ${e instanceof Error ? e.message : String(e)}`)
  })

/**
 * The plugin: `Hosts.specificHost`, with `host` resolved.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.specificHost", host: "127.0.0.1" },
  make: (config): Common.Build =>
    Effect.map(
      resolve(config.host),
      (addresses) => Hosts.specificHost({ host: config.host, addresses, prefix: config.prefix })
    )
})
