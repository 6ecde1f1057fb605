import { describe, expect, it } from "@effect/vitest"
import { h2ProxyFlags, hasH2Router, oneCpuFlags, proxyFlags, restartArgs, restartEnv } from "../../src/cli/Heap.js"

const argv = ["/usr/bin/node", "/opt/weir/bin/weir.js", "proxy", "linkerd.yaml"]

describe("weir proxy heap flags", () => {
  it("restarts `weir proxy` with the default heap flags, keeping node's own arguments", () => {
    expect(restartArgs(argv, ["--import", "tsx"], {})).toEqual([
      "/usr/bin/node",
      ...proxyFlags,
      "--import",
      "tsx",
      "/opt/weir/bin/weir.js",
      "proxy",
      "linkerd.yaml"
    ])
  })

  it("leaves other commands, restarted processes and user-chosen heap flags alone", () => {
    expect(restartArgs(["/usr/bin/node", "weir.js", "check", "c.yaml"], [], {})).toBeUndefined()
    expect(restartArgs(argv, [], { WEIR_RESTARTED: "1" })).toBeUndefined()
    expect(restartArgs(argv, ["--max-old-space-size=2048"], {})).toBeUndefined()
    expect(restartArgs(argv, [], { NODE_OPTIONS: "--max-semi-space-size=16" })).toBeUndefined()
    expect(restartArgs(argv, [], { NODE_OPTIONS: "--optimize-for-size" })).toBeUndefined()
  })

  it("WEIR_NODE_FLAGS replaces the defaults; empty turns the restart off", () => {
    expect(restartArgs(argv, [], { WEIR_NODE_FLAGS: " --max-semi-space-size=8  --jitless " })).toEqual([
      "/usr/bin/node",
      "--max-semi-space-size=8",
      "--jitless",
      "/opt/weir/bin/weir.js",
      "proxy",
      "linkerd.yaml"
    ])
    expect(restartArgs(argv, [], { WEIR_NODE_FLAGS: "" })).toBeUndefined()
  })

  it("a config with an h2 router gets the larger young generation", () => {
    expect(restartArgs(argv, [], {}, true)).toEqual(["/usr/bin/node", ...h2ProxyFlags, ...argv.slice(1)])
    expect(restartArgs(argv, [], { WEIR_NODE_FLAGS: "--jitless" }, true)).toEqual([
      "/usr/bin/node",
      "--jitless",
      ...argv.slice(1)
    ])
    expect(hasH2Router("routers:\n- protocol: h2\n  label: grpc\n")).toBe(true)
    expect(hasH2Router("routers:\n- {protocol: 'h2', label: grpc}\n")).toBe(true)
    expect(hasH2Router(`{"routers": [{"protocol": "h2"}]}`)).toBe(true)
    expect(hasH2Router("routers:\n- protocol: http\n# protocol: h2\n")).toBe(false)
    expect(hasH2Router("routers:\n- protocol: h2c\n")).toBe(false)
  })

  it("on one CPU, the garbage collector runs without helper threads", () => {
    expect(restartArgs(argv, [], {}, false, 1)).toEqual([
      "/usr/bin/node",
      ...proxyFlags,
      ...oneCpuFlags,
      ...argv.slice(1)
    ])
    expect(restartArgs(argv, [], {}, true, 1)).toEqual([
      "/usr/bin/node",
      ...h2ProxyFlags,
      ...oneCpuFlags,
      ...argv.slice(1)
    ])
    expect(restartArgs(argv, [], {}, false, 4)).toEqual(["/usr/bin/node", ...proxyFlags, ...argv.slice(1)])
    // chosen flags are taken as they are
    expect(restartArgs(argv, [], { WEIR_NODE_FLAGS: "--jitless" }, false, 1)).toEqual([
      "/usr/bin/node",
      "--jitless",
      ...argv.slice(1)
    ])
    expect(oneCpuFlags).toEqual(["--single-threaded-gc"])
  })

  it("restarts with one malloc arena unless MALLOC_ARENA_MAX is set, and marks the restart", () => {
    expect(restartEnv({ PATH: "/bin" })).toEqual({ PATH: "/bin", MALLOC_ARENA_MAX: "1", WEIR_RESTARTED: "1" })
    expect(restartEnv({ MALLOC_ARENA_MAX: "4" })).toEqual({ MALLOC_ARENA_MAX: "4", WEIR_RESTARTED: "1" })
  })
})
