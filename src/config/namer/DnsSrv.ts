/**
 * The namer `io.l5d.dnssrv`: DNS SRV records, polled every `refreshIntervalSeconds`. Experimental,
 * as in linkerd: it must be enabled with `experimental: true`. Built with `namers/DnsSrv.ts`.
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.dnssrv
 *   experimental: true          # required
 *   refreshIntervalSeconds: 5   # the default
 *   dnsHosts: [127.0.0.1:8600]  # default: the system resolver's servers
 * ```
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as S from "effect/Schema"
import * as DnsSrv from "../../namers/DnsSrv.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString, PositiveInt, withDefault } from "../Schemas.js"
import * as Common from "./Common.js"

const DnsHost = NonEmptyString.check(S.makeFilter((h: string) => DnsSrv.dnsHostProblem(h) ?? true))

/**
 * `{kind: io.l5d.dnssrv, experimental: true, refreshIntervalSeconds, dnsHosts, …}`:
 * `refreshIntervalSeconds` (`>= 1`) defaults to `5`, `dnsHosts` (each `ip`, `ip:port` or
 * `[ipv6]:port`) to the system resolver's servers.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.dnssrv"),
  refreshIntervalSeconds: PositiveInt.pipe(withDefault(5)),
  dnsHosts: S.Array(DnsHost).pipe(withDefault([])),
  ...Common.fields("/io.l5d.dnssrv")
}).check(
  S.makeFilter((n) =>
    n.experimental || {
      path: ["experimental"],
      issue: "the namer io.l5d.dnssrv is experimental and must be explicitly enabled by setting `experimental: true`"
    }
  )
)

/**
 * The plugin: `DnsSrv.make`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.dnssrv", experimental: true },
  make: (config) =>
    DnsSrv.make({
      refreshInterval: Duration.seconds(config.refreshIntervalSeconds),
      dnsHosts: config.dnsHosts,
      label: Common.label(config)
    })
})
