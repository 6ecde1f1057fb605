/**
 * The `io.l5d.rewrite` namer: rewrites a name into another name, which is resolved again through the
 * dtab. `pattern` is matched (by prefix) against the path the namer receives (what follows its
 * `prefix`), with linkerd's syntax: literal segments, `*` for any one segment and `{var}` captures;
 * on a match, every `{var}` in `name` is replaced by its captured value and the result, a path, is
 * the answer (a `Leaf` path, which re-enters the dtab). No match is `Neg`. The answer never changes,
 * so a lookup opens no watch.
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.rewrite
 *   prefix: /rewrite                    # required
 *   pattern: "/{service}/api"
 *   name: "/srv/{service}"
 * # /#/rewrite/users/api/v1 => /srv/users
 * ```
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"
import * as Name from "../naming/Name.js"
import * as Namer from "../naming/Namer.js"
import * as NameTree from "../naming/NameTree.js"
import * as Path from "../naming/Path.js"
import * as PathMatcher from "../naming/PathMatcher.js"

/**
 * Options of `make`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** What a received path must start with; its `{var}` captures feed `name`. */
  readonly pattern: PathMatcher.PathMatcher
  /** The rewritten name, with `{var}` placeholders. */
  readonly name: string
}

/**
 * The rewritten path of `path` (`undefined` when `pattern` does not match), or a failure when the
 * substituted text is not a path.
 *
 * @since 0.1.0
 * @category rewriting
 */
export const rewrite = (options: Options, path: Path.Path): Result.Result<Path.Path, string> | undefined => {
  const vars = PathMatcher.match(options.pattern, path)
  if (vars === undefined) return undefined
  let text = options.name
  for (const [k, v] of Object.entries(vars)) text = text.split(`{${k}}`).join(v)
  const parsed = Path.parse(text)
  return Result.isSuccess(parsed)
    ? Result.succeed(parsed.success)
    : Result.fail(`rewritten name ${JSON.stringify(text)} is not a path: ${parsed.failure.message}`)
}

/**
 * The rewriting namer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Namer.Namer => ({
  lookup: (path) =>
    Stream.suspend((): Stream.Stream<NameTree.NameTree<Name.Name>, Namer.NamerError> => {
      const r = rewrite(options, path)
      if (r === undefined) return Name.constant<NameTree.NameTree<Name.Name>>(NameTree.neg)
      if (Result.isFailure(r)) {
        return Stream.fail(new Namer.NamerError({ path: Path.show(path), reason: r.failure }))
      }
      return Name.constant(NameTree.leaf<Name.Name>(r.success))
    })
})
