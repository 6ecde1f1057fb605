/**
 * The proxy's plugin wiring that involves naming: building the configured namers (an exhaustive
 * table from `kind` to constructor) and answering `/delegator.json` for a router.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as DnsSrv from "../namers/DnsSrv.js"
import * as Fs from "../namers/Fs.js"
import * as K8s from "../namers/K8s.js"
import * as Delegation from "../naming/Delegation.js"
import * as Dtab from "../naming/Dtab.js"
import * as Interpreter from "../naming/Interpreter.js"
import type * as Namer from "../naming/Namer.js"
import * as Path from "../naming/Path.js"
import type * as Admin from "./Admin.js"
import * as Config from "./Config.js"

/**
 * A namer could not be built.
 *
 * @since 0.1.0
 * @category errors
 */
export class NamerUnavailable extends Data.TaggedError("NamerUnavailable")<{ readonly message: string }> {}

type Builder<K extends Config.Namer["kind"]> =
  | ((namer: Extract<Config.Namer, { readonly kind: K }>) => Effect.Effect<Namer.Namer, never, Scope.Scope>)
  | undefined

/**
 * How each namer kind is built; `undefined` for kinds this version cannot run (`Validate` rejects
 * them before anything starts).
 *
 * @since 0.1.0
 * @category namers
 */
export const namerBuilders: { readonly [K in Config.Namer["kind"]]: Builder<K> } = {
  "io.l5d.fs": (n) => Fs.make({ rootDir: n.rootDir, label: Path.show(Config.namerPrefix(n)).replace(/^\//, "#/") }),
  "io.l5d.k8s": (n) =>
    K8s.make({
      host: n.host,
      port: n.port,
      labelSelector: n.labelSelector,
      label: Path.show(Config.namerPrefix(n)).replace(/^\//, "#/")
    }),
  "io.l5d.experimental.k8s": (n) =>
    K8s.make({
      host: n.host,
      port: n.port,
      tls: n.tls,
      tlsWithoutValidation: n.tlsWithoutValidation,
      authTokenFile: n.authTokenFile,
      label: Path.show(Config.namerPrefix(n)).replace(/^\//, "#/")
    }),
  "io.l5d.dnssrv": (n) =>
    DnsSrv.make({
      refreshInterval: Duration.seconds(n.refreshIntervalSeconds),
      dnsHosts: n.dnsHosts,
      label: Path.show(Config.namerPrefix(n)).replace(/^\//, "#/")
    }),
  "io.l5d.consul": undefined,
  "io.l5d.serversets": undefined
}

/**
 * Builds the namer of a config entry in the current scope.
 *
 * @since 0.1.0
 * @category namers
 */
export const buildNamer = (namer: Config.Namer): Effect.Effect<Namer.Namer, NamerUnavailable, Scope.Scope> => {
  const builder = namerBuilders[namer.kind] as Builder<typeof namer.kind>
  if (builder === undefined) {
    return Effect.fail(
      new NamerUnavailable({ message: `namer kind ${namer.kind} is not available in this version of weir` })
    )
  }
  return (builder as (n: Config.Namer) => Effect.Effect<Namer.Namer, never, Scope.Scope>)(namer)
}

/**
 * The built namers as the admin server shows them (`/bound-names.json`, `/namer_state/<prefix>.json`):
 * each under its configured prefix, its enumerated names made absolute (`/#/<prefix>/…`).
 *
 * @since 0.1.0
 * @category namers
 */
export const adminNamers = (
  built: ReadonlyArray<readonly [Config.Namer, Namer.Namer]>
): Array<Admin.NamerInfo> =>
  built.map(([config, namer]) => {
    const prefix = Config.namerPrefix(config)
    const mount = Path.concat(Path.make("#"), prefix)
    const enumerate = namer.enumerate
    return {
      prefix: Path.show(prefix),
      ...(enumerate !== undefined
        ? { boundNames: Effect.map(enumerate, (ids) => ids.map((id) => Path.show(Path.concat(mount, id)))) }
        : {}),
      ...(namer.state !== undefined ? { state: namer.state } : {})
    }
  })

/**
 * The `/delegator.json` handler of a proxy, as linkerd's: `namespace` is a router label and selects
 * that router's interpreter (its namers plus the `/$` system namers); without a namespace only the
 * system namers are used; an unknown label answers 501. The router's dtab is not added: callers
 * pass the dtab to explain. A bad dtab or path answers 400 (`Invalid dtab: …`, `Invalid path: …`);
 * a delegation not done within `timeout` (default 5 seconds) answers 503 `Request timed out.`.
 *
 * @since 0.1.0
 * @category delegation
 */
export const make = (
  config: Config.Config,
  interpreter: Interpreter.NameInterpreter,
  options?: {
    readonly timeout?: Duration.Input | undefined
    /** The interpreter of each router label that has its own (`io.l5d.namerd.http`). */
    readonly routerInterpreters?: ReadonlyMap<string, Interpreter.NameInterpreter> | undefined
  }
): Effect.Effect<(request: Admin.DelegateRequest) => Effect.Effect<Admin.Reply>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const systemOnly = yield* Interpreter.make({})
    const labels = new Set(config.routers.map((r) => r.label))
    const timeout = options?.timeout ?? Duration.seconds(5)
    const text = (status: number, body: string): Admin.Reply => ({
      status,
      contentType: "text/plain; charset=utf-8",
      body: body + "\n"
    })
    return (request) => {
      const dtab = Dtab.parse(request.dtab)
      if (Result.isFailure(dtab)) return Effect.succeed(text(400, `Invalid dtab: ${dtab.failure.message}`))
      const path = Path.parse(request.path)
      if (Result.isFailure(path)) return Effect.succeed(text(400, `Invalid path: ${path.failure.message}`))
      if (request.namespace !== undefined && !labels.has(request.namespace)) {
        return Effect.succeed(text(501, `Name Interpreter for ${request.namespace} cannot show delegations`))
      }
      const using = request.namespace === undefined
        ? systemOnly
        : options?.routerInterpreters?.get(request.namespace) ?? interpreter
      return Delegation.explain(using, dtab.success, path.success).pipe(
        Effect.timeoutOption(timeout),
        Effect.map((tree): Admin.Reply =>
          tree._tag === "Some"
            ? { status: 200, contentType: "application/json; charset=utf-8", body: JSON.stringify(tree.value) }
            : text(503, "Request timed out.")
        )
      )
    }
  })
