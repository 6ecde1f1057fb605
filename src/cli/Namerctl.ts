/**
 * `weir namerctl dtab list|get|create|update|delete`: linkerd's namerctl, the operator's view of
 * namerd's dtabs through its `io.l5d.httpController` API (`--base-url`, else `$NAMERCTL_BASE_URL`,
 * else `http://localhost:4180`).
 *
 * - `list`: one namespace per line;
 * - `get NS`: `# version <etag>` then the dtab, one dentry per line;
 * - `create NS FILE`: creates `NS` from a dtab file (`-` for stdin); fails if it exists;
 * - `update NS FILE [--version V]`: replaces `NS` only if it is still at version `V` — by default
 *   the version read just before, so a concurrent change is never overwritten silently: namerd
 *   answers 412 and namerctl exits `1` saying so;
 * - `delete NS`.
 *
 * Each failure is printed with namerd's answer and exits `1`.
 *
 * @since 0.1.0
 */
import { Argument, Command, Flag } from "effect/cli"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Dentry from "../naming/Dentry.js"
import * as Dtab from "../naming/Dtab.js"
import { ExitCode, readConfigText } from "./ConfigFile.js"

/**
 * Where namerd is when neither `--base-url` nor `$NAMERCTL_BASE_URL` says.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl = "http://localhost:4180"

const fail = (message: string): Effect.Effect<never, ExitCode> =>
  Effect.andThen(Console.error(message), Effect.fail(new ExitCode({ code: 1, message })))

interface Answer {
  readonly status: number
  readonly etag: string | undefined
  readonly body: string
}

const call = (
  baseUrl: string,
  method: string,
  path: string,
  headers?: Record<string, string>,
  body?: string
): Effect.Effect<Answer, ExitCode> =>
  Effect.tryPromise({
    try: async () => {
      const res = await fetch(new URL(path, baseUrl.endsWith("/") ? baseUrl : baseUrl + "/"), {
        method,
        ...(headers !== undefined ? { headers } : {}),
        ...(body !== undefined ? { body } : {})
      })
      return { status: res.status, etag: res.headers.get("etag") ?? undefined, body: await res.text() }
    },
    catch: (e) => e
  }).pipe(
    Effect.catch((e) => fail(`cannot reach namerd at ${baseUrl}: ${e instanceof Error ? e.message : String(e)}`))
  )

const nsPath = (ns: string) => `api/1/dtabs/${encodeURIComponent(ns)}`

const expectStatus = (answer: Answer, ok: number, what: string): Effect.Effect<Answer, ExitCode> =>
  answer.status === ok
    ? Effect.succeed(answer)
    : fail(`${what}: namerd answered ${answer.status}${answer.body.trim() === "" ? "" : `: ${answer.body.trim()}`}`)

/**
 * The namespaces, one per line.
 *
 * @since 0.1.0
 * @category commands
 */
export const listText = (baseUrl: string): Effect.Effect<string, ExitCode> =>
  Effect.gen(function*() {
    const a = yield* expectStatus(yield* call(baseUrl, "GET", "api/1/dtabs"), 200, "list")
    const names = JSON.parse(a.body) as Array<string>
    return names.join("\n")
  })

/**
 * `# version <etag>` and the dtab of `ns`, one dentry per line.
 *
 * @since 0.1.0
 * @category commands
 */
export const getText = (baseUrl: string, ns: string): Effect.Effect<string, ExitCode> =>
  Effect.gen(function*() {
    const a = yield* call(baseUrl, "GET", nsPath(ns), { accept: "application/dtab" })
    if (a.status === 404) return yield* fail(`dtab namespace ${ns} does not exist`)
    yield* expectStatus(a, 200, `get ${ns}`)
    const dtab = Dtab.parseUnsafe(a.body)
    return [`# version ${a.etag ?? ""}`, ...dtab.dentries.map((d) => Dentry.show(d) + ";")].join("\n")
  })

const readDtab = (file: string): Effect.Effect<string, ExitCode> =>
  Effect.gen(function*() {
    const text = yield* readConfigText(file)
    const r = Dtab.parse(text)
    if (Result.isFailure(r)) return yield* fail(`${file}: invalid dtab: ${r.failure.message}`)
    return Dtab.show(r.success)
  })

/**
 * Creates `ns` from a dtab file.
 *
 * @since 0.1.0
 * @category commands
 */
export const create = (baseUrl: string, ns: string, file: string): Effect.Effect<string, ExitCode> =>
  Effect.gen(function*() {
    const body = yield* readDtab(file)
    const a = yield* call(baseUrl, "POST", nsPath(ns), { "content-type": "application/dtab" }, body)
    if (a.status === 409) return yield* fail(`dtab namespace ${ns} already exists`)
    yield* expectStatus(a, 204, `create ${ns}`)
    return `created ${ns}`
  })

/**
 * Replaces `ns` from a dtab file if it is still at `version` (by default, the version read first).
 *
 * @since 0.1.0
 * @category commands
 */
export const update = (
  baseUrl: string,
  ns: string,
  file: string,
  version?: string | undefined
): Effect.Effect<string, ExitCode> =>
  Effect.gen(function*() {
    const body = yield* readDtab(file)
    let v = version
    if (v === undefined) {
      const head = yield* call(baseUrl, "HEAD", nsPath(ns))
      if (head.status === 404) return yield* fail(`dtab namespace ${ns} does not exist`)
      v = (yield* expectStatus(head, 200, `update ${ns}`)).etag
      if (v === undefined) return yield* fail(`update ${ns}: namerd sent no version (ETag)`)
    }
    const a = yield* call(baseUrl, "PUT", nsPath(ns), { "content-type": "application/dtab", "if-match": v }, body)
    if (a.status === 412) {
      return yield* fail(`dtab namespace ${ns} was changed since version ${v}; get it again and retry`)
    }
    if (a.status === 404) return yield* fail(`dtab namespace ${ns} does not exist`)
    yield* expectStatus(a, 204, `update ${ns}`)
    return `updated ${ns}`
  })

/**
 * Deletes `ns`.
 *
 * @since 0.1.0
 * @category commands
 */
export const remove = (baseUrl: string, ns: string): Effect.Effect<string, ExitCode> =>
  Effect.gen(function*() {
    const a = yield* call(baseUrl, "DELETE", nsPath(ns))
    if (a.status === 404) return yield* fail(`dtab namespace ${ns} does not exist`)
    yield* expectStatus(a, 204, `delete ${ns}`)
    return `deleted ${ns}`
  })

const baseUrl = Flag.String("base-url").pipe(
  Flag.optional,
  Flag.withDescription(`namerd's httpController URL (default $NAMERCTL_BASE_URL, else ${defaultBaseUrl})`)
)
const resolveBase = (flag: Option.Option<string>) =>
  Option.getOrElse(flag, () => process.env.NAMERCTL_BASE_URL ?? defaultBaseUrl)
const nsArg = Argument.String("namespace").pipe(Argument.withDescription("dtab namespace, e.g. default"))
const fileArg = Argument.String("file").pipe(Argument.withDescription("dtab file, or - for stdin"))

const printed = (e: Effect.Effect<string, ExitCode>) => Effect.flatMap(e, Console.log)

/**
 * The `namerctl` subcommand.
 *
 * @since 0.1.0
 * @category commands
 */
export const namerctl = Command.make("namerctl").pipe(
  Command.withDescription("Manage namerd's dtabs (linkerd's namerctl)"),
  Command.withSubcommands([
    Command.make("dtab").pipe(
      Command.withDescription("List, show, create, update and delete dtabs"),
      Command.withSubcommands([
        Command.make("list", { baseUrl }, (o) => printed(listText(resolveBase(o.baseUrl)))).pipe(
          Command.withDescription("List the dtab namespaces")
        ),
        Command.make("get", { baseUrl, ns: nsArg }, (o) => printed(getText(resolveBase(o.baseUrl), o.ns))).pipe(
          Command.withDescription("Print a dtab and its version")
        ),
        Command.make(
          "create",
          { baseUrl, ns: nsArg, file: fileArg },
          (o) => printed(create(resolveBase(o.baseUrl), o.ns, o.file))
        ).pipe(Command.withDescription("Create a dtab namespace from a file")),
        Command.make(
          "update",
          {
            baseUrl,
            version: Flag.String("version").pipe(
              Flag.optional,
              Flag.withDescription("Only update if the dtab is at this version (default: the version read first)")
            ),
            ns: nsArg,
            file: fileArg
          },
          (o) => printed(update(resolveBase(o.baseUrl), o.ns, o.file, Option.getOrUndefined(o.version)))
        ).pipe(Command.withDescription("Replace a dtab from a file, unless it changed meanwhile")),
        Command.make("delete", { baseUrl, ns: nsArg }, (o) => printed(remove(resolveBase(o.baseUrl), o.ns))).pipe(
          Command.withDescription("Delete a dtab namespace")
        )
      ])
    )
  ])
)
