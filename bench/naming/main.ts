/**
 * Name binding on the request path. A router identifies each request as a logical name
 * (`/svc/<host>`), composes its dtab with the request's local dtab (`l5d-dtab`), and binds the name.
 * Bindings are cached (`BindingCache`), so the per-request cost is: build the `Path`, show it for
 * the cache key, look it up, read the current bound tree. Measured here, sequentially, over a
 * 12-dentry dtab bound through a static namer mounted at `/#/io.l5d.fs`, with 50 distinct names:
 *
 * - `cached`: the router's dtab value reused, empty local dtab (the common case);
 * - `cached + l5d-dtab`: a one-dentry local dtab parsed per request and passed to `bindLocal` (the
 *   override case), and the parse alone;
 * - `dtab lookup only`: one `Dtab.lookup` step, for scale;
 * - `cold bind`: a new binding each time (subscribe, walk the dtab and namer, first answer).
 *
 * Run: `npm run bench:naming` (`tsx bench/naming/main.ts`). Optional: `--requests N` (default 1000000),
 * `--rounds R` (default 3).
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Address from "../../src/Address.js"
import * as Addr from "../../src/naming/Addr.js"
import * as BindingCache from "../../src/naming/BindingCache.js"
import * as Dtab from "../../src/naming/Dtab.js"
import * as Interpreter from "../../src/naming/Interpreter.js"
import * as Name from "../../src/naming/Name.js"
import * as Namer from "../../src/naming/Namer.js"
import * as NameTree from "../../src/naming/NameTree.js"
import * as Path from "../../src/naming/Path.js"

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const requests = arg("requests", 1_000_000)
const rounds = arg("rounds", 3)
const hosts = Array.from({ length: 50 }, (_, i) => `service-${i}`)

const staticFs = Namer.fromFunction((path) => {
  const [file, ...rest] = path.labels
  if (file === undefined) return NameTree.neg
  const addr = Addr.bound([Address.make("127.0.0.1", 9000 + file.length)])
  return NameTree.leaf(Name.boundConstant(Path.make(file), addr, Path.fromLabels(rest)))
})

const routerDtab = Dtab.read(`
  /ph  => /$/io.buoyant.rinet;
  /srv => /ph/80;
  /srv => /$/io.buoyant.porthostPfx/ph;
  /srv => /#/io.l5d.fs;
  /svc => /srv;
  /svc/legacy => /srv/legacy-v1;
  /a => /b; /b => /c; /c => /d; /d => /e; /e => /f;
  /svc/canary => 0.9 * /srv/stable & 0.1 * /srv/canary;
`)

const time = (label: string, n: number, run: Effect.Effect<unknown, unknown>) =>
  Effect.gen(function*() {
    const start = process.hrtime.bigint()
    yield* run
    const ns = Number(process.hrtime.bigint() - start) / n
    console.log(`${label.padEnd(24)} ${ns.toFixed(0).padStart(6)} ns/request  (${(1e9 / ns / 1000).toFixed(0)}k/s)`)
  })

const scope = Scope.makeUnsafe()
const program = Effect.gen(function*() {
  const interpreter = yield* Interpreter.make({ namers: [[Path.read("/#/io.l5d.fs"), staticFs]] })
  const cache = yield* BindingCache.make(interpreter)
  for (const h of hosts) yield* cache.bind(routerDtab, Path.make("svc", h))
  const cached = Effect.gen(function*() {
    let leaves = 0
    for (let i = 0; i < requests; i++) {
      const tree = yield* cache.bind(routerDtab, Path.make("svc", hosts[i % hosts.length]!))
      if (tree._tag === "Leaf") leaves++
    }
    if (leaves !== requests) throw new Error(`expected leaves, got ${leaves}`)
  })
  const header = "/svc/service-7 => /srv/service-8"
  for (const h of hosts) yield* cache.bindLocal(routerDtab, Dtab.read(header), Path.make("svc", h))
  const withLocal = Effect.gen(function*() {
    for (let i = 0; i < requests / 10; i++) {
      yield* cache.bindLocal(routerDtab, Dtab.read(header), Path.make("svc", hosts[i % hosts.length]!))
    }
  })
  const parseHeader = Effect.sync(() => {
    for (let i = 0; i < requests / 10; i++) Dtab.read(header)
  })
  const lookup = Effect.sync(() => {
    for (let i = 0; i < requests; i++) Dtab.lookup(routerDtab, Path.make("svc", hosts[i % hosts.length]!))
  })
  const coldN = Math.max(1, Math.floor(requests / 200))
  const cold = Effect.gen(function*() {
    for (let i = 0; i < coldN; i++) {
      yield* Interpreter.bindOnce(interpreter, routerDtab, Path.make("svc", hosts[i % hosts.length]!))
    }
  })
  for (let r = 1; r <= rounds; r++) {
    console.log(`round ${r}`)
    yield* time("cached", requests, cached)
    yield* time("cached + l5d-dtab", requests / 10, withLocal)
    yield* time("  (l5d-dtab parse only)", requests / 10, parseHeader)
    yield* time("dtab lookup only", requests, lookup)
    yield* time("cold bind", coldN, cold)
  }
})

Effect.runPromise(Scope.provide(scope)(program)).then(
  () => Effect.runPromise(Scope.close(scope, Exit.void)),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
