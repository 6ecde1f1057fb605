/**
 * node-zookeeper-client 1.1.3 throws from its socket listener on an error code it does not know
 * (ZooKeeper 3.5+ answers `-12` around an expired session, among others): an uncaught exception.
 * src/namers/zk/Guard.ts makes such a code an error of the one call, and any other throw while an
 * answer is read a closed connection.
 */
import { describe, expect, it } from "@effect/vitest"
import { createRequire } from "node:module"
import { guard, guardCodes } from "../../src/namers/zk/Guard.js"

const require = createRequire(import.meta.url)

describe("node-zookeeper-client guards", () => {
  it("the client's own exception factory names a code it does not know instead of throwing", () => {
    const Exception = require("node-zookeeper-client/lib/Exception.js") as {
      create: (code: number, path?: string) => Error & { getCode(): number }
    }
    const unknown = Exception.create(-12, "/svc/web")
    expect(unknown.message).toBe("Exception: ZooKeeper error -12, unknown to node-zookeeper-client@/svc/web")
    expect(unknown.getCode()).toBe(-12)
    // known codes are the client's own exceptions, as before
    expect(Exception.create(-101, "/svc/web").message).toBe("Exception: NO_NODE[-101]@/svc/web")
  })

  it("guardCodes and guard wrap once; a throw while an answer is read closes the connection", () => {
    const exceptions = {
      create: (code: number): Error => {
        if (code !== 0) throw new Error(`Unknown code: ${code}`)
        return new Error("OK")
      }
    }
    guardCodes(exceptions)
    const once = exceptions.create
    guardCodes(exceptions)
    expect(exceptions.create).toBe(once)
    expect(exceptions.create(0).message).toBe("OK")
    expect(exceptions.create(-13).message).toBe("Exception: ZooKeeper error -13, unknown to node-zookeeper-client")

    let destroyed = 0
    const proto = {
      onSocketData(this: unknown, _buffer: Buffer): void {
        throw new Error("cannot read the answer")
      }
    }
    guard(proto)
    const wrapped = proto.onSocketData
    guard(proto)
    expect(proto.onSocketData).toBe(wrapped)
    const manager = { socket: { destroy: () => void destroyed++ } }
    expect(() => proto.onSocketData.call(manager, Buffer.alloc(0))).not.toThrow()
    expect(destroyed).toBe(1)
  })
})
