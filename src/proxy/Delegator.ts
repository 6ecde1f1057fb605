/**
 * The proxy's delegator: answering `/delegator.json` for a router, and the built namers as the admin
 * server lists them. Namers are built by the namer registry (`config/namer/`).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import * as Dtab from "../naming/Dtab.js"
import * as Interpreter from "../naming/Interpreter.js"
import type * as Namer from "../naming/Namer.js"
import * as Path from "../naming/Path.js"
import * as Explain from "../naming/transformers/Explain.js"
import type * as Transformer from "../naming/transformers/Transformer.js"
import type * as Admin from "./Admin.js"
import * as Config from "./Config.js"

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
    /** A router's interpreter transformers, by label (shown as `transformation` nodes). Defaults to none. */
    readonly transformers?: ReadonlyMap<string, ReadonlyArray<Transformer.Transformer>> | undefined
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
      const transformers = request.namespace === undefined ? [] : options?.transformers?.get(request.namespace) ?? []
      return Explain.explain(using, transformers, dtab.success, path.success).pipe(
        Effect.timeoutOption(timeout),
        Effect.map((tree): Admin.Reply =>
          tree._tag === "Some"
            ? { status: 200, contentType: "application/json; charset=utf-8", body: JSON.stringify(tree.value) }
            : text(503, "Request timed out.")
        )
      )
    }
  })
