/**
 * Plugins that carry their config. A plugin is one `kind` of a linkerd plugin family (a balancer,
 * a failure accrual policy, a namer, …): its `Schema` (linkerd's keys and defaults, `kind` a
 * literal) and its constructor (the decoded config → the core value the family builds). A
 * `Registry` holds one family: the `Schema.Union` of its plugins (what the config file decodes
 * with) and the exhaustive `kind → constructor` table.
 *
 * Kinds linkerd has that weir does not run yet are registered as `unavailable` (with the keys
 * linkerd documents for them): they fail with `<family> kind <kind> is not available in this
 * version of weir (available: …)` at their `kind`, together with the problems of their keys — in
 * the same decode, the same problem list.
 *
 * ```ts
 * // src/config/balancer/RoundRobin.ts
 * export const plugin = Plugin.make({
 *   schema: Schema.Struct({ kind: Schema.Literal("roundRobin"), maxEffort: … }),
 *   example: { kind: "roundRobin" },
 *   make: (config) => RoundRobin.factory({ maxEffort: config.maxEffort })
 * })
 * // src/config/balancer/index.ts
 * export const registry = Plugin.registry("balancer", [P2C.plugin, …, RoundRobin.plugin])
 * ```
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

/**
 * One kind of a plugin family: `schema` decodes the config of that kind (a struct whose `kind` is a
 * literal, or literals when linkerd accepts older spellings), `make` builds the core value from the
 * decoded config, `example` is the smallest config the kind accepts (as written in YAML; the plugin
 * tests decode it and build it).
 *
 * @since 0.1.0
 * @category model
 */
export interface Plugin<S extends Schema.Top, A> {
  readonly kind: string
  readonly aliases: ReadonlyArray<string>
  readonly schema: S
  readonly example: S["Encoded"]
  readonly make: (config: S["Type"]) => A
}

/**
 * A kind linkerd has and weir does not run: its name and the keys linkerd documents for it.
 *
 * @since 0.1.0
 * @category model
 */
export interface Unavailable {
  readonly kind: string
  readonly fields: Schema.Struct.Fields
}

/**
 * One plugin family: the union of its kinds' schemas, the available and unavailable kinds, and
 * `make`, which builds the core value of any decoded config of the family.
 *
 * @since 0.1.0
 * @category model
 */
export interface Registry<T, E, A> {
  /** The family's name in messages (`namer`, `balancer`). */
  readonly family: string
  readonly schema: Schema.Codec<T, E>
  /** The kinds this version runs, canonical spelling, in registration order. */
  readonly kinds: ReadonlyArray<string>
  /** The kinds linkerd has that decode and are reported as not available. */
  readonly unavailable: ReadonlyArray<string>
  readonly plugins: ReadonlyArray<Plugin<Schema.Top, A>>
  readonly make: (config: T) => A
}

type AnyPlugin = Plugin<any, any>

const kindLiterals = (ast: Schema.Top["ast"]): ReadonlyArray<string> => {
  if (ast._tag !== "Objects") return []
  const ps = ast.propertySignatures.find((p) => p.name === "kind")
  if (ps === undefined) return []
  if (ps.type._tag === "Literal") return [String(ps.type.literal)]
  if (ps.type._tag === "Union") {
    return ps.type.types.flatMap((t) => t._tag === "Literal" ? [String(t.literal)] : [])
  }
  return []
}

/**
 * A plugin from its schema, its smallest config and its constructor. The kind (and its older
 * spellings) is read from the schema's `kind` literal(s); the first is the canonical one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <S extends Schema.Top, A>(options: {
  readonly schema: S
  readonly example: S["Encoded"]
  readonly make: (config: S["Type"]) => A
}): Plugin<S, A> => {
  const [kind, ...aliases] = kindLiterals(options.schema.ast)
  if (kind === undefined) throw new Error("a plugin schema needs a literal `kind`")
  return { kind, aliases, schema: options.schema, example: options.example, make: options.make }
}

/**
 * A kind linkerd documents and weir does not run yet, with the keys linkerd accepts for it (checked
 * when the kind is reported as not available, so every problem of the entry is listed at once).
 *
 * @since 0.1.0
 * @category constructors
 */
export const unavailable = (kind: string, fields: Schema.Struct.Fields = {}): Unavailable => ({ kind, fields })

/**
 * A family's registry: the union of the plugins' schemas (then the unavailable kinds') and the
 * `kind → make` table.
 *
 * @since 0.1.0
 * @category constructors
 */
export const registry = <const Ps extends ReadonlyArray<AnyPlugin>>(
  family: string,
  plugins: Ps,
  unavailable: ReadonlyArray<Unavailable> = []
): Registry<
  Ps[number]["schema"]["Type"],
  Ps[number]["schema"]["Encoded"],
  ReturnType<Ps[number]["make"]>
> => {
  const kinds = plugins.map((p) => p.kind)
  const message = (kind: string) =>
    `${family} kind ${kind} is not available in this version of weir (available: ${kinds.join(", ")})`
  const rejected = unavailable.map((u) => {
    const keys = Schema.Struct({ kind: Schema.Literal(u.kind), ...u.fields })
    return Schema.StructWithRest(Schema.Struct({ kind: Schema.Literal(u.kind) }), [
      Schema.Record(Schema.String, Schema.Unknown)
    ]).check(
      Schema.makeFilter((input, _ast, options) => {
        const notAvailable = { path: ["kind"], issue: message(u.kind) }
        const checked = Schema.decodeUnknownResult(keys)(input, options)
        return Result.isSuccess(checked) ? notAvailable : [notAvailable, checked.failure.issue]
      })
    )
  })
  const byKind = new Map<string, AnyPlugin>()
  for (const p of plugins) for (const k of [p.kind, ...p.aliases]) byKind.set(k, p)
  const schema = Schema.Union([...plugins.map((p) => p.schema as Schema.Top), ...rejected])
  return {
    family,
    schema: schema as unknown as Schema.Codec<Ps[number]["schema"]["Type"], Ps[number]["schema"]["Encoded"]>,
    kinds,
    unavailable: unavailable.map((u) => u.kind),
    plugins,
    make: (config) => {
      const kind = (config as { readonly kind: string }).kind
      const plugin = byKind.get(kind)
      if (plugin === undefined) throw new Error(`${family} kind ${kind} was decoded but has no constructor`)
      return plugin.make(config)
    }
  }
}
