/**
 * Checks of a decoded config that need the whole document or knowledge of what this build can run:
 * unique router labels, no two servers (or a server and the admin server) on one address, and
 * every plugin kind available. `weir check` and the proxy's startup run them before anything
 * starts, and report every problem with its location.
 *
 * @since 0.1.0
 */
import * as Result from "effect/Result"
import * as fs from "node:fs"
import * as Config from "./Config.js"
import * as Delegator from "./Delegator.js"

/**
 * The namer kinds this version can run (those with a builder in `Delegator.namerBuilders`). The others
 * decode (their keys are checked) and are rejected here with a clear message.
 *
 * @since 0.1.0
 * @category constants
 */
export const availableNamers: { readonly [K in Config.Namer["kind"]]: boolean } = Object.fromEntries(
  Object.entries(Delegator.namerBuilders).map(([k, b]) => [k, b !== undefined])
) as { readonly [K in Config.Namer["kind"]]: boolean }

/**
 * The interpreter kinds this version can run.
 *
 * @since 0.1.0
 * @category constants
 */
export const availableInterpreters: { readonly [K in Config.Interpreter["kind"]]: boolean } = {
  "default": true,
  "io.l5d.namerd": false,
  "io.l5d.namerd.http": true,
  "io.l5d.mesh": false,
  "io.l5d.fs": false
}

/**
 * The telemeter kinds this version can run.
 *
 * @since 0.1.0
 * @category constants
 */
export const availableTelemeters: { readonly [K in Config.Telemeter["kind"]]: boolean } = {
  "io.l5d.prometheus": true,
  "io.l5d.influxdb": false,
  "io.l5d.statsd": false,
  "io.l5d.tracelog": false,
  "io.l5d.recentRequests": false,
  "io.l5d.zipkin": false
}

/**
 * The router protocols this version can run.
 *
 * @since 0.1.0
 * @category constants
 */
export const availableProtocols: { readonly [K in Config.RouterConfig["protocol"]]: boolean } = {
  http: true,
  h2: false,
  thrift: false,
  mux: false,
  thriftmux: false
}

const list = (table: Readonly<Record<string, boolean>>): string =>
  Object.entries(table).filter(([, ok]) => ok).map(([k]) => k).join(", ")

const wildcard = (ip: string) => ip === "0.0.0.0" || ip === "::" || ip === "*"

/**
 * Every problem of a decoded config that decoding alone cannot see; empty when it can be run.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (config: Config.Config): Array<Config.Problem> => {
  const problems: Array<Config.Problem> = []
  config.namers.forEach((n, i) => {
    if (!availableNamers[n.kind]) {
      problems.push({
        path: `namers[${i}].kind`,
        message: `namer kind ${n.kind} is not available in this version of weir (available: ${list(availableNamers)})`
      })
    }
  })
  config.telemetry.forEach((t, i) => {
    if (!availableTelemeters[t.kind]) {
      problems.push({
        path: `telemetry[${i}].kind`,
        message: `telemeter kind ${t.kind} is not available in this version of weir (available: ${
          list(availableTelemeters)
        })`
      })
    }
  })
  const labels = new Map<string, number>()
  const bound: Array<{ readonly ip: string; readonly port: number; readonly where: string }> = []
  if (config.admin.port !== 0) bound.push({ ip: config.admin.ip, port: config.admin.port, where: "admin" })
  config.routers.forEach((r, i) => {
    if (!availableProtocols[r.protocol]) {
      problems.push({
        path: `routers[${i}].protocol`,
        message: `protocol ${r.protocol} is not available in this version of weir (available: ${
          list(availableProtocols)
        })`
      })
    }
    if (!availableInterpreters[r.interpreter.kind]) {
      problems.push({
        path: `routers[${i}].interpreter.kind`,
        message: `interpreter kind ${r.interpreter.kind} is not available in this version of weir (available: ${
          list(availableInterpreters)
        })`
      })
    }
    const seen = labels.get(r.label)
    if (seen !== undefined) {
      problems.push({
        path: `routers[${i}].label`,
        message: `router label "${r.label}" is already used by routers[${seen}]; labels must be unique`
      })
    } else labels.set(r.label, i)
    r.servers.forEach((s, j) => {
      if (s.port === 0) return
      const where = `routers[${i}].servers[${j}]`
      const clash = bound.find((b) => b.port === s.port && (b.ip === s.ip || wildcard(b.ip) || wildcard(s.ip)))
      if (clash !== undefined) {
        problems.push({
          path: where,
          message: `${s.ip}:${s.port} conflicts with ${clash.where} (${clash.ip}:${clash.port})`
        })
      } else bound.push({ ip: s.ip, port: s.port, where })
    })
  })
  return problems
}

/**
 * Problems of a config in this environment: an `io.l5d.fs` `rootDir` that is not a directory
 * (relative paths are resolved against the working directory).
 *
 * @since 0.1.0
 * @category validation
 */
export const checkEnvironment = (config: Config.Config): Array<Config.Problem> => {
  const problems: Array<Config.Problem> = []
  config.namers.forEach((n, i) => {
    if (n.kind !== "io.l5d.fs") return
    let ok = false
    try {
      ok = fs.statSync(n.rootDir).isDirectory()
    } catch {
      ok = false
    }
    if (!ok) problems.push({ path: `namers[${i}].rootDir`, message: `${n.rootDir} is not a directory` })
  })
  return problems
}

/**
 * Decodes and validates config text (YAML or JSON): every problem, each with its location, or the
 * config ready to run.
 *
 * @since 0.1.0
 * @category validation
 */
export const check = (text: string): Result.Result<Config.Config, Array<Config.Problem>> => {
  const decoded = Config.parse(text)
  if (Result.isFailure(decoded)) return decoded
  const problems = [...validate(decoded.success), ...checkEnvironment(decoded.success)]
  return problems.length > 0 ? Result.fail(problems) : decoded
}
