/**
 * The namer `io.l5d.fs`: one file per service under `rootDir`, one `host port [* weight]` per line,
 * watched for changes. Built with `namers/Fs.ts`.
 *
 * ```yaml
 * namers:
 * - kind: io.l5d.fs
 *   rootDir: disco          # required
 *   prefix: /io.l5d.fs      # the default
 * ```
 *
 * @since 0.1.0
 */
import * as S from "effect/Schema"
import * as Fs from "../../namers/Fs.js"
import * as Plugin from "../Plugin.js"
import { NonEmptyString } from "../Schemas.js"
import * as Common from "./Common.js"

/**
 * `{kind: io.l5d.fs, rootDir, prefix, experimental}`: `rootDir` is required.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Schema = S.Struct({
  kind: S.Literal("io.l5d.fs"),
  rootDir: NonEmptyString,
  ...Common.fields("/io.l5d.fs")
})

/**
 * The plugin: `Fs.make`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = Plugin.make({
  schema: Schema,
  example: { kind: "io.l5d.fs", rootDir: "disco" },
  make: (config) => Fs.make({ rootDir: config.rootDir, label: Common.label(config) })
})
